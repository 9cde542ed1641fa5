/**
 * The run lock with real processes: many `mlops run` at once on a fresh project, stale locks
 * whose pid was reused, torn lock files, and a second SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, project, type CliResult } from '../helpers.js';

const ENV = { ...process.env, NO_COLOR: '1', npm_config_registry: 'http://127.0.0.1:9/' };
const LOCK = join('ingesteddata', '.mlops-run.lock');

/** Node waits until this wall-clock time before loading mlops, so that runs really start together. */
const BARRIER = 'data:text/javascript,const t = Number(process.env.MLOPS_TEST_START_AT); while (Date.now() < t);';

function runAsync(dir: string, startAt: number): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', BARRIER, BIN, '--json', 'run'], { cwd: dir, env: { ...ENV, MLOPS_TEST_START_AT: String(startAt) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A project whose output folder holds a lock file with this text. */
function lockedProject(text: string): string {
  const dir = project();
  mkdirSync(join(dir, 'ingesteddata'));
  writeFileSync(join(dir, LOCK), text);
  return dir;
}

const releases = (dir: string) => readdirSync(join(dir, 'production_deployment', 'releases')).filter((n) => !n.startsWith('.'));

describe('the run lock', () => {
  for (const round of [1, 2, 3]) {
    it(`round ${round}: of 8 runs started at once on a fresh project exactly one bootstraps; the rest are refused`, async () => {
      const dir = project();
      const startAt = Date.now() + 1500;
      const results = await Promise.all(Array.from({ length: 8 }, () => runAsync(dir, startAt)));
      const decisions = results.map((r) => (r.code === 0 ? (JSON.parse(r.stdout) as { decision: string }).decision : `exit ${r.code}`));
      expect(decisions.filter((d) => d === 'bootstrap: deployed'), decisions.join('; ')).toHaveLength(1);
      for (const r of results) {
        expect(r.stderr).not.toContain('internal error');
        if (r.code === 0) continue;
        expect(r.code, r.stderr).toBe(2);
        // one line naming the lock file and its owner (or, for a late one, the run that came first)
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(new RegExp(`${join(dir, LOCK)}: another run is in progress \\(pid \\d+`));
      }
      // a run that came after the first finished found nothing new
      expect(decisions.filter((d) => d !== 'bootstrap: deployed' && d !== 'exit 2').every((d) => d === 'no new data')).toBe(true);
      expect(releases(dir)).toEqual(['v0001']);
      expect(existsSync(join(dir, LOCK))).toBe(false);
      expect(readdirSync(join(dir, 'ingesteddata')).filter((n) => n.startsWith('.mlops-run.lock'))).toEqual([]);
    }, 60_000);
  }

  it('a stale lock whose pid now belongs to a live unrelated process (other start time) is taken over', () => {
    const boot = existsSync('/proc/sys/kernel/random/boot_id') ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : null;
    if (!boot) return; // pid-only elsewhere: a live pid keeps its lock
    for (const pid of [process.pid, 1]) {
      const dir = lockedProject(JSON.stringify({ pid, host: hostname(), started: '2020-01-01T00:00:00.000Z', boot_id: boot, start_ticks: '1' }));
      const r = cli(dir, '--json', 'run');
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { reason: string }).reason).toContain(`took over a stale lock of pid ${pid}`);
      expect(existsSync(join(dir, LOCK))).toBe(false);
    }
  });

  it('a lock of a live process that really is its owner is respected', () => {
    const ticks = existsSync(`/proc/${process.pid}/stat`) ? readFileSync(`/proc/${process.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19] : undefined;
    const boot = existsSync('/proc/sys/kernel/random/boot_id') ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : undefined;
    const dir = lockedProject(JSON.stringify({ pid: process.pid, host: hostname(), started: 'now', boot_id: boot, start_ticks: ticks }));
    const r = cli(dir, 'run');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, LOCK)}: another run is in progress (pid ${process.pid}`);
  });

  it('a torn lock file: refused while fresh, taken over when older than 10 s', () => {
    const dir = lockedProject('{"pid": 4');
    const fresh = cli(dir, 'run');
    expect(fresh.code).toBe(2);
    expect(fresh.stderr.trim()).toMatch(new RegExp(`^error: ${join(dir, LOCK)}: the lock file is unreadable \\(written \\d+ s ago\\); another run may be starting \\(.*\\)$`));
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(join(dir, LOCK), old, old);
    const r = cli(dir, '--json', 'run');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it('a second SIGTERM exits at once and still removes the lock', async () => {
    const dir = project();
    // deploy:staged is inside the deploy step, which the first signal lets finish
    const child = spawn(process.execPath, [BIN, 'run'], { cwd: dir, env: { ...ENV, MLOPS_PAUSE_AT: 'deploy:staged', MLOPS_PAUSE_MS: '30000' } });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('paused at deploy:staged')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`run exited ${code} before pausing: ${err}`)));
    });
    expect(existsSync(join(dir, LOCK))).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(existsSync(join(dir, LOCK))).toBe(false);
    expect(cli(dir, 'run').stderr).not.toMatch(/another run is in progress/);
  }, 60_000);
});
