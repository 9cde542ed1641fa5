/**
 * mlops drift: model drift (the new score against the score history) and data drift (the
 * deployed model's training data against current data), with every statistic, threshold and
 * verdict. The CLI exits 4 when any selected test finds drift.
 */
import { ConfigError, StateError } from '../errors.js';
import { csvFilesAt } from '../data/csvfiles.js';
import { readDataset } from '../data/dataset.js';
import { higherIsBetter } from '../model/metrics.js';
import { loadModel } from '../model/modelfile.js';
import { readJsonLines, sha256File } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { paths, type Metrics, type ScoreRecord } from '../store/records.js';
import { currentManifest, currentReleaseDir } from '../store/releases.js';
import { featureDrift, type FeatureDrift } from '../stats/datadrift.js';
import {
  nonparametricTest,
  parametricTest,
  rawTest,
  welchScoreTest,
  SCORE_TESTS,
  type ScoreTestName,
  type ScoreTestResult,
} from '../stats/scoredrift.js';
import { TRAINING_DATA } from './deploy.js';
import { join } from 'node:path';


export interface ModelDriftOptions {
  config: Config;
  metric?: string;
  tests?: readonly ScoreTestName[];
  /** Compare this score instead of the last history record (used by the run loop). */
  newScore?: number;
  /** History to compare against instead of score_history.jsonl (used by the run loop). */
  previous?: readonly number[];
}

export interface ModelDriftResult {
  metric: string;
  direction: 'higher is better' | 'lower is better';
  newScore: number | null;
  previous: number[];
  tests: ScoreTestResult[];
  drift: boolean;
}

export interface DataDriftOptions {
  config: Config;
  /** File or folder of current data; default the newly ingested finaldata.csv. */
  current?: string;
}

export interface DataDriftResult {
  reference: string;
  current: string;
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

const metricOf = (r: ScoreRecord, metric: string) => {
  const v = r.metrics[metric as keyof Metrics];
  return typeof v === 'number' ? v : Number.NaN;
};

export async function modelDrift(opts: ModelDriftOptions): Promise<ModelDriftResult> {
  const cfg = opts.config;
  const metric = opts.metric ?? cfg.drift.metric;
  const higher = higherIsBetter(metric);
  const tests = opts.tests ?? SCORE_TESTS;
  const history = await readJsonLines<ScoreRecord>(paths(cfg).scoreHistory);
  let previous: number[];
  let newScore: number;
  let newRecords = history;
  let prevModelScores: number[] = [];
  if (opts.newScore !== undefined) {
    newScore = opts.newScore;
    previous = [...(opts.previous ?? history.map((r) => metricOf(r, metric)))];
  } else {
    const last = history.at(-1);
    newScore = last ? metricOf(last, metric) : Number.NaN;
    previous = history.slice(0, -1).map((r) => metricOf(r, metric));
    if (last) {
      // Two-model comparison: every score of the newest model against those of the model before it.
      newRecords = history.filter((r) => r.model_sha256 === last.model_sha256);
      const earlier = history.filter((r) => r.model_sha256 !== last.model_sha256);
      const prevSha = earlier.at(-1)?.model_sha256;
      prevModelScores = earlier.filter((r) => r.model_sha256 === prevSha).map((r) => metricOf(r, metric));
    }
  }
  const results: ScoreTestResult[] = [];
  for (const t of tests) {
    if (t === 'raw') results.push(rawTest(previous, newScore, higher));
    if (t === 'parametric') results.push(parametricTest(previous, newScore, higher, cfg.drift.parametric_sigmas));
    if (t === 'nonparametric') results.push(nonparametricTest(previous, newScore, higher, cfg.drift.iqr_factor));
    if (t === 'welch' && opts.newScore === undefined) {
      results.push(welchScoreTest(prevModelScores, newRecords.map((r) => metricOf(r, metric)), higher, cfg.drift.p_value));
    }
  }
  return {
    metric,
    direction: higher ? 'higher is better' : 'lower is better',
    newScore: Number.isFinite(newScore) ? newScore : null,
    previous,
    tests: results,
    drift: results.some((r) => r.verdict === 'drift'),
  };
}

export async function dataDrift(opts: DataDriftOptions): Promise<DataDriftResult> {
  const cfg = opts.config;
  const release = await currentReleaseDir(cfg.prod_deployment_path);
  if (!release) throw new StateError(`${cfg.prod_deployment_path}: nothing is deployed, so there is no reference data`, 'run `mlops deploy` first');
  const { model } = await loadModel(join(release, 'trainedmodel.json'));
  const refPath = join(release, TRAINING_DATA);
  const refFiles = await csvFilesAt(refPath).catch(() => {
    throw new StateError(`${refPath}: the deployed release has no copy of its training data`, 'redeploy with `mlops run` to record one');
  });
  const curPath = opts.current ?? paths(cfg).finalData;
  const curFiles = await csvFilesAt(curPath);
  const spec = { target: null, features: model.features } as const;
  const ref = await readDataset(refFiles, { ...spec, name: 'reference' });
  const cur = await readDataset(curFiles, { ...spec, name: 'current' });
  const settings = {
    pValue: cfg.drift.p_value,
    psi: cfg.drift.psi,
    wasserstein: cfg.drift.wasserstein,
    minRows: cfg.drift.min_rows,
    maxCategories: cfg.drift.max_categories,
  };
  const features = model.features.map((f, j) => featureDrift(f, ref.X[j]!, cur.X[j]!, settings));
  const drifted = features.filter((f) => f.verdict === 'drift').length;
  const judged = features.filter((f) => f.verdict !== 'too few rows').length;
  const share = judged === 0 ? 0 : drifted / features.length;
  return {
    reference: refPath,
    current: curPath,
    features,
    drifted,
    share,
    threshold: cfg.drift.dataset_share,
    datasetDrift: judged > 0 && share >= cfg.drift.dataset_share,
  };
}

/** Whether the current data file is byte for byte the deployed release's training data. */
async function isDeployedTrainingData(cfg: Config, current: string | undefined): Promise<boolean> {
  // the release's manifest already holds the reference's hash: only the current file is read
  const ref = (await currentManifest(cfg.prod_deployment_path))?.files[TRAINING_DATA]?.sha256;
  if (!ref) return false;
  const cur = await sha256File(current ?? paths(cfg).finalData).catch(() => null);
  return cur === ref;
}

export interface DriftOptions {
  config: Config;
  metric?: string;
  tests?: readonly ScoreTestName[];
  current?: string;
  /** Run only one part. */
  only?: 'model' | 'data';
}

export async function drift(opts: DriftOptions): Promise<DriftResult> {
  const notes: string[] = [];
  let model: ModelDriftResult | null = null;
  let data: DataDriftResult | null = null;
  if (opts.only !== 'data') {
    if (opts.metric && !['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss'].includes(opts.metric)) {
      throw new ConfigError(`--metric ${opts.metric}: unknown metric`, 'use f1, precision, recall, accuracy, roc_auc or log_loss');
    }
    model = await modelDrift(opts);
    if (model.newScore === null) notes.push('model drift: no score history yet (run `mlops score`)');
  }
  if (opts.only !== 'model') {
    try {
      if (await isDeployedTrainingData(opts.config, opts.current)) {
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
