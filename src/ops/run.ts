/**
 * mlops run: the loop as a list of steps, each timed and recorded. This first version always
 * runs ingest -> train -> score -> deploy; decisions (new data? drift?) slot in between steps.
 */
import { performance } from 'node:perf_hooks';
import type { Config } from '../store/config.js';
import { deploy, type DeployResult } from './deploy.js';
import { ingest, type IngestResult } from './ingest.js';
import { score, type ScoreResult } from './score.js';
import { train, type TrainResult } from './train.js';

export interface StepRecord {
  step: string;
  seconds: number;
  outcome: 'ok' | 'skipped' | 'failed';
  detail: string;
}

export interface RunOptions {
  config: Config;
}

export interface RunResult {
  started: string;
  ended: string;
  seconds: number;
  steps: StepRecord[];
  decision: string;
  ingest?: IngestResult;
  train?: TrainResult;
  score?: ScoreResult;
  deploy?: DeployResult;
}

/** Time one step, record its outcome, rethrow failures after recording them. */
export async function timedStep<T>(steps: StepRecord[], step: string, fn: () => Promise<T>, detail: (r: T) => string): Promise<T> {
  const t0 = performance.now();
  try {
    const r = await fn();
    steps.push({ step, seconds: secondsSince(t0), outcome: 'ok', detail: detail(r) });
    return r;
  } catch (err) {
    steps.push({ step, seconds: secondsSince(t0), outcome: 'failed', detail: (err as Error).message });
    throw err;
  }
}

const secondsSince = (t0: number) => Math.round(performance.now() - t0) / 1000;

export async function run(opts: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const started = new Date().toISOString();
  const config = opts.config;
  const steps: StepRecord[] = [];
  const ing = await timedStep(steps, 'ingest', () => ingest({ config }), (r) =>
    `${r.files.length} files, ${r.rows_read} rows read, ${r.duplicates_dropped} duplicates dropped, ${r.rows_written} written`,
  );
  const tr = await timedStep(steps, 'train', () => train({ config }), (r) =>
    `${r.model.training_rows} rows, ${r.model.iterations} Newton iterations`,
  );
  const sc = await timedStep(steps, 'score', () => score({ config }), (r) => `F1 ${r.metrics.f1.toFixed(4)} on ${r.rows} test rows`);
  const dep = await timedStep(steps, 'deploy', () => deploy({ config }), (r) => `release ${r.manifest.name}`);
  return {
    started,
    ended: new Date().toISOString(),
    seconds: secondsSince(t0),
    steps,
    decision: 'trained and deployed',
    ingest: ing,
    train: tr,
    score: sc,
    deploy: dep,
  };
}
