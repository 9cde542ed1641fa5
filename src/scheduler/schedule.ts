/**
 * mlops schedule: the loop on a cron schedule in one long-running process. Each tick runs
 * `mlops run` as a child process (a crash of one run cannot take the scheduler down, and the
 * run lock still guards against any other runner); a tick that comes while the previous run is
 * still going is skipped, not stacked. Every event is logged to stdout and to schedule.log.
 */
import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CronJob, validateCronExpression, sendAt } from 'cron';
import { ConfigError } from '../errors.js';
import type { Config } from '../store/config.js';

export const DEFAULT_SCHEDULE = '*/10 * * * *';
export const SCHEDULE_LOG = 'schedule.log';

export interface ScheduleEvent {
  time: string;
  event: 'started' | 'run' | 'skipped' | 'stopped';
  decision?: string;
  seconds?: number;
  exitCode?: number;
  detail?: string;
}

export interface ScheduleOptions {
  config: Config;
  cron?: string;
  /** Run the next due run, then stop. */
  once?: boolean;
  /** Path of bin/mlops.js. */
  bin: string;
  signal?: AbortSignal;
  onEvent?: (e: ScheduleEvent) => void;
}

export function checkCron(expr: string): void {
  const v = validateCronExpression(expr);
  if (!v.valid) {
    throw new ConfigError(`invalid cron expression "${expr}": ${v.error?.message ?? 'not understood'}`, 'use five fields "m h dom mon dow" (or six with seconds first)');
  }
}

interface RunOutcome {
  decision: string;
  exitCode: number;
  detail: string;
}

function runLoop(bin: string, config: string): Promise<RunOutcome> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [bin, '--json', '--config', config, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      let decision = 'failed';
      let detail = err.trim().split('\n')[0] ?? '';
      try {
        const j = JSON.parse(out) as { decision?: string; reason?: string; error?: { message: string } };
        decision = j.decision ?? 'failed';
        detail = j.reason ?? j.error?.message ?? detail;
      } catch {
        // no JSON: keep stderr's first line
      }
      resolvePromise({ decision, exitCode: code ?? 1, detail });
    });
  });
}

export async function schedule(opts: ScheduleOptions): Promise<{ runs: number; skipped: number }> {
  const cfg = opts.config;
  const expr = opts.cron ?? cfg.schedule ?? DEFAULT_SCHEDULE;
  checkCron(expr);
  const log = join(cfg.output_folder_path, SCHEDULE_LOG);
  const emit = async (e: Omit<ScheduleEvent, 'time'>) => {
    const ev: ScheduleEvent = { time: new Date().toISOString(), ...e };
    opts.onEvent?.(ev);
    await appendFile(log, JSON.stringify(ev) + '\n').catch(() => undefined);
  };
  let running = false;
  let runs = 0;
  let skipped = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  const tick = async () => {
    if (running) {
      skipped++;
      await emit({ event: 'skipped', detail: 'the previous run is still going' });
      return;
    }
    running = true;
    const t0 = Date.now();
    try {
      const r = await runLoop(resolve(opts.bin), cfg.file);
      runs++;
      await emit({ event: 'run', decision: r.decision, exitCode: r.exitCode, seconds: (Date.now() - t0) / 1000, detail: r.detail });
    } finally {
      running = false;
      if (opts.once) finish();
    }
  };
  await emit({ event: 'started', detail: `cron "${expr}", next run ${sendAt(expr).toISO()}, config ${cfg.file}` });
  const job = CronJob.from({ cronTime: expr, onTick: tick, start: true });
  const stop = () => finish();
  opts.signal?.addEventListener('abort', stop);
  await done;
  await job.stop();
  // A stop request while a run is going waits for it: the run finishes its step and exits.
  while (running) await new Promise((r) => setTimeout(r, 100));
  opts.signal?.removeEventListener('abort', stop);
  await emit({ event: 'stopped', detail: `${runs} runs, ${skipped} skipped` });
  return { runs, skipped };
}

/**
 * A crontab line that works from cron's bare environment: absolute node, toolkit and config
 * paths, a cd into the project folder, output appended to a log file.
 */
export function crontabLine(cfg: Config, bin: string, expr: string): string {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new ConfigError(`crontab needs a five-field expression, got "${expr}"`, 'drop the seconds field or use a standard schedule');
  }
  checkCron(expr);
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const logFile = join(cfg.output_folder_path, 'cron.log');
  return `${expr} cd ${q(cfg.root)} && ${q(process.execPath)} ${q(resolve(bin))} --config ${q(cfg.file)} run >> ${q(logFile)} 2>&1`;
}
