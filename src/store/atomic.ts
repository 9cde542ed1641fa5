/**
 * Files are always written to a temporary name in the destination folder and renamed into
 * place, so a reader or a crash sees either the old file or the new one, never half of one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temp path beside `target`, hidden and unique, so the final rename stays on one file system. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** fsync a file (and ignore platforms where fsync of a directory is not allowed). */
export async function syncPath(path: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch {
    // Directories cannot be opened for sync on every platform; durability is best effort there.
  } finally {
    await fh?.close();
  }
}

/** Temp names this toolkit makes: `<name>.<pid>.<8 hex>.tmp` (tempPathFor, swapSymlink, the lock). */
const TEMP_NAME = /\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Remove temp files and links of ours in a folder whose writer is gone (killed mid-write); a
 * live writer's temp file is left alone. Returns the names removed.
 */
export async function removeStaleTemps(dir: string, alive: (pid: number) => boolean): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = TEMP_NAME.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    await rm(join(dir, name), { force: true, recursive: true }).then(() => removed.push(name), () => undefined);
  }
  return removed;
}

/** Write `data` to `target` atomically (temp file + fsync + rename). */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncPath(dirname(target));
}

/**
 * Move an already written temp file into place. Used when another writer (DuckDB's COPY)
 * produced the file.
 */
export async function commitTempFile(tmp: string, target: string): Promise<void> {
  await syncPath(tmp);
  await rename(tmp, target);
  await syncPath(dirname(target));
}

/** Append one JSON record as a line. A single small append is one write(2) call. */
export async function appendJsonLine(path: string, record: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // After a torn write (no final newline) start a new line, so the torn piece stays a line of
  // its own that readers skip, and this record stays whole.
  const torn = await endsWithoutNewline(path);
  await appendFile(path, (torn ? '\n' : '') + JSON.stringify(record) + '\n');
}

async function endsWithoutNewline(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
    const { size } = await fh.stat();
    if (size === 0) return false;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] !== 10;
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

/**
 * Read a JSON-lines file; a missing file is an empty list. A torn last line (a crash in the
 * middle of an append) is skipped rather than failing every later reader.
 */
export async function readJsonLines<T>(path: string, keep?: (line: string) => boolean): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || (keep && !keep(line))) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // torn line: ignore
    }
  }
  return out;
}

export async function sha256File(path: string): Promise<string> {
  return (await scanFile(path)).sha256;
}

/**
 * SHA-256 of a file and its number of lines (newline count, plus one for a last line without
 * a newline), in one read. A large file scanned before by this process, and unchanged since
 * (same device, inode, size, modification and change times), is not read again: `mlops run`
 * hashes the input files to find new ones, then ingest would hash them once more.
 */
export async function scanFile(path: string): Promise<{ sha256: string; lines: number }> {
  const fh = await open(path, 'r');
  try {
    const before = await fh.stat({ bigint: true });
    const key = `${before.dev}:${before.ino}`;
    const id = `${before.size}:${before.mtimeNs}:${before.ctimeNs}`;
    const known = scanned.get(key);
    if (known && known.id === id) return known.scan;
    const scan = await scanHandle(fh, Number(before.size));
    const after = await fh.stat({ bigint: true });
    if (before.size > WHOLE_READ && `${after.size}:${after.mtimeNs}:${after.ctimeNs}` === id) {
      scanned.delete(key);
      scanned.set(key, { id, scan });
      if (scanned.size > 64) scanned.delete(scanned.keys().next().value!);
    }
    return scan;
  } finally {
    await fh.close();
  }
}

/** Scans of files over 1 MiB by device and inode, with what identified their content then (at most 64). */
const scanned = new Map<string, { id: string; scan: { sha256: string; lines: number } }>();

async function scanHandle(fh: FileHandle, size: number): Promise<{ sha256: string; lines: number }> {
  const hash = createHash('sha256');
  let lines = 0;
  let last = 10;
  const take = (buf: Buffer) => {
    hash.update(buf);
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines++;
    if (buf.length) last = buf[buf.length - 1]!;
  };
  // A small file (test data, a model, a release's files) in one read; a larger one through one
  // reused 1 MiB buffer, never whole in memory (ingest hashes its input files while DuckDB
  // reads them: read whole, or by a read stream's new buffer per chunk, they were ~17 MB of
  // garbage per million rows at ingest's peak).
  if (size <= WHOLE_READ) take(await fh.readFile());
  else {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      take(buf.subarray(0, bytesRead));
    }
  }
  if (last !== 10) lines++;
  return { sha256: hash.digest('hex'), lines };
}

const WHOLE_READ = 1 << 20;

export function sha256Text(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * fsync every file of a folder, then the folder itself, before the folder is published by
 * rename. The files at once: the file system commits them together (one journal commit instead
 * of one per file).
 */
export async function syncTree(dir: string): Promise<void> {
  await Promise.all((await readdir(dir)).map((name) => syncPath(join(dir, name))));
  await syncPath(dir);
}
