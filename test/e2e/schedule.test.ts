/** mlops schedule with real processes on seconds-level schedules. */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, project } from '../helpers.js';

const events = (dir: string) =>
  readFileSync(join(dir, 'ingesteddata', 'schedule.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; decision?: string });

describe('mlops schedule', () => {
  it('--once fires on a seconds-level schedule, runs the loop once and logs it', () => {
    const dir = project();
    const t0 = Date.now();
    const r = cli(dir, 'schedule', '--cron', '*/2 * * * * *', '--once');
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.stdout).toMatch(/run bootstrap: deployed/);
    expect(events(dir).map((e) => e.event)).toEqual(['started', 'run', 'stopped']);
    expect(readFileSync(join(dir, 'production_deployment', 'latestscore.txt'), 'utf8')).toBe('0.5714285714285714\n');
  });

  it('a tick that comes while a run is still going is skipped, not stacked', async () => {
    const dir = project();
    // every second, and each run pauses 2.5 s at its first step
    const child = spawn(process.execPath, [BIN, 'schedule', '--cron', '* * * * * *'], {
      cwd: dir,
      env: { ...process.env, MLOPS_PAUSE_AT: 'run:check', MLOPS_PAUSE_MS: '2500', npm_config_registry: 'http://127.0.0.1:9/' },
    });
    await new Promise((r) => setTimeout(r, 6500));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    const ev = events(dir);
    expect(ev.filter((e) => e.event === 'skipped').length).toBeGreaterThanOrEqual(2);
    expect(ev.filter((e) => e.event === 'run').length).toBeGreaterThanOrEqual(1);
    expect(ev.at(-1)!.event).toBe('stopped');
    // the runs never overlapped: each started after the previous one ended
    const runs = readFileSync(join(dir, 'ingesteddata', 'runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (let i = 1; i < runs.length; i++) expect(runs[i].started >= runs[i - 1].ended).toBe(true);
  }, 30_000);

  it('an invalid cron expression is rejected with the reason', () => {
    const r = cli(project(), 'schedule', '--cron', '61 * * * *');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid cron expression "61 \* \* \* \*": .*out of range/);
  });

  it('--print-crontab gives a line that works from cron\'s bare environment (no PATH, another cwd)', () => {
    const dir = project();
    const r = cli(dir, 'schedule', '--print-crontab', '--cron', '*/5 * * * *');
    expect(r.code).toBe(0);
    const line = r.stdout.trim();
    expect(line).toMatch(/^\*\/5 \* \* \* \* cd '\//);
    expect(line).toContain(`'${process.execPath}'`);
    expect(line).toContain(`--config '${join(dir, 'config.json')}'`);
    const command = line.split(' ').slice(5).join(' ');
    // run it the way cron would: empty environment, started from /
    const sh = spawnSync('/usr/bin/env', ['-i', '/bin/sh', '-c', command], { cwd: '/', encoding: 'utf8' });
    expect(sh.status, sh.stderr).toBe(0);
    expect(readFileSync(join(dir, 'ingesteddata', 'cron.log'), 'utf8')).toContain('bootstrap: deployed');
    expect(cli(dir, 'schedule', '--print-crontab', '--cron', '*/5 * * * * *').code).toBe(2);
  });
});
