/**
 * The verbs of live traffic, for the CLI: `mlops feedback --file`, `mlops score --role live`
 * (labelled live traffic scored per model version) and `mlops experiment start|status|stop`.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { listCsvFiles, readCsvHeader } from '../data/csvfiles.js';
import { performance } from 'node:perf_hooks';
import { DataError, StateError } from '../errors.js';
import { appendJsonLine, sha256Text } from '../store/atomic.js';
import { currentChampion } from '../store/champion.js';
import type { Config } from '../store/config.js';
import { dataHash } from '../store/evaluations.js';
import { paths, type ScoreRecord } from '../store/records.js';
import { readLog, shape } from '../store/statefile.js';
import { appendEvent, versionModelPath, versionName } from '../store/registry.js';
import {
  autoAction, experimentPath, experimentStats, readExperiment, startExperiment, stopExperiment, verdict,
  type Decision, type ExperimentState, type LossMetric, type Verdict,
} from '../live/experiment.js';
import { feedbackFromCsv, feedbackPath, FeedbackStore, scoreLive, writeLabelledCsv, type FeedbackResult, type LiveScore } from '../live/feedback.js';
import type { IngestResult } from './ingest.js';
import { knownOnDisk, predictionsDir } from '../live/predlog.js';
import { loadModelFrom, type ModelChoice } from './modelchoice.js';

/** mlops feedback --file labels.csv: store the labels of logged predictions. */
export async function feedbackFile(o: { config: Config; file: string }): Promise<FeedbackResult> {
  const text = await readFile(o.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new DataError(`${o.file}: cannot read it (${err.code ?? String(err)})`, 'give a CSV file request_id,label');
  });
  const items = feedbackFromCsv(text, o.file);
  const store = await FeedbackStore.open(feedbackPath(o.config));
  try {
    return await store.add(items, (ids) => knownOnDisk(predictionsDir(o.config), new Set(ids)));
  } finally {
    await store.close();
  }
}

const VERSION_NAME = /^v(\d+)$/;

/**
 * Score labelled live traffic per model version and record each as a `live` evaluation (and an
 * `evaluated` event for a registered version): the label delay goes with it.
 */
export async function scoreLiveTraffic(o: { config: Config; since?: Date; dryRun?: boolean }): Promise<(LiveScore & { recorded: boolean })[]> {
  const cfg = o.config;
  const t0 = performance.now();
  const scores = await scoreLive({ predictions: predictionsDir(cfg), feedback: feedbackPath(cfg), since: o.since });
  const out: (LiveScore & { recorded: boolean })[] = [];
  for (const s of scores) {
    const m = VERSION_NAME.exec(s.version);
    const version = m ? Number(m[1]) : null;
    const text = version === null ? null : await readFile(versionModelPath(cfg, version), 'utf8').catch(() => null);
    if (o.dryRun || version === null || text === null) {
      out.push({ ...s, recorded: false });
      continue;
    }
    const files = [{ name: `live ${s.first}..${s.last}`, sha256: s.data_sha256, rows: s.rows }];
    const record: ScoreRecord & { label_delay_s: LiveScore['label_delay_s'] } = {
      timestamp: new Date().toISOString(),
      model: versionName(version),
      model_sha256: sha256Text(text),
      version,
      role: 'live',
      data_sha256: dataHash(files),
      data_files: files,
      rows: s.rows,
      metrics: s.metrics,
      seconds: Math.round((performance.now() - t0) * 10) / 1e4,
      label_delay_s: s.label_delay_s,
    };
    await appendJsonLine(paths(cfg).scoreHistory, record);
    await appendEvent(cfg, {
      kind: 'evaluated',
      version,
      reason: `live traffic (${s.rows} labelled requests, median label delay ${Math.round(s.label_delay_s.median)} s): f1 ${s.metrics.f1}`,
      details: { role: 'live', data_sha256: record.data_sha256, rows: s.rows, metrics: s.metrics, label_delay_s: s.label_delay_s },
    });
    out.push({ ...s, recorded: true });
  }
  return out;
}

export interface ExperimentStartOptions {
  config: Config;
  challenger: ModelChoice;
  mode: 'shadow' | 'canary';
  traffic?: number;
  stickyKey?: string | null;
  metric?: LossMetric;
  alpha?: number;
  tau?: number | null;
}

/** mlops experiment start: the challenger (any model choice naming a registry version) against the champion. */
export async function experimentStart(o: ExperimentStartOptions): Promise<ExperimentState> {
  const cfg = o.config;
  const { version } = await loadModelFrom(cfg, o.challenger);
  if (version === null) throw new DataError(`${o.challenger}: not a registered model version`, 'register it first (`mlops train`), then use its version');
  const champ = await currentChampion(cfg);
  return startExperiment(experimentPath(cfg), {
    challenger: versionName(version),
    champion: champ ? versionName(champ.version) : null,
    mode: o.mode,
    traffic: o.traffic,
    sticky_key: o.stickyKey,
    metric: o.metric,
    alpha: o.alpha,
    tau: o.tau,
  });
}

/**
 * One look at an experiment's verdict, as `experimentStatus` computed it: the always-valid
 * interval over time (aggregates only), one line each in <output_model_path>/experiment-history.jsonl.
 */
export interface VerdictPoint {
  experiment: string;
  time: string;
  status: ExperimentState['status'];
  /** Labelled requests the test used. */
  n: number;
  difference: number;
  /** The always-valid interval; null bounds before there is a verdict (under 100 labels per arm). */
  lower: number | null;
  upper: number | null;
  p_value: number;
  decision: Decision;
  requests: { champion: number; challenger: number };
}

export const VERDICT_POINT = shape<VerdictPoint>('experiment verdict point', { experiment: 'string', time: 'string', n: 'integer', p_value: 'number', decision: 'string' });
export const experimentHistoryPath = (cfg: Pick<Config, 'output_model_path'>) => join(cfg.output_model_path, 'experiment-history.jsonl');

/** The verdict points of one experiment, oldest first. */
export async function readVerdictHistory(cfg: Config, id: string): Promise<VerdictPoint[]> {
  const needle = `"experiment":${JSON.stringify(id)}`;
  return readLog(experimentHistoryPath(cfg), VERDICT_POINT, (line) => line.includes(needle));
}

/** The last point written per history file by this process (the server's auto check looks every few seconds). */
const lastPoint = new Map<string, VerdictPoint | null>();

/**
 * Append a look unless it adds nothing: a point is kept when the decision or status changed, or
 * the labels grew by 5% or more, or a minute passed with new labels. So the series stays small
 * (a few thousand points a day at most) however often the status is asked for.
 */
async function recordVerdict(cfg: Config, exp: ExperimentState, v: Verdict): Promise<void> {
  const path = experimentHistoryPath(cfg);
  if (!lastPoint.has(path)) lastPoint.set(path, (await readLog(path, VERDICT_POINT)).at(-1) ?? null);
  const last = lastPoint.get(path);
  const now = new Date();
  const same = last?.experiment === exp.id && last.decision === v.decision && last.status === exp.status;
  if (same && (v.n === last.n || (v.n < last.n * 1.05 && now.getTime() - Date.parse(last.time) < 60_000))) return;
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  const point: VerdictPoint = {
    experiment: exp.id,
    time: now.toISOString(),
    status: exp.status,
    n: v.n,
    difference: v.difference,
    lower: finite(v.interval[0]),
    upper: finite(v.interval[1]),
    p_value: v.p_value,
    decision: v.decision,
    requests: { champion: v.arms.champion.requests, challenger: v.arms.challenger.requests },
  };
  await appendJsonLine(path, point);
  lastPoint.set(path, point);
}

/**
 * mlops experiment status (and GET /experiment without a server handle): null when none was
 * started. Each look is recorded in the experiment's history (see recordVerdict).
 */
export async function experimentStatus(o: { config: Config }): Promise<{ experiment: ExperimentState; verdict: Verdict } | null> {
  const exp = await readExperiment(experimentPath(o.config));
  if (!exp) return null;
  const stats = await experimentStats(exp, { predictions: predictionsDir(o.config), feedback: feedbackPath(o.config) });
  const v = verdict(exp, stats);
  await recordVerdict(o.config, exp, v);
  return { experiment: exp, verdict: v };
}

/** mlops experiment stop: stopped with the verdict as it stands. */
export async function experimentStop(o: { config: Config; reason?: string }): Promise<{ experiment: ExperimentState; verdict: Verdict }> {
  const st = await experimentStatus(o);
  if (!st || st.experiment.status !== 'running') throw new StateError('no experiment is running', 'start one: `mlops experiment start --challenger V --mode shadow|canary`');
  const experiment = await stopExperiment(experimentPath(o.config), o.reason ?? 'stopped by hand', st.verdict.decision === 'continue' ? null : st.verdict.decision);
  await recordVerdict(o.config, experiment, st.verdict);
  return { experiment, verdict: st.verdict };
}

export interface AutoResult {
  /** What was done: the challenger promoted, the canary stopped, the gate refused, or nothing. */
  action: 'promoted' | 'stopped' | 'gate_refused' | null;
  status: { experiment: ExperimentState; verdict: Verdict } | null;
  reason: string | null;
}

/**
 * promotion.auto: act on the running experiment's verdict now. "Challenger better": promote it to
 * champion through the registry's gate (a promotion event) and stop the experiment; a gate that
 * refuses is recorded by promote and the experiment keeps running. A canary that is
 * significantly worse is stopped. Nothing when promotion.auto is off or the verdict is undecided.
 */
export async function experimentAuto(o: { config: Config }): Promise<AutoResult> {
  const cfg = o.config;
  const status = await experimentStatus(o);
  if (!cfg.promotion.auto || !status) return { action: null, status, reason: null };
  const act = autoAction(status.experiment, status.verdict);
  const path = experimentPath(cfg);
  if (act === 'stop') {
    const experiment = await stopExperiment(path, 'canary significantly worse (promotion.auto)', status.verdict.decision === 'continue' ? null : status.verdict.decision);
    await recordVerdict(cfg, experiment, status.verdict);
    return { action: 'stopped', status: { experiment, verdict: status.verdict }, reason: 'the challenger is significantly worse' };
  }
  if (act !== 'promote') return { action: null, status, reason: null };
  const version = Number(status.experiment.challenger.replace(/^v/, ''));
  const { promote, GateRejectedError } = await import('./promote.js');
  try {
    await promote({ config: cfg, version, reason: `live experiment ${status.experiment.id}: challenger better (always-valid p ${status.verdict.p_value})` });
  } catch (err) {
    if (err instanceof GateRejectedError) return { action: 'gate_refused', status, reason: err.message };
    throw err;
  }
  const experiment = await stopExperiment(path, 'challenger promoted (promotion.auto)', status.verdict.decision === 'continue' ? null : status.verdict.decision);
  await recordVerdict(cfg, experiment, status.verdict);
  return { action: 'promoted', status: { experiment, verdict: status.verdict }, reason: `${status.experiment.challenger} is champion` };
}

/**
 * mlops ingest --from-feedback: the labelled live traffic (the champion's logged inputs and the
 * labels posted for them) written as a new file of the input folder, then a normal ingest, so
 * the next training learns from it: the feedback loop closed. Logged inputs are the model's
 * encoded values, so a model with categorical inputs (logged as level codes) is refused.
 */
export async function ingestFromFeedback(o: { config: Config; since?: Date }): Promise<{ file: string | null; rows: number; ingest: IngestResult }> {
  const cfg = o.config;
  const { model } = await loadModelFrom(cfg, 'champion');
  const coded = model.inputs.filter((s) => s.kind === 'categorical').map((s) => s.name);
  if (coded.length) {
    throw new DataError(`the champion's categorical inputs (${coded.join(', ')}) are logged as level codes, which are not training data`, 'ingest labelled data files instead');
  }
  const path = join(cfg.input_folder_path, `feedback-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`);
  // the same columns as the files already there (every file of the folder must have them)
  const { csv } = await listCsvFiles(cfg.input_folder_path);
  const columns = csv.length ? await readCsvHeader(csv[0]!.path) : undefined;
  const rows = await writeLabelledCsv({ predictions: predictionsDir(cfg), feedback: feedbackPath(cfg), path, features: model.features, target: model.target, columns, since: o.since });
  if (rows === 0) await rm(path, { force: true });
  const { ingest } = await import('./ingest.js');
  return { file: rows ? path : null, rows, ingest: await ingest({ config: cfg }) };
}
