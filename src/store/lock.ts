/**
 * A lock file so two runs never overlap (cron firing while the last run is still going).
 *
 * Taken atomically: the complete record is written to a temp file that is then hard-linked to
 * the lock name; link(2) fails with EEXIST when the name exists, so exactly one of any number of
 * runs started at once wins, and the lock name never exists empty or half-written.
 *
 * The record holds the owner's pid and, on Linux, its boot id and start time (field 22 of
 * /proc/<pid>/stat). A lock is stale when its owner is dead, or when its pid now belongs to
 * another process (a different start time or boot); a lock file that cannot be read at all is
 * stale once it is older than UNREADABLE_STALE_MS. Elsewhere only the pid is checked.
 *
 * A stale lock is taken over under a takeover guard (a second link(2)-made file): only the guard's
 * holder may replace the stale lock (rename(2) of its own record over it, so the name never
 * stands empty for another taker to grab), after checking it is still the same file, so two runs
 * that both saw it stale never both win, and the winner is the one that reports the takeover. The lock is also released when the process exits through
 * process.exit (a second SIGTERM), not only through release().
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { copyFile, link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { constants, readFileSync, unlinkSync } from 'node:fs';
import { StateError } from '../errors.js';
import { isAlive } from './releases.js';

export interface LockInfo {
  pid: number;
  host: string;
  started: string;
  /** Linux: /proc/sys/kernel/random/boot_id of the owner's boot. */
  boot_id?: string | null;
  /** Linux: the owner's start time, clock ticks since boot (/proc/<pid>/stat field 22). */
  start_ticks?: string | null;
  /** Unique per acquisition, so a release never removes someone else's lock. */
  token?: string;
}

export class LockedError extends StateError {}

export interface Lock {
  path: string;
  /** Whether a stale lock of a dead process was taken over. */
  tookOver: LockInfo | null;
  release(): Promise<void>;
  /** For signal handlers that must exit at once. */
  releaseSync(): void;
}

/** A lock file nobody can read (torn by an older mlops, a full disk) is stale after this long. */
export const UNREADABLE_STALE_MS = 10_000;

const readProc = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** The boot id of this machine's current boot, or null where /proc does not have it. */
const bootId = (): string | null => readProc('/proc/sys/kernel/random/boot_id')?.trim() || null;

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
export function processStartTicks(pid: number): string | null {
  const text = readProc(`/proc/${pid}/stat`);
  if (!text) return null;
  // field 2 is "(comm)" and may hold spaces or parentheses: count fields after the last ")"
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[22 - 3] ?? null;
}

/** The record of a lock held by this process. */
function ownRecord(): LockInfo {
  return {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    boot_id: bootId(),
    start_ticks: processStartTicks(process.pid),
    token: randomUUID(),
  };
}

interface Seen {
  info: LockInfo | null;
  text: string;
  ino: number;
  mtimeMs: number;
}

/** The lock file as it is now, or null when there is none. */
async function look(path: string): Promise<Seen | null> {
  const [text, st] = await Promise.all([readFile(path, 'utf8').catch(() => null), stat(path).catch(() => null)]);
  if (text === null || !st) return null;
  let info: LockInfo | null = null;
  try {
    const v = JSON.parse(text) as LockInfo;
    if (typeof v === 'object' && v !== null && Number.isInteger(v.pid)) info = v;
  } catch {
    // torn or garbage: judged by its age below
  }
  return { info, text, ino: st.ino, mtimeMs: st.mtimeMs };
}

/** Whether the owner of a readable lock record is gone (dead, or its pid reused). */
export function ownerGone(info: LockInfo): boolean {
  if (info.host !== hostname()) return false; // cannot check another machine's processes
  if (!isAlive(info.pid)) return true;
  const boot = bootId();
  if (info.boot_id && boot && info.boot_id !== boot) return true;
  const ticks = info.start_ticks ? processStartTicks(info.pid) : null;
  return ticks !== null && ticks !== info.start_ticks;
}

const isStale = (seen: Seen) => (seen.info ? ownerGone(seen.info) : Date.now() - seen.mtimeMs > UNREADABLE_STALE_MS);

const same = (a: Seen, b: Seen | null) => b !== null && a.ino === b.ino && a.text === b.text;

function lockedError(path: string, seen: Seen): LockedError {
  if (!seen.info) {
    const age = Math.max(0, Math.round((Date.now() - seen.mtimeMs) / 1000));
    return new LockedError(
      `${path}: the lock file is unreadable (written ${age} s ago); another run may be starting`,
      `try again in a few seconds; an unreadable lock file older than ${UNREADABLE_STALE_MS / 1000} s is taken over`,
    );
  }
  const i = seen.info;
  return new LockedError(
    `${path}: another run is in progress (pid ${i.pid} on ${i.host}, since ${i.started})`,
    'wait for it to finish; a lock left by a killed run is taken over automatically',
  );
}

/**
 * link(2) `from` to `to`; false when `to` exists. Where the file system has no hard links, an
 * O_EXCL copy: its moment of being empty is covered by "a fresh unreadable lock is not stale".
 */
async function linkExclusive(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
  }
  try {
    await copyFile(from, to, constants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function acquireLock(path: string): Promise<Lock> {
  const me = ownRecord();
  const text = JSON.stringify(me);
  const temp = `${path}.${process.pid}.${me.token!.slice(0, 8)}.tmp`;
  const guard = `${path}.takeover`;
  await writeFile(temp, text, { flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      if (await linkExclusive(temp, path)) return held(path, me.token!, null);
      const seen = await look(path);
      if (!seen) continue; // released in between: try again
      if (!isStale(seen)) throw lockedError(path, seen);
      // Stale: only the holder of the takeover guard may remove it.
      if (!(await linkExclusive(temp, guard))) {
        const g = await look(guard);
        if (g && isStale(g) && same(g, await look(guard))) await rm(guard, { force: true });
        else await sleep(20 + Math.random() * 30); // someone is taking it over right now
        continue;
      }
      try {
        // still the stale file we judged? (it cannot change now except by its owner, who is gone)
        if (same(seen, await look(path))) {
          // Replaced in one step, not removed and then taken: in between, another taker's link
          // would win the name, and the takeover go unreported.
          await rename(temp, path);
          return held(path, me.token!, seen.info ?? { pid: 0, host: '', started: '' });
        }
      } finally {
        await rm(guard, { force: true });
      }
    }
  } finally {
    await rm(temp, { force: true });
  }
  throw new LockedError(`${path}: could not take the lock`, 'another run keeps taking it; try again');
}

/** The lock this process holds; released by release(), releaseSync() or process exit. */
function held(path: string, token: string, tookOver: LockInfo | null): Lock {
  let released = false;
  const ours = (text: string | null) => {
    try {
      return text !== null && (JSON.parse(text) as LockInfo).token === token;
    } catch {
      return false;
    }
  };
  const releaseSync = () => {
    if (released) return;
    released = true;
    process.off('exit', releaseSync);
    if (!ours(readProc(path))) return; // taken over as stale by someone else: not ours to remove
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', releaseSync);
  return {
    path,
    tookOver,
    async release() {
      if (released) return;
      released = true;
      process.off('exit', releaseSync);
      if (ours(await readFile(path, 'utf8').catch(() => null))) await rm(path, { force: true });
    },
    releaseSync,
  };
}
