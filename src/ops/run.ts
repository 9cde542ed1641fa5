/**
 * mlops run: the monitoring loop, as a list of timed steps with a decision between them.
 *
 *   new data? (input files vs the production release's ingested files, by name AND hash)
 *     no  -> "no new data", nothing written to the data, model or production folders
 *   ingest
 *   nothing deployed yet -> bootstrap: train, score, deploy
 *   model drift? (deployed model scored on the new data against its deployed score)
 *     no  -> record the decision, stop
 *   retrain, re-score on the test data, gate (not worse than production on the same test
 *   data, unless forced), deploy, diagnose, report
 *
 * One run at a time (a lock file); every run appends one record to runs.jsonl, including runs
 * that fail or are interrupted.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EXIT_CODES, MlopsError } from '../errors.js';
import { listCsvFiles } from '../data/csvfiles.js';
import { higherIsBetter } from '../model/metrics.js';
import { appendJsonLine, readJsonLines, scanFile } from '../store/atomic.js';
import type { Config, DriftTestName } from '../store/config.js';
import { acquireLock } from '../store/lock.js';
import { pausePoint } from '../store/pause.js';
import { FILES, paths, type Metrics, type ScoreRecord } from '../store/records.js';
import { currentManifest, type ReleaseManifest } from '../store/releases.js';
import { deploy } from './deploy.js';
import { modelDrift } from './drift.js';
import { ingest } from './ingest.js';
import { score } from './score.js';
import { train } from './train.js';

export interface StepRecord {
  step: string;
  seconds: number;
  outcome: 'ok' | 'failed';
  detail: string;
}

export type Decision =
  | 'no new data'
  | 'bootstrap: deployed'
  | 'no drift'
  | 'drift: redeployed'
  | 'drift: not deployed'
  | 'interrupted'
  | 'failed';

export interface RunRecord {
  id: string;
  pid: number;
  started: string;
  ended: string;
  seconds: number;
  decision: Decision;
  reason: string;
  new_files: string[];
  steps: StepRecord[];
  release: string | null;
}

export interface RunOptions {
  config: Config;
  /** Deploy a retrained model even when it scores worse than production. */
  force?: boolean;
  /** Model drift test; default config drift.test ("raw"). */
  driftTest?: DriftTestName;
  /** Abort between steps (SIGINT/SIGTERM): the current step finishes, the rest is abandoned. */
  signal?: AbortSignal;
  /** Called after each step (progress output). */
  onStep?: (s: StepRecord) => void;
}

/** The run was stopped by SIGINT/SIGTERM between steps. */
export class InterruptedError extends MlopsError {
  override readonly exitCode = EXIT_CODES.interrupted;
}


const secondsSince = (t0: number) => Math.round(performance.now() - t0) / 1000;

export async function run(opts: RunOptions): Promise<RunRecord> {
  const cfg = opts.config;
  const lock = await acquireLock(join(cfg.output_folder_path, FILES.runLock));
  const t0 = performance.now();
  const record: RunRecord = {
    id: `${new Date().toISOString()}-${process.pid}`,
    pid: process.pid,
    started: new Date().toISOString(),
    ended: '',
    seconds: 0,
    decision: 'failed',
    reason: '',
    new_files: [],
    steps: [],
    release: null,
  };
  if (lock.tookOver) record.reason = `took over a stale lock of pid ${lock.tookOver.pid}; `;
  const step = async <T>(name: string, fn: () => Promise<T>, detail: (r: T) => string): Promise<T> => {
    await pausePoint(`run:${name}`, opts.signal);
    if (opts.signal?.aborted) throw new InterruptedError(`interrupted before ${name}`);
    const s0 = performance.now();
    try {
      const r = await fn();
      const rec: StepRecord = { step: name, seconds: secondsSince(s0), outcome: 'ok', detail: detail(r) };
      record.steps.push(rec);
      opts.onStep?.(rec);
      return r;
    } catch (err) {
      const rec: StepRecord = { step: name, seconds: secondsSince(s0), outcome: 'failed', detail: (err as Error).message };
      record.steps.push(rec);
      opts.onStep?.(rec);
      throw err;
    }
  };
  const decide = (decision: Decision, reason: string) => {
    record.decision = decision;
    record.reason += reason;
  };
  try {
    await loop(cfg, opts, step, decide, record);
  } catch (err) {
    if (err instanceof InterruptedError) decide('interrupted', err.message);
    else decide('failed', (err as Error).message);
    throw err;
  } finally {
    record.ended = new Date().toISOString();
    record.seconds = secondsSince(t0);
    // "no new data" still gets its line in the runs log: it is the audit trail of the loop.
    await appendJsonLine(join(cfg.output_folder_path, FILES.runsLog), record).catch(() => undefined);
    await lock.release();
  }
  return record;
}

type Step = <T>(name: string, fn: () => Promise<T>, detail: (r: T) => string) => Promise<T>;

async function loop(
  cfg: Config,
  opts: RunOptions,
  step: Step,
  decide: (d: Decision, reason: string) => void,
  record: RunRecord,
): Promise<void> {
  const config = cfg;
  const manifest = await currentManifest(cfg.prod_deployment_path);
  const fresh = await step('check', () => newFiles(cfg, manifest), (r) =>
    r.length ? `new or changed: ${r.join(', ')}` : 'every input file is in the production release',
  );
  record.new_files = fresh;
  if (manifest && fresh.length === 0) return decide('no new data', 'no new or changed input files since the deployed release');

  const ing = await step('ingest', () => ingest({ config }), (r) =>
    `${r.files.length} files, ${r.rows_read} rows read, ${r.duplicates_dropped} duplicates dropped, ${r.rows_written} written`,
  );

  if (manifest) {
    const metric = cfg.drift.metric;
    const test = opts.driftTest ?? cfg.drift.test;
    const md = await step(
      'drift',
      async () => {
        const prodScore = await score({ config, model: 'production', dataFolder: ing.output, dryRun: true });
        const deployedScore = (manifest.metrics[metric] as number | undefined) ?? manifest.score;
        const history = await productionHistory(cfg, manifest, metric);
        return modelDrift({
          config,
          metric,
          tests: [test],
          newScore: prodScore.metrics[metric as keyof Metrics] as number,
          previous: history.length ? history : [deployedScore],
        });
      },
      (r) => `${test} test on ${r.metric}: ${r.tests[0]?.verdict} (${r.tests[0]?.detail})`,
    );
    if (!md.drift) return decide('no drift', `the deployed model scores ${md.newScore} on the new data: ${md.tests[0]?.detail}`);
  }

  await step('train', () => train({ config }), (r) => `${r.model.training_rows} rows, ${r.model.iterations} Newton iterations`);
  const sc = await step('score', () => score({ config }), (r) => `F1 ${r.metrics.f1.toFixed(4)} on ${r.rows} test rows`);
  if (manifest && !opts.force) {
    const metric = cfg.drift.metric as keyof Metrics;
    const gate = await step('gate', () => score({ config, model: 'production', dryRun: true }), (r) =>
      `production ${metric} ${fmt(r.metrics[metric])} vs retrained ${fmt(sc.metrics[metric])} on the same test data`,
    );
    const better = higherIsBetter(metric);
    const newV = sc.metrics[metric] as number;
    const oldV = gate.metrics[metric] as number;
    if (better ? newV < oldV : newV > oldV) {
      return decide(
        'drift: not deployed',
        `the retrained model is worse than production on the test data (${metric} ${fmt(newV)} vs ${fmt(oldV)}); use --force to deploy it anyway`,
      );
    }
  }
  const dep = await step('deploy', () => deploy({ config }), (r) => `release ${r.manifest.name}`);
  record.release = dep.manifest.name;
  if (manifest) {
    // After a redeploy: diagnose, report, and call a configured server. (A bootstrap is
    // train, score, deploy only.) Their modules are loaded only here.
    const { diagnose } = await import('./diagnose.js');
    const { report } = await import('./report.js');
    await step('diagnose', () => diagnose({ config, registryTimeoutMs: 2000 }), (r) => `diagnostics.json (${r.rows} rows)`);
    await step('report', () => report({ config }), (r) => `report.html, confusionmatrix.png (${r.archive})`);
    if (cfg.server.configured) {
      const { apicalls } = await import('./apicalls.js');
      // A configured server should now answer with the new release; its failure is recorded
      // but does not undo a good deployment.
      const calls = await step('apicalls', () => apicalls({ config, timeoutMs: 10_000, expectVersion: dep.manifest.name }).then(
        (r) => ({ ok: true, detail: `${r.calls.length} calls to ${r.url}: all 200` }),
        (err: Error) => ({ ok: false, detail: err.message }),
      ), (r) => r.detail);
      if (!calls.ok) record.steps.at(-1)!.outcome = 'failed';
    }
  }
  if (manifest) decide('drift: redeployed', `model drift on the new data; retrained model deployed as ${dep.manifest.name}`);
  else decide('bootstrap: deployed', `nothing was deployed; trained and deployed ${dep.manifest.name}`);
}

const fmt = (x: number | null | undefined) => (typeof x === 'number' ? x.toFixed(4) : 'n/a');

/** Input files whose (name, content hash) is not among the deployed release's ingested files. */
async function newFiles(cfg: Config, manifest: ReleaseManifest | null): Promise<string[]> {
  const { csv } = await listCsvFiles(cfg.input_folder_path);
  const deployed = new Set((manifest?.ingestion?.files ?? []).map((f) => `${f.name}\u0000${f.sha256}`));
  const out: string[] = [];
  for (const f of csv) {
    const { sha256 } = await scanFile(f.path);
    if (!deployed.has(`${f.name}\u0000${sha256}`)) out.push(f.name);
  }
  return out;
}

/** Scores of the deployed model in the score history (the spread the parametric tests need). */
async function productionHistory(cfg: Config, manifest: ReleaseManifest, metric: string): Promise<number[]> {
  const sha = manifest.files['trainedmodel.json']?.sha256;
  const history = await readJsonLines<ScoreRecord>(paths(cfg).scoreHistory);
  return history
    .filter((r) => r.model_sha256 === sha)
    .map((r) => r.metrics[metric as keyof Metrics] as number)
    .filter((v) => typeof v === 'number');
}
