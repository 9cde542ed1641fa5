/**
 * mlops run: the monitoring loop, as a list of timed steps with a decision between them.
 *
 *   new data? (input files vs the champion's release and the files the loop last looked at
 *   without deploying, by name AND hash)
 *     no  -> "no new data" (and why: e.g. the candidate rejected on them), nothing written
 *   ingest
 *   nothing deployed yet -> bootstrap: train (registers v0001), score, deploy
 *   model drift? (the champion scored on the new data against its own earlier evidence)
 *     no  -> record the decision and the files looked at, stop
 *
 * With drift.source "live" (or --drift-from live) and a champion, the drift step comes first
 * and tests the inputs `mlops serve` logged within drift.since against the training data (data
 * drift, as `mlops drift --current live --since`), whether or not input files are new:
 *
 *   logged predictions in the window < drift.min_rows -> "no live traffic", stop
 *   dataset drift? no -> "no drift", stop (nothing recorded as looked at: the files were not)
 *   yes -> ingest, and on as below: the retrained model learns from the input files, so add the
 *   labelled traffic first (`mlops ingest --from-feedback`) or new files for it to differ
 *
 *   [holdout] retrain (a new version), score on the test set, gate (champion and candidate
 *   on the same data: test set and holdout) -> rejected: remembered, stop (exit 4)
 *   deploy (the candidate becomes champion), diagnose, report
 *
 * One run at a time (a lock file); every run appends one record to runs.jsonl, including runs
 * that fail or are interrupted.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EXIT_CODES, MlopsError } from '../errors.js';
import { listCsvFiles, skippedNote, type CsvFile } from '../data/csvfiles.js';
import { appendJsonLine, scanFile } from '../store/atomic.js';
import { currentChampion, syncRegistry } from '../store/champion.js';
import { metricValue } from '../store/evaluations.js';
import { readLoopState, writeLoopState, type LoopState } from '../store/loopstate.js';
import { appendEvent, versionName } from '../store/registry.js';
import { runGate, type GateResult } from './gate.js';
import { makeHoldout } from './holdout.js';
import { tidyUp } from '../store/recovery.js';
import { promote } from './promote.js';
import type { Config, DriftTestName } from '../store/config.js';
import { acquireLock } from '../store/lock.js';
import { pausePoint } from '../store/pause.js';
import { FILES } from '../store/records.js';
import { readLog, shape } from '../store/statefile.js';
import type { ReleaseManifest } from '../store/releases.js';
import { deploy } from './deploy.js';
import { dataDrift, modelDrift } from './drift.js';
import { parseSince } from '../live/since.js';
import { ingest } from './ingest.js';
import { score } from './score.js';
import { train } from './train.js';

export interface StepRecord {
  step: string;
  seconds: number;
  /** `rejected`: the gate step when the candidate failed it. */
  outcome: 'ok' | 'failed' | 'rejected';
  detail: string;
}

export type Decision =
  | 'no new data'
  | 'bootstrap: deployed'
  | 'no drift'
  | 'no live traffic'
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
  /** The version this run trained, if it trained one. */
  candidate?: number | null;
  /** What the drift step tested: the new input files, or the logged live traffic (since when). */
  drift_source?: 'files' | 'live';
  drift_since?: string | null;
}

export interface RunOptions {
  config: Config;
  /** Deploy a retrained model even when it scores worse than production. */
  force?: boolean;
  /** Model drift test; default config drift.test ("raw"). */
  driftTest?: DriftTestName;
  /** What the drift step tests; default config drift.source. */
  driftFrom?: 'files' | 'live';
  /** With driftFrom "live": the logged traffic since then; default now - config drift.since. */
  since?: Date;
  /** Abort between steps (SIGINT/SIGTERM): the current step finishes, the rest is abandoned. */
  signal?: AbortSignal;
  /** Called after each step (progress output). */
  onStep?: (s: StepRecord) => void;
}

export const RUN_RECORD = shape<RunRecord>('run record', { started: 'string', decision: 'string', steps: 'array', new_files: 'array' });

/** The recent runs of runs.jsonl, oldest first. */
export async function readRuns(cfg: Config, limit: number): Promise<RunRecord[]> {
  return (await readLog(join(cfg.output_folder_path, FILES.runsLog), RUN_RECORD)).slice(-Math.max(1, limit));
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
    candidate: null,
    drift_source: opts.driftFrom ?? cfg.drift.source,
    drift_since: null,
  };
  if (lock.tookOver) record.reason = `took over a stale lock of pid ${lock.tookOver.pid}; `;
  const step = async <T>(name: string, fn: () => Promise<T>, detail: (r: T) => string, outcome?: (r: T) => StepRecord['outcome']): Promise<T> => {
    await pausePoint(`run:${name}`, opts.signal);
    if (opts.signal?.aborted) throw new InterruptedError(`interrupted before ${name}`);
    const s0 = performance.now();
    try {
      const r = await fn();
      const rec: StepRecord = { step: name, seconds: secondsSince(s0), outcome: outcome?.(r) ?? 'ok', detail: detail(r) };
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

type Step = <T>(name: string, fn: () => Promise<T>, detail: (r: T) => string, outcome?: (r: T) => StepRecord['outcome']) => Promise<T>;

async function loop(
  cfg: Config,
  opts: RunOptions,
  step: Step,
  decide: (d: Decision, reason: string) => void,
  record: RunRecord,
): Promise<void> {
  const config = cfg;
  const tidied = await tidyUp(cfg);
  if (tidied.length) record.reason += `${tidied.join('; ')}; `;
  await syncRegistry(cfg);
  const champ = await currentChampion(cfg);
  const manifest = champ?.manifest ?? null;
  const { state, warning } = await readLoopState(cfg);
  if (warning) record.reason += `${warning}; `;
  const check = await step('check', () => newFiles(cfg, manifest, state), (r) =>
    r.fresh.length ? `new or changed: ${r.fresh.map((f) => f.name).join(', ')}` : 'every input file was deployed or already looked at',
  );
  record.new_files = check.fresh.map((f) => f.name);
  const seen = async (decision: string, candidate: LoopState['candidate'], post: LoopState['post_deploy'] = null) =>
    writeLoopState(cfg, { updated: new Date().toISOString(), decision, files: check.all, candidate, post_deploy: post });
  // After a deployment: diagnose, report, and call a configured server, each recorded as done,
  // so a run killed among them has the next run finish them for the release it deployed.
  const postDeploy = async (version: number, release: string, pending: string[]) => {
    const { diagnose } = await import('./diagnose.js');
    const { report } = await import('./report.js');
    const left = [...pending];
    for (const name of pending) {
      if (name === 'diagnose') await step('diagnose', () => diagnose({ config, registryTimeoutMs: 2000 }), (r) => `diagnostics.json (${r.rows} rows)`);
      if (name === 'report') await step('report', () => report({ config }), (r) => `report.html, confusionmatrix.png (${r.archive})`);
      if (name === 'apicalls' && cfg.server.configured) {
        const { apicalls } = await import('./apicalls.js');
        // A configured server should now answer with the new release; its failure is recorded
        // but does not undo a good deployment.
        const calls = await step('apicalls', () => apicalls({ config, timeoutMs: 10_000, expectVersion: release }).then(
          (r) => ({ ok: true, detail: `${r.calls.length} calls to ${r.url}: all 200` }),
          (err: Error) => ({ ok: false, detail: err.message }),
        ), (r) => r.detail);
        if (!calls.ok) record.steps.at(-1)!.outcome = 'failed';
      }
      left.shift();
      await seen('deployed', null, left.length ? { version, pending: left } : null);
    }
  };
  const unfinished = state?.post_deploy && champ && state.post_deploy.version === champ.version ? state.post_deploy.pending : [];
  const live = champ !== null && record.drift_source === 'live';
  if (champ && (check.fresh.length === 0 || live) && unfinished.length) {
    await postDeploy(champ.version, champ.release, unfinished);
    record.reason += `finished ${unfinished.join(', ')} of release ${champ.release}, left by an interrupted run; `;
  }
  if (champ && live) {
    const since = opts.since ?? parseSince(cfg.drift.since)!;
    record.drift_since = since.toISOString();
    const window = `live traffic since ${since.toISOString()}`;
    const dd = await step('drift', () => dataDrift({ config, current: 'live', since }), (r) =>
      r.current_rows < cfg.drift.min_rows
        ? `${window}: ${r.current_rows} predictions logged`
        : `${window}: ${r.current_rows} predictions, ${r.drifted} of ${r.features.length} features drifted (dataset drift at a share of ${r.threshold})`,
    );
    if (dd.current_rows < cfg.drift.min_rows) {
      return decide('no live traffic', `${dd.current_rows} predictions logged since ${since.toISOString()}, fewer than drift.min_rows (${cfg.drift.min_rows}): nothing to test (is \`mlops serve\` running with live.log on?)`);
    }
    const drifted = dd.features.filter((f) => f.verdict === 'drift').map((f) => f.feature);
    if (!dd.datasetDrift) {
      return decide('no drift', `${window}: ${drifted.length ? `only ${drifted.join(', ')} drifted` : 'no feature drifted'} (${dd.drifted} of ${dd.features.length}, dataset drift at a share of ${dd.threshold})`);
    }
    await appendEvent(cfg, {
      kind: 'drift_detected',
      version: champ.version,
      alias: 'champion',
      reason: `data drift of ${window}: ${drifted.join(', ')}`,
      details: { source: 'live', since: since.toISOString(), rows: dd.current_rows, features: drifted },
    });
  }
  if (champ && check.fresh.length === 0 && !live) {
    const why = state?.candidate
      ? `candidate ${state.candidate.name} rejected at ${state.candidate.at}: ${state.candidate.reason}`
      : state?.decision === 'no drift'
        ? `the last check found no drift on them (${state.updated})`
        : 'every input file is in the deployed release';
    return decide('no new data', `no new or changed input files (${why})`);
  }
  const ing = await step('ingest', () => ingest({ config }), (r) =>
    `${r.files.length} files, ${r.rows_read} rows read, ${r.duplicates_dropped} duplicates dropped, ${r.rows_written} written` +
    (r.skipped.length ? `; ${skippedNote(r.skipped)}` : ''),
  );

  if (champ && !live) {
    const metric = cfg.drift.metric;
    const test = opts.driftTest ?? cfg.drift.test;
    const md = await step(
      'drift',
      async () => {
        // The champion on the newly ingested data: a `new-data` evaluation, judged against the
        // champion's own evidence only (its test scores and earlier new data).
        const onNew = await score({ config, model: 'champion', dataFolder: ing.output, role: 'new-data' });
        return modelDrift({
          config,
          metric,
          tests: [test],
          newData: { score: metricValue(onNew, metric), data_sha256: onNew.data_sha256 },
        });
      },
      (r) => `${test} test on ${r.metric}: ${r.tests[0]?.verdict} (${r.tests[0]?.detail})`,
    );
    if (!md.drift) {
      await seen('no drift', null);
      return decide('no drift', `the deployed model scores ${md.newScore} on the new data: ${md.tests[0]?.detail}`);
    }
    await appendEvent(cfg, {
      kind: 'drift_detected',
      version: champ.version,
      alias: 'champion',
      reason: `${md.tests[0]?.test} test on ${md.metric}: ${md.tests[0]?.detail}`,
      details: { new_files: record.new_files },
    });
  }

  const holdout = champ && cfg.promotion.holdout > 0
    ? await step('holdout', () => makeHoldout(cfg, check.fresh), (r) => (r ? `${r.rows} new rows held out of training (${r.path})` : 'no labelled new rows to hold out'))
    : null;
  const tr = await step('train', () => train({ config, exclude: holdout?.keys ?? null }), (r) =>
    `${versionName(r.version)}${r.created ? '' : ' (identical to an earlier version)'}: ${r.model.training_rows} rows, ${r.model.trees ? `${r.model.iterations} trees` : r.model.type === 'logistic_regression' ? `${r.model.iterations} Newton iterations` : 'least squares'}`,
  );
  record.candidate = tr.version;
  await step('score', () => score({ config }), (r) => `${r.metric} ${r.value === null ? 'n/a' : r.value.toFixed(4)} on ${r.rows} test rows`);
  let gate: GateResult | null = null;
  if (champ) {
    if (tr.version === champ.version) {
      await seen('identical', null);
      return decide('drift: not deployed', `the retrained model is identical to the champion ${versionName(champ.version)}`);
    }
    gate = await step(
      'gate',
      () => runGate({ config, candidate: tr.version, champion: champ.version, holdout }),
      (r) => `${r.passed ? 'passed' : opts.force ? 'failed, forced' : 'rejected'}: ${r.summary}`,
      (r) => (r.passed || opts.force ? 'ok' : 'rejected'),
    );
    if (!gate.passed && !opts.force) {
      const reason = `${gate.summary}`;
      await appendEvent(cfg, { kind: 'rejected', version: tr.version, alias: 'champion', previous: champ.version, reason, details: { gate } });
      let kept = '';
      if (cfg.promotion.keep_challenger) {
        await promote({ config, version: tr.version, alias: 'challenger', reason: `kept as challenger after failing the gate: ${reason}` });
        kept = `; kept as challenger`;
      }
      await seen('rejected', { version: tr.version, name: versionName(tr.version), at: new Date().toISOString(), reason });
      return decide('drift: not deployed', `candidate ${versionName(tr.version)} failed the gate (${reason})${kept}; use --force to deploy it anyway`);
    }
  }
  const after = champ ? ['diagnose', 'report', ...(cfg.server.configured ? ['apicalls'] : [])] : [];
  // Recorded before deploying: a run killed once production switched leaves these to the next.
  if (after.length) await seen('deploying', null, { version: tr.version, pending: after });
  const dep = await step('deploy', () => deploy({ config, gate, force: opts.force }), (r) =>
    `${versionName(r.model_version)} is champion, release ${r.manifest.name}${r.forced ? ' (forced past the gate)' : ''}`,
  );
  record.release = dep.manifest.name;
  // (A bootstrap is train, score, deploy only.)
  if (after.length) await postDeploy(dep.model_version, dep.manifest.name, after);
  await seen('redeployed', null);
  if (champ) decide('drift: redeployed', `${live ? 'data drift of the live traffic' : 'model drift on the new data'}; ${versionName(dep.model_version)} is champion (release ${dep.manifest.name})`);
  else decide('bootstrap: deployed', `first deployment: ${versionName(dep.model_version)} trained and made champion (release ${dep.manifest.name})`);
}

interface InputFile extends CsvFile {
  sha256: string;
}

/**
 * Input files whose (name, content hash) is neither among the deployed release's ingested files
 * nor among the files the loop last looked at without deploying.
 */
async function newFiles(cfg: Config, manifest: ReleaseManifest | null, state: LoopState | null): Promise<{ fresh: InputFile[]; all: { name: string; sha256: string }[] }> {
  // with engine.source_table the table is the input: one entry named by its fingerprint
  const source = cfg.engine.type === 'clickhouse' && cfg.engine.source_table ? await (await import('../engine/clickhouse/ops/ingest.js')).sourceTableInput(cfg) : null;
  const { csv } = source ? { csv: [] } : await listCsvFiles(cfg.input_folder_path);
  const key = (f: { name: string; sha256: string }) => `${f.name}\u0000${f.sha256}`;
  // Files the last run looked at count as seen only when it decided not to deploy (no drift, a
  // rejected or identical candidate); a run that was deploying is judged by production itself.
  const looked = state && ['no drift', 'rejected', 'identical'].includes(state.decision) ? state.files : [];
  const known = new Set([...(manifest?.ingestion?.files ?? []), ...looked].map(key));
  const all: InputFile[] = [];
  for (const f of csv) all.push({ ...f, sha256: (await scanFile(f.path)).sha256 });
  if (source) all.push(...source);
  return { fresh: all.filter((f) => !known.has(key(f))), all: all.map((f) => ({ name: f.name, sha256: f.sha256 })) };
}
