/**
 * A lock file so two runs never overlap (cron firing while the last run is still going).
 * Created with O_EXCL; it holds the owner's pid. A lock whose owner is no longer alive (killed
 * with SIGKILL, machine rebooted) is stale and is taken over.
 */
import { hostname } from 'node:os';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { StateError } from '../errors.js';
import { isAlive } from './releases.js';

export interface LockInfo {
  pid: number;
  host: string;
  started: string;
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

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

const stale = (info: LockInfo | null) => !info || (info.host === hostname() && !isAlive(info.pid));

export async function acquireLock(path: string): Promise<Lock> {
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  let tookOver: LockInfo | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(JSON.stringify(me));
      await fh.close();
      let released = false;
      return {
        path,
        tookOver,
        async release() {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
        releaseSync() {
          if (released) return;
          released = true;
          try {
            unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const info = await readLock(path);
    if (!stale(info)) {
      throw new LockedError(
        `${path}: another run is in progress (pid ${info!.pid} on ${info!.host}, since ${info!.started})`,
        'wait for it to finish; a lock left by a killed run is taken over automatically',
      );
    }
    // Move the stale lock aside under a name of our own, then check we moved the stale one and
    // not a fresh lock another process created in between; if we did, put it back.
    const aside = `${path}.stale.${process.pid}`;
    try {
      await rename(path, aside);
    } catch {
      continue; // someone else moved it first: retry
    }
    const moved = await readLock(aside);
    if (moved && info && (moved.pid !== info.pid || moved.started !== info.started)) {
      await rename(aside, path).catch(() => undefined);
      continue;
    }
    await rm(aside, { force: true });
    tookOver = info;
  }
  throw new LockedError(`${path}: could not take the lock`, 'another run keeps taking it; try again');
}
