/**
 * What both bench scripts (bench.ts, clickhouse.ts) share: one timed `mlops` process, the median,
 * and the entry-point check.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'mlops.js');
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

export interface Measure {
  seconds: number;
  rssMB: number | null;
  /** User + system CPU seconds of the process (all its threads), from GNU time: less sensitive to a loaded machine than wall time. */
  cpuS?: number | null;
  /** Milliseconds in the read phases of the ingested data (finaldata.csv, trainingdata.csv). */
  readMs?: number | null;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Milliseconds of the read phases of the ingested data in MLOPS_TIMING lines. */
function readMs(stderr: string): number | null {
  let ms = 0;
  let seen = false;
  for (const m of stderr.matchAll(/^\[timing\] read: [^\n]*?(finaldata|trainingdata)\.csv[^\n]*: ([\d.]+) ms/gm)) {
    ms += Number(m[2]);
    seen = true;
  }
  return seen ? Math.round(ms * 10) / 10 : null;
}

/** Run `mlops <args>` once; wall time from here, peak RSS from GNU time when it exists. */
export function measure(cwd: string, args: string[]): Measure {
  const env = { ...process.env, NO_COLOR: '1', MLOPS_TIMING: '1', npm_config_registry: 'http://127.0.0.1:9/' };
  const t0 = performance.now();
  const r = GNU_TIME
    ? spawnSync(GNU_TIME, ['-f', '%M %U %S', process.execPath, BIN, '--quiet', ...args], { cwd, env, encoding: 'utf8' })
    : spawnSync(process.execPath, [BIN, '--quiet', ...args], { cwd, env, encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0 && !(args[0] === 'drift' && r.status === 4)) {
    throw new Error(`mlops ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  const [kb, user, sys] = GNU_TIME ? r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) : [Number.NaN];
  const cpu = user! + sys!;
  return { seconds, rssMB: Number.isFinite(kb) ? kb! / 1024 : null, cpuS: Number.isFinite(cpu) ? cpu : null, readMs: readMs(r.stderr) };
}

/** Run main when this module is the script node was started with (url: its import.meta.url). */
export function runIfMain(url: string, main: (argv: string[]) => Promise<number>): void {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(url)) return;
  main(process.argv).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`bench: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
