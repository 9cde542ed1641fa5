/**
 * mlops drift: model drift (the new score against the score history) and data drift (the
 * deployed model's training data against current data), with every statistic, threshold and
 * verdict. The CLI exits 4 when any selected test finds drift.
 */
import { ConfigError, StateError } from '../errors.js';
import { csvFilesAt } from '../data/csvfiles.js';
import { metricsOf } from '../model/metrics.js';
import { liveInputs, predictionsDir } from '../live/predlog.js';
import { readForModel } from './modeldata.js';
import { higherIsBetter } from '../model/metrics.js';
import { loadModel, type ModelFile } from '../model/modelfile.js';
import { csvSha256 } from '../data/columnar.js';
import { currentChampion, syncRegistry } from '../store/champion.js';
import type { Config } from '../store/config.js';
import { metricValue, readEvaluations, type Evaluation } from '../store/evaluations.js';
import { paths } from '../store/records.js';
import { championStack, readEvents } from '../store/registry.js';
import { currentManifest, currentReleaseDir } from '../store/releases.js';
import { dataDriftSettings, featureDrift, judgeDataset, type FeatureDrift } from '../stats/datadrift.js';
import {
  nonparametricTest,
  parametricTest,
  rawTest,
  welchScoreTest,
  SCORE_TESTS,
  type ScoreTestName,
  type ScoreTestResult,
} from '../stats/scoredrift.js';
import { TRAINING_DATA } from '../store/releases.js';
import { join } from 'node:path';


export interface ModelDriftOptions {
  config: Config;
  metric?: string;
  tests?: readonly ScoreTestName[];
  /**
   * The loop's check: the champion's score on the newly ingested data (already recorded as a
   * `new-data` evaluation with this data hash), judged against the champion's other evidence.
   */
  newData?: { score: number; data_sha256: string };
}

/** An evaluation a test looked at. */
export interface ComparedRecord {
  timestamp: string;
  version: number | null;
  role: string;
  data_sha256: string;
  rows: number;
  score: number;
}

export interface ModelDriftResult {
  metric: string;
  direction: 'higher is better' | 'lower is better';
  /** The champion the verdict is about, or null when nothing is deployed. */
  champion: number | null;
  newScore: number | null;
  previous: number[];
  /** The records behind newScore and previous (and, for welch, the previous champion's). */
  compared: { new: ComparedRecord | null; previous: ComparedRecord[]; previousChampion: ComparedRecord[] };
  tests: ScoreTestResult[];
  drift: boolean;
}

const ref = (e: Evaluation, metric: string): ComparedRecord => ({
  timestamp: e.timestamp,
  version: e.version,
  role: e.role,
  data_sha256: e.data_sha256,
  rows: e.rows,
  score: metricValue(e, metric),
});

/** The latest evaluation per data hash, in time order (one model scores one data set once). */
function perData(evals: readonly Evaluation[]): Evaluation[] {
  const last = new Map<string, Evaluation>();
  for (const e of evals) {
    last.delete(e.data_sha256);
    last.set(e.data_sha256, e);
  }
  return [...last.values()];
}

/**
 * Model drift compares like with like: the champion's newest evaluation (on the reference test
 * set or on newly ingested data, never ad-hoc) against the champion's earlier evaluations on
 * other data of that role and, for new data, its scores on the reference test set. Welch
 * compares the champion with the previous champion on the data both were scored on. A rejected
 * candidate's or an ad-hoc score never enters a verdict about the champion.
 */
export async function modelDrift(opts: ModelDriftOptions): Promise<ModelDriftResult> {
  const cfg = opts.config;
  const metric = opts.metric ?? cfg.drift.metric;
  const higher = higherIsBetter(metric);
  const tests = opts.tests ?? SCORE_TESTS;
  await syncRegistry(cfg);
  const champ = await currentChampion(cfg);
  // Two versions on the same data: the champion against the champion before it.
  const stack = championStack(await readEvents(cfg, true));
  const prevChampion = champ ? stack.filter((v) => v !== champ.version).at(-1) : undefined;
  const evals = champ ? await readEvaluations(cfg, { versions: prevChampion === undefined ? [champ.version] : [champ.version, prevChampion] }) : [];
  const own = champ ? evals.filter((e) => e.version === champ.version && (e.role === 'test' || e.role === 'new-data')) : [];
  let newRec: Evaluation | null = null;
  let newScore = Number.NaN;
  if (opts.newData) {
    newScore = opts.newData.score;
    newRec = [...own].reverse().find((e) => e.data_sha256 === opts.newData!.data_sha256) ?? null;
  } else {
    newRec = own.at(-1) ?? null;
    newScore = newRec ? metricValue(newRec, metric) : Number.NaN;
  }
  const newData = opts.newData?.data_sha256 ?? newRec?.data_sha256;
  const role = opts.newData ? 'new-data' : newRec?.role;
  // The baseline: the champion's earlier scores on other data of the same role; for new data
  // also its score on the test set it was promoted on (its deployed score). A later score on a
  // refreshed test set is evidence about the champion, not a baseline for new data.
  const promotedOn = champ?.manifest.evaluation?.data_sha256 ?? own.find((e) => e.role === 'test')?.data_sha256;
  const baseline = perData(
    own.filter((e) => e.data_sha256 !== newData && (e.role === role || (role === 'new-data' && e.role === 'test' && e.data_sha256 === promotedOn))),
  );
  const previous = baseline.map((e) => metricValue(e, metric));
  const mine = perData(own);
  const theirs = prevChampion === undefined ? [] : perData(evals.filter((e) => e.version === prevChampion && e.role !== 'adhoc'));
  const shared = new Set(theirs.map((e) => e.data_sha256));
  const mineShared = mine.filter((e) => shared.has(e.data_sha256));
  const theirsShared = theirs.filter((e) => mineShared.some((m) => m.data_sha256 === e.data_sha256));
  const results: ScoreTestResult[] = [];
  for (const t of tests) {
    if (t === 'raw') results.push(rawTest(previous, newScore, higher));
    if (t === 'parametric') results.push(parametricTest(previous, newScore, higher, cfg.drift.parametric_sigmas));
    if (t === 'nonparametric') results.push(nonparametricTest(previous, newScore, higher, cfg.drift.iqr_factor));
    if (t === 'welch' && !opts.newData) {
      results.push(welchScoreTest(theirsShared.map((e) => metricValue(e, metric)), mineShared.map((e) => metricValue(e, metric)), higher, cfg.drift.p_value));
    }
  }
  return {
    metric,
    direction: higher ? 'higher is better' : 'lower is better',
    champion: champ?.version ?? null,
    newScore: Number.isFinite(newScore) ? newScore : null,
    previous,
    compared: {
      new: newRec ? ref(newRec, metric) : null,
      previous: baseline.map((e) => ref(e, metric)),
      previousChampion: theirsShared.map((e) => ref(e, metric)),
    },
    tests: results,
    drift: results.some((r) => r.verdict === 'drift'),
  };
}

export interface DataDriftOptions {
  config: Config;
  /** File or folder of current data, or "live" for the logged live traffic; default the newly ingested finaldata.csv. */
  current?: string;
  /** With current "live": predictions since then. */
  since?: Date;
}

export interface DataDriftResult {
  reference: string;
  current: string;
  /** Rows of the current data (live: logged predictions in the window). */
  current_rows: number;
  features: FeatureDrift[];
  drifted: number;
  share: number;
  threshold: number;
  datasetDrift: boolean;
}

export interface DriftResult {
  model: ModelDriftResult | null;
  data: DataDriftResult | null;
  /** Why a part was skipped (nothing deployed, no history, ...). */
  notes: string[];
  drift: boolean;
}

export async function dataDrift(opts: DataDriftOptions): Promise<DataDriftResult> {
  if (opts.config.engine.type === 'clickhouse') return (await import('../engine/clickhouse/ops/drift.js')).dataDriftOnClickHouse(opts);
  const cfg = opts.config;
  const release = await currentReleaseDir(cfg.prod_deployment_path);
  if (!release) throw new StateError(`${cfg.prod_deployment_path}: nothing is deployed, so there is no reference data`, 'run `mlops deploy` first');
  const { model } = await loadModel(join(release, 'trainedmodel.json'));
  const refPath = join(release, TRAINING_DATA);
  const refFiles = await csvFilesAt(refPath).catch(() => {
    throw new StateError(`${refPath}: the deployed release has no copy of its training data`, 'redeploy with `mlops run` to record one');
  });
  const ref = await readForModel(model, refFiles, { name: 'reference', target: false });
  // `--current live`: the inputs the server logged (src/live/predlog.ts), in the model's encoding
  const live = opts.current === 'live';
  const curPath = live ? `live traffic${opts.since ? ` since ${opts.since.toISOString()}` : ''}` : (opts.current ?? paths(cfg).finalData);
  const cur = live ? await liveInputs(predictionsDir(cfg), model.features, { since: opts.since }) : await readForModel(model, await csvFilesAt(curPath), { name: 'current', target: false });
  return { reference: refPath, current: curPath, current_rows: cur.rows, ...judgeDataDrift(cfg, model, ref.X, cur.X) };
}

/** Every feature's drift verdict and the dataset's, from the encoded reference and current columns. */
export function judgeDataDrift(
  cfg: Config,
  model: ModelFile,
  refX: readonly Float64Array[],
  curX: readonly Float64Array[],
): Omit<DataDriftResult, 'reference' | 'current' | 'current_rows'> {
  const settings = dataDriftSettings(cfg.drift);
  const features = model.features.map((f, j) => featureDrift(f, refX[j]!, curX[j]!, settings, model.inputs[j]!.kind === 'categorical'));
  return judgeDataset(features, cfg.drift.dataset_share);
}

/** Whether the current data file is byte for byte the deployed release's training data. */
async function isDeployedTrainingData(cfg: Config, current: string | undefined): Promise<boolean> {
  if (cfg.engine.type === 'clickhouse') return (await import('../engine/clickhouse/ops/drift.js')).currentIsTrainingDataOnClickHouse(cfg, current);
  // the release's manifest already holds the reference's hash: only the current file is read
  const ref = (await currentManifest(cfg.prod_deployment_path))?.files[TRAINING_DATA]?.sha256;
  if (!ref) return false;
  // the hash ingest recorded while the file is unchanged since (data/columnar.ts)
  const cur = await csvSha256(current ?? paths(cfg).finalData).catch(() => null);
  return cur === ref;
}

export interface DriftOptions {
  config: Config;
  metric?: string;
  tests?: readonly ScoreTestName[];
  current?: string;
  since?: Date;
  /** Run only one part. */
  only?: 'model' | 'data';
}

export async function drift(opts: DriftOptions): Promise<DriftResult> {
  const notes: string[] = [];
  let model: ModelDriftResult | null = null;
  let data: DataDriftResult | null = null;
  if (opts.only !== 'data') {
    const known = metricsOf(opts.config.task);
    if (opts.metric && !known.includes(opts.metric)) {
      throw new ConfigError(`--metric ${opts.metric}: unknown metric for a ${opts.config.task} task`, `use ${known.join(', ')}`);
    }
    model = await modelDrift(opts);
    if (model.newScore === null) notes.push('model drift: no score history yet (run `mlops score`)');
  }
  if (opts.only !== 'model') {
    try {
      if (opts.current !== 'live' && (await isDeployedTrainingData(opts.config, opts.current))) {
        notes.push('data drift skipped: the current data is the deployed training data itself');
        return { model, data, notes, drift: Boolean(model?.drift) };
      }
      data = await dataDrift(opts);
    } catch (err) {
      if (opts.only === 'data' || !(err instanceof StateError)) throw err;
      notes.push(`data drift skipped: ${err.message}`);
    }
  }
  return { model, data, notes, drift: Boolean(model?.drift || data?.datasetDrift) };
}
