import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, LockedError, ownerGone, processStartTicks, type Lock } from '../../src/store/lock.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const lockPath = () => {
  const d = mkdtempSync(join(tmpdir(), 'mlops-lock-'));
  dirs.push(d);
  return join(d, '.mlops-run.lock');
};
/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const linux = processStartTicks(process.pid) !== null;

async function race(path: string, n: number): Promise<{ won: Lock[]; refused: unknown[] }> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => acquireLock(path)));
  return {
    won: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    refused: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
  };
}

describe('acquireLock', () => {
  it('of 20 takers at once exactly one wins; the rest are refused naming the file and pid', async () => {
    const path = lockPath();
    const { won, refused } = await race(path, 20);
    expect(won).toHaveLength(1);
    for (const err of refused) {
      expect(err).toBeInstanceOf(LockedError);
      expect((err as Error).message).toContain(`${path}: another run is in progress (pid ${process.pid}`);
    }
    await won[0]!.release();
    expect(readdirSync(join(path, '..'))).toEqual([]); // no temp files or guards left
  });

  it('a stale lock of a dead pid is taken over by exactly one of 20 takers', async () => {
    const path = lockPath();
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), started: 'then' }));
    const { won } = await race(path, 20);
    expect(won).toHaveLength(1);
    expect(won[0]!.tookOver).toMatchObject({ started: 'then' });
    await won[0]!.release();
    expect(existsSync(path)).toBe(false);
  });

  it.runIf(linux)('a lock whose pid is alive but started at another time is stale', async () => {
    const path = lockPath();
    const boot = (await import('node:fs')).readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const info = { pid: process.pid, host: hostname(), started: 'then', boot_id: boot, start_ticks: '1' };
    expect(ownerGone(info)).toBe(true);
    expect(ownerGone({ ...info, start_ticks: processStartTicks(process.pid) })).toBe(false);
    expect(ownerGone({ ...info, start_ticks: processStartTicks(process.pid), boot_id: 'another-boot' })).toBe(true);
    writeFileSync(path, JSON.stringify({ ...info, pid: 1 }));
    const lock = await acquireLock(path);
    expect(lock.tookOver).toMatchObject({ pid: 1 });
    await lock.release();
  });

  it('an unreadable lock file is refused while fresh and taken over once older than 10 s', async () => {
    const path = lockPath();
    writeFileSync(path, '');
    await expect(acquireLock(path)).rejects.toThrow(new RegExp(`^${path}: the lock file is unreadable \\(written \\d+ s ago\\)`));
    writeFileSync(path, '{"pid": 12');
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(path, old, old);
    const lock = await acquireLock(path);
    expect(lock.tookOver).not.toBeNull();
    await lock.release();
  });

  it('release leaves alone a lock that is no longer its own', async () => {
    const path = lockPath();
    const lock = await acquireLock(path);
    writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), started: 'other', token: 'other' }));
    await lock.release();
    expect(existsSync(path)).toBe(true);
  });
});
