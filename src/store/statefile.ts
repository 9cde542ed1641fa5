/**
 * The one reader of the state files the toolkit reads back: the append-only logs (.jsonl) and
 * the JSON records (manifest.json, aliases.json, loop_state.json, ...). Every record is checked
 * for its shape, and a bad one is named by file and line.
 *
 * A line that is not JSON at all is a torn write (a crash or a full disk in the middle of an
 * append): it is skipped with a warning, never fatal, wherever it is (appendJsonLine starts a
 * new line after one, so a torn piece stays on its own line). A line that is JSON of the wrong
 * shape (`null`, a hand edit) is a StateError naming the file and line: mlops will not guess
 * what a record meant.
 */
import { readFile } from 'node:fs/promises';
import { StateError } from '../errors.js';
import { warn } from '../warnings.js';

/** A shape check: null when the value fits, else what is wrong with it (a few words). */
export type Shape<T> = { what: string; check: (v: unknown) => string | null; _t?: T };

const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Build a shape from required fields and their kinds. */
export function shape<T>(what: string, fields: Record<string, 'string' | 'number' | 'object' | 'array' | 'integer'>): Shape<T> {
  return {
    what,
    check: (v) => {
      if (!obj(v)) return `not an object (${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v})`;
      for (const [k, kind] of Object.entries(fields)) {
        const x = v[k];
        const ok =
          kind === 'array' ? Array.isArray(x)
          : kind === 'object' ? obj(x)
          : kind === 'integer' ? Number.isInteger(x)
          : typeof x === kind;
        if (!ok) return `"${k}" is not ${kind === 'integer' || kind === 'array' || kind === 'object' ? `an ${kind}` : `a ${kind}`}`;
      }
      return null;
    },
  };
}

const describe = (path: string, line: number | null) => (line === null ? path : `${path}: line ${line}`);

/**
 * Records of a JSON-lines log; a missing file is an empty log. `keep` pre-filters lines by
 * their text (cheap) before they are parsed.
 */
export async function readLog<T>(path: string, s: Shape<T>, keep?: (line: string) => boolean): Promise<T[]> {
  const text = await readText(path);
  if (text === null) return [];
  const out: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim() || (keep && !keep(line))) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      warn(`${describe(path, i + 1)}: not a complete record (a write cut short by a crash?), skipped`);
      continue;
    }
    const bad = s.check(v);
    if (bad) {
      throw new StateError(
        `${describe(path, i + 1)}: not a ${s.what}: ${bad}`,
        `fix or delete line ${i + 1} of ${path} (it was edited or damaged)`,
      );
    }
    out.push(v as T);
  }
  return out;
}

/** One JSON record; null when the file does not exist. */
export async function readRecord<T>(path: string, s: Shape<T>, hint: string): Promise<T | null> {
  const text = await readText(path);
  if (text === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${path}: not valid JSON (${(err as Error).message.split('\n')[0]}): a damaged or truncated ${s.what}`, hint);
  }
  const bad = s.check(v);
  if (bad) throw new StateError(`${path}: not a ${s.what}: ${bad}`, hint);
  return v as T;
}

/** A file's text, null when it does not exist; other failures name the file. */
async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') {
      throw new StateError(`${path}: a folder on the way is a regular file`, 'restore the folder layout (see the README) or remove the file in its place');
    }
    if (code === 'EISDIR') throw new StateError(`${path}: is a folder, not a file`, 'remove the folder in its place');
    if (code === 'EACCES' || code === 'EPERM') throw new StateError(`${path}: not readable (${code})`, 'fix its permissions');
    throw new StateError(`${path}: cannot be read (${code ?? String(err)})`, 'check the file system');
  }
}
