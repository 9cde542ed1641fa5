/** mlops train: fit logistic regression on finaldata.csv, write trainedmodel.json. */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataError, ModelError, StateError } from '../errors.js';
import { phase } from '../progress.js';
import { imputeInPlace, nanMean, readDataset } from '../data/dataset.js';
import { fitLogistic } from '../model/logreg.js';
import { MODEL_FORMAT, type ModelFile } from '../model/modelfile.js';
import { appendJsonLine, sha256Text, writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { paths, type TrainingRecord } from '../store/records.js';

export interface TrainOptions {
  config: Config;
}

export interface TrainResult {
  model: ModelFile;
  output: string;
  modelSha256: string;
  unlabelledRows: number;
  seconds: number;
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const cfg = opts.config;
  const p = paths(cfg);
  const st = await stat(p.finalData).catch(() => null);
  if (!st) throw new StateError(`${p.finalData}: no ingested data`, 'run `mlops ingest` first');
  const file = { path: p.finalData, name: basename(p.finalData), size: st.size };

  const ds = await readDataset([file], { target: cfg.target, features: cfg.features, name: 'train' });
  phase('train: read data', `read ${ds.rows} labelled rows`);
  const y = ds.y!;
  if (ds.rows === 0) {
    throw new DataError(`${p.finalData}: no rows with a label in "${cfg.target}"`, 'ingest data that has labels');
  }
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i]!;
  if (positives === 0 || positives === y.length) {
    throw new DataError(
      `${p.finalData}: target "${cfg.target}" has a single class (${positives === 0 ? 0 : 1}) in all ${y.length} rows`,
      'training needs examples of both classes 0 and 1',
    );
  }
  const means = ds.X.map(nanMean);
  means.forEach((m, j) => {
    if (Number.isNaN(m)) {
      throw new DataError(`${p.finalData}: feature "${ds.features[j]}" has no values at all`, 'drop it with "features" in config.json');
    }
  });
  imputeInPlace(ds.X, means);
  const fit = fitLogistic(ds.X, y, { C: cfg.model.C, maxIter: cfg.model.max_iter });
  phase('train: fit', `fitted in ${fit.iterations} Newton iterations`);
  if (!fit.converged) {
    throw new ModelError(
      `${p.finalData}: the solver did not converge in ${fit.iterations} iterations (max |gradient| ${fit.gradientMaxNorm.toExponential(2)})`,
      'raise "model": {"max_iter": ...} in config.json or check the features for extreme values',
    );
  }
  const model: ModelFile = {
    format: MODEL_FORMAT,
    type: 'logistic_regression',
    target: cfg.target,
    features: ds.features,
    coefficients: fit.coefficients,
    intercept: fit.intercept,
    feature_means: means,
    C: cfg.model.C,
    trained_at: new Date().toISOString(),
    training_rows: ds.rows,
    data_sha256: ds.table.files[0]!.sha256,
    iterations: fit.iterations,
    gradient_max_norm: fit.gradientMaxNorm,
    converged: fit.converged,
    threshold: 0.5,
  };
  const text = JSON.stringify(model, null, 2) + '\n';
  await writeFileAtomic(p.model, text);
  const seconds = Math.round((performance.now() - t0) * 10) / 1e4;
  const modelSha256 = sha256Text(text);
  const record: TrainingRecord = {
    timestamp: model.trained_at,
    model_sha256: modelSha256,
    data_sha256: model.data_sha256,
    training_rows: model.training_rows,
    iterations: model.iterations,
    seconds,
  };
  await appendJsonLine(p.trainLog, record);
  return { model, output: p.model, modelSha256, unlabelledRows: ds.unlabelled, seconds };
}
