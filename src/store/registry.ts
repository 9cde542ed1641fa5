/**
 * The model registry: every trained model as an immutable, numbered version, aliases that
 * point at versions, and an append-only event log. Plain files under output_model_path:
 *
 *   registry/versions/v0001/model.json     the model file, byte for byte as first registered
 *   registry/versions/v0001/version.json   what the version is (VersionRecord), written last
 *   registry/index.jsonl                   one VersionRecord per line (a cache for fast listing)
 *   registry/aliases.json                  {"challenger": 3, "staging": 2}  (not champion: see below)
 *   registry/events.jsonl                  one RegistryEvent per line
 *
 * A version folder is filled under a hidden staging name and renamed to its number, so a
 * version either exists whole or not at all; the index is appended after that, and a version
 * missing from the index (a crash in between) is found by listing the folder. Identical model
 * content (the model file without its training time) is one version, never two.
 *
 * The champion is the version the production folder serves: production's `current` release is
 * the one source of truth for it (switched atomically by rename), so an alias can never point
 * at a half-published model. Writers of aliases and versions hold the registry mutex; readers
 * never need it (every file is replaced by rename or only appended to).
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, opendir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { versionName } from './names.js';
import { appendJsonLine, sha256Text, syncTree, writeFileAtomic } from './atomic.js';
import { readLog, readRecord, shape, type Shape } from './statefile.js';
import type { Config } from './config.js';
import { isAlive } from './releases.js';
import { acquireLock, LockedError, type Lock } from './lock.js';

export interface VersionRecord {
  version: number;
  name: string;
  /** SHA-256 of the model's content: the model file without its training time (canonical JSON). */
  content_sha256: string;
  /** SHA-256 of model.json's bytes. */
  model_sha256: string;
  created: string;
  model_type: string;
  target: string;
  features: string[];
  settings: Record<string, unknown>;
  training_data: { sha256: string; rows: number };
  ingestion: { timestamp: string; input_folder: string; output_sha256: string } | null;
  /** The champion when this version was trained: the version it was trained to replace. */
  replaces: number | null;
  tags: Record<string, string>;
  note: string | null;
  /** How it came in: "train", "deploy" (a model file registered on deploy), "migrated release v0002". */
  source: string;
}

/** What the index keeps of a version: enough to list, find by content and map hashes. */
export type VersionSummary = Pick<
  VersionRecord,
  'version' | 'name' | 'content_sha256' | 'model_sha256' | 'created' | 'model_type' | 'tags' | 'note'
> & { training_rows: number };

const summary = (r: VersionRecord): VersionSummary => ({
  version: r.version,
  name: r.name,
  content_sha256: r.content_sha256,
  model_sha256: r.model_sha256,
  created: r.created,
  model_type: r.model_type,
  training_rows: r.training_data?.rows ?? 0,
  tags: r.tags ?? {},
  note: r.note ?? null,
});

export type EventKind =
  | 'registered'
  | 'evaluated'
  | 'promoted'
  | 'rejected'
  | 'rolled_back'
  | 'alias_set'
  | 'drift_detected';

export const EVENT_KINDS: readonly EventKind[] = ['registered', 'evaluated', 'promoted', 'rejected', 'rolled_back', 'alias_set', 'drift_detected'];

export interface RegistryEvent {
  time: string;
  kind: EventKind;
  version: number | null;
  alias: string | null;
  /** The version the alias pointed at before (promoted, rolled_back, alias_set). */
  previous: number | null;
  reason: string;
  /** The command line that did it. */
  command: string;
  forced?: boolean;
  details?: Record<string, unknown>;
}


export { versionName };

export const registryPaths = (cfg: Config) => {
  const root = join(cfg.output_model_path, 'registry');
  return {
    root,
    versions: join(root, 'versions'),
    index: join(root, 'index.jsonl'),
    aliases: join(root, 'aliases.json'),
    events: join(root, 'events.jsonl'),
    mutex: join(root, '.mutex'),
    hookLog: join(root, 'hooks.log'),
  };
};

/** Canonical JSON: keys sorted at every level, so equal content gives equal bytes. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Content hash of a model file: everything but the training time. */
export function modelContentHash(modelText: string): string {
  const m = JSON.parse(modelText) as Record<string, unknown>;
  const rest = { ...m };
  delete rest.trained_at;
  return createHash('sha256').update(canonical(rest)).digest('hex');
}

export const INDEX_LINE = shape<VersionSummary>('registry index line', { version: 'integer', name: 'string', content_sha256: 'string', model_sha256: 'string', created: 'string' });
const EVENT_LINE = shape<RegistryEvent>('registry event', { time: 'string', kind: 'string' });

const VERSION_FILE = shape<VersionRecord>('version record', {
  version: 'integer', name: 'string', content_sha256: 'string', model_sha256: 'string', created: 'string', features: 'array', training_data: 'object', settings: 'object',
});

/**
 * Every complete version, ascending, as the index summarises it, plus any folder the index does
 * not know yet (a crash between the folder's rename and the index append). Only folders whose
 * name is a version are complete: staging folders are hidden.
 */
export async function listVersions(cfg: Config): Promise<VersionSummary[]> {
  const rp = registryPaths(cfg);
  const byVersion = new Map<number, VersionSummary>();
  for (const r of await readLog(rp.index, INDEX_LINE)) byVersion.set(r.version, r);
  const entries = await readdir(rp.versions).catch(() => [] as string[]);
  const found: VersionSummary[] = [];
  for (const e of entries) {
    const m = /^v(\d+)$/.exec(e);
    if (!m || byVersion.has(Number(m[1]))) continue;
    const rec = await readVersionFile(join(rp.versions, e, 'version.json'));
    if (rec) found.push(summary(rec));
  }
  if (found.length) {
    for (const f of found) byVersion.set(f.version, f);
    // Repair the index in one append (a duplicate line from a racing repair is harmless: the
    // version number is the key); a read-only folder just stays slower.
    await appendFile(rp.index, found.map((f) => JSON.stringify(f) + '\n').join('')).catch(() => undefined);
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/** Whether any version folder exists (reads the folder only up to the first one: 10,000 versions cost no more than one). */
export async function hasVersions(cfg: Config): Promise<boolean> {
  const dir = await opendir(registryPaths(cfg).versions).catch(() => null);
  if (!dir) return false;
  for await (const e of dir) if (/^v\d+$/.test(e.name)) return true;
  return false;
}

async function readVersionFile(path: string): Promise<VersionRecord | null> {
  return readRecord(path, VERSION_FILE, 'a version folder is immutable: restore it from a backup, or move the folder away');
}

/** One version, or a StateError that names it. */
export async function getVersion(cfg: Config, version: number): Promise<VersionRecord> {
  const rec = await readVersionFile(join(registryPaths(cfg).versions, versionName(version), 'version.json'));
  if (!rec) {
    throw new StateError(`${registryPaths(cfg).versions}: there is no model version ${versionName(version)}`, 'list the versions with `mlops models`');
  }
  return rec;
}

export const versionModelPath = (cfg: Config, version: number) =>
  join(registryPaths(cfg).versions, versionName(version), 'model.json');

export async function findByContent(cfg: Config, contentSha: string): Promise<VersionSummary | null> {
  return (await listVersions(cfg)).find((v) => v.content_sha256 === contentSha) ?? null;
}

/**
 * The registry mutex: held only for short read-modify-write sections (register, alias moves,
 * promotion, rollback), so waiting is bounded: after `timeoutMs` it gives up with a StateError.
 */
export async function withRegistryLock<T>(cfg: Config, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const rp = registryPaths(cfg);
  await mkdir(rp.root, { recursive: true });
  const t0 = Date.now();
  let lock: Lock;
  // The run lock's mechanism (complete record linked into place, stale by pid and start time,
  // race-free takeover), waited for instead of refused.
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      lock = await acquireLock(rp.mutex);
      break;
    } catch (err) {
      if (!(err instanceof LockedError)) throw err;
      if (Date.now() - t0 > timeoutMs) {
        throw new StateError(`${rp.mutex}: the registry is held by another mlops process for over ${timeoutMs / 1000} s (${err.message})`, 'wait for it to finish, or remove the file if no mlops runs');
      }
      await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
    }
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

export interface RegisterInput {
  modelText: string;
  model_type: string;
  target: string;
  features: string[];
  settings: Record<string, unknown>;
  training_data: { sha256: string; rows: number };
  ingestion: VersionRecord['ingestion'];
  replaces: number | null;
  tags?: Record<string, string>;
  note?: string | null;
  source: string;
  created?: string;
}

/**
 * Register a model as a new version, or return the version that already has its content.
 * Takes the mutex unless the caller holds it (`locked`).
 */
export async function registerModel(
  cfg: Config,
  input: RegisterInput,
  locked = false,
): Promise<{ record: VersionSummary; created: boolean }> {
  const content = modelContentHash(input.modelText);
  const body = async () => {
    const existing = await findByContent(cfg, content);
    if (existing) return { record: existing, created: false };
    const rp = registryPaths(cfg);
    await mkdir(rp.versions, { recursive: true });
    await removeStaleVersionStaging(cfg);
    const versions = await listVersions(cfg);
    const used = new Set((await readdir(rp.versions)).filter((e) => /^v\d+$/.test(e)).map((e) => Number(e.slice(1))));
    let version = Math.max(0, ...versions.map((v) => v.version), ...used) + 1;
    const record: VersionRecord = {
      version,
      name: versionName(version),
      content_sha256: content,
      model_sha256: sha256Text(input.modelText),
      created: input.created ?? new Date().toISOString(),
      model_type: input.model_type,
      target: input.target,
      features: input.features,
      settings: input.settings,
      training_data: input.training_data,
      ingestion: input.ingestion,
      replaces: input.replaces,
      tags: input.tags ?? {},
      note: input.note ?? null,
      source: input.source,
    };
    const staging = join(rp.versions, `.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(staging);
    try {
      await writeFile(join(staging, 'model.json'), input.modelText);
      await writeFile(join(staging, 'version.json'), JSON.stringify(record, null, 2) + '\n');
      await syncTree(staging);
      // A folder of that number left by someone else (we hold the mutex, so only by hand or
      // by a crash of an older mlops): take the next free number.
      for (;;) {
        try {
          await rename(staging, join(rp.versions, versionName(version)));
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
          version++;
          record.version = version;
          record.name = versionName(version);
          await writeFile(join(staging, 'version.json'), JSON.stringify(record, null, 2) + '\n');
        }
      }
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    await appendJsonLine(rp.index, summary(record));
    return { record: summary(record), created: true };
  };
  return locked ? body() : withRegistryLock(cfg, body);
}

export async function removeStaleVersionStaging(cfg: Config): Promise<void> {
  const dir = registryPaths(cfg).versions;
  for (const e of await readdir(dir).catch(() => [] as string[])) {
    if (!e.startsWith('.staging-')) continue;
    const pid = Number(e.split('-')[1]);
    if (pid !== process.pid && !isAlive(pid)) await rm(join(dir, e), { recursive: true, force: true });
  }
}

/** User-defined aliases and challenger (champion is production's current release). */
const ALIASES: Shape<Record<string, number>> = {
  what: 'registry alias file (alias -> version number)',
  check: (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
    const bad = Object.entries(v).find(([, n]) => !Number.isInteger(n) || (n as number) < 1);
    return bad ? `alias "${bad[0]}" must be a version number` : null;
  },
};

export async function readAliases(cfg: Config): Promise<Record<string, number>> {
  return (await readRecord(registryPaths(cfg).aliases, ALIASES, 'fix it or delete it: aliases other than champion are then unset')) ?? {};
}

/** Set (or with null, remove) an alias. Caller holds the mutex. */
export async function writeAlias(cfg: Config, alias: string, version: number | null): Promise<number | null> {
  const aliases = await readAliases(cfg);
  const previous = aliases[alias] ?? null;
  if (version === null) delete aliases[alias];
  else aliases[alias] = version;
  await writeFileAtomic(registryPaths(cfg).aliases, JSON.stringify(aliases, null, 2) + '\n');
  return previous;
}

/** The event log; `championOnly` parses only the champion's events (what championStack needs). */
export async function readEvents(cfg: Config, championOnly = false): Promise<RegistryEvent[]> {
  const keep = championOnly ? (line: string) => line.includes('"alias":"champion"') : undefined;
  return readLog(registryPaths(cfg).events, EVENT_LINE, keep);
}

/** The command line of this process, for the event log. */
export const commandLine = () => ['mlops', ...process.argv.slice(2)].join(' ');

/** Append an event and run the hooks that ask for its kind (their failures never propagate). */
export async function appendEvent(
  cfg: Config,
  e: Omit<RegistryEvent, 'time' | 'command' | 'alias' | 'previous'> & Partial<Pick<RegistryEvent, 'alias' | 'previous'>>,
): Promise<RegistryEvent> {
  const event: RegistryEvent = { time: new Date().toISOString(), alias: null, previous: null, command: commandLine(), ...e };
  await appendJsonLine(registryPaths(cfg).events, event);
  const { runHooks } = await import('./hooks.js');
  await runHooks(cfg, event);
  return event;
}

/**
 * The champions in order, as the event log tells them: each promotion pushes a version, each
 * rollback pops one. Rollback goes to the entry below the top, and only versions that were
 * champion are ever on it.
 */
export function championStack(events: readonly RegistryEvent[]): number[] {
  const stack: number[] = [];
  for (const e of events) {
    if (e.alias !== 'champion' || e.version === null) continue;
    if (e.kind === 'promoted') {
      if (stack.at(-1) !== e.version) stack.push(e.version);
    } else if (e.kind === 'rolled_back') {
      stack.pop();
      if (stack.at(-1) !== e.version) stack.push(e.version);
    }
  }
  return stack;
}
