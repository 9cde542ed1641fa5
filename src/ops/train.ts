/** mlops train: fit logistic regression on finaldata.csv, write trainedmodel.json. */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataError, ModelError, StateError } from '../errors.js';
import { phase } from '../progress.js';
import { imputeInPlace, nanMean, readDataset } from '../data/dataset.js';
import { fitLogistic } from '../model/logreg.js';
import { MODEL_FORMAT, type ModelFile } from '../model/modelfile.js';
import { appendJsonLine, sha256Text, writeFileAtomic } from '../store/atomic.js';
import { readLog } from '../store/statefile.js';
import { currentChampion } from '../store/champion.js';
import type { Config } from '../store/config.js';
import { INGESTION_RECORD, paths, type TrainingRecord } from '../store/records.js';
import { appendEvent, registerModel, versionModelPath, versionName, type VersionSummary } from '../store/registry.js';

export interface TrainOptions {
  config: Config;
  /** Free text kept with the registered version. */
  note?: string | null;
  tags?: Record<string, string>;
  /** Rows to leave out of the fit (the loop's holdout): keys from holdoutKey. */
  exclude?: ReadonlySet<string> | null;
}

export interface TrainResult {
  model: ModelFile;
  output: string;
  modelSha256: string;
  /** Registry version, and whether this training created it (false: identical content existed). */
  version: number;
  created: boolean;
  /** Rows left out of the fit because they are in the holdout. */
  heldOut: number;
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
  const heldOut = opts.exclude?.size ? dropRows(ds, opts.exclude) : 0;
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
  let text = JSON.stringify(model, null, 2) + '\n';
  const reg = await registerTrained(cfg, text, model, 'train', { note: opts.note ?? null, tags: opts.tags ?? {}, heldOut });
  // Identical content is the same version: the file keeps the registered bytes.
  text = await readFile(versionModelPath(cfg, reg.record.version), 'utf8');
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
  return {
    model: JSON.parse(text) as ModelFile,
    output: p.model,
    modelSha256,
    version: reg.record.version,
    created: reg.created,
    heldOut,
    unlabelledRows: ds.unlabelled,
    seconds,
  };
}

/** The key of a row for the holdout split: its feature values and label. */
export function holdoutKey(X: readonly Float64Array[], y: Float64Array, i: number): string {
  let k = '';
  for (const col of X) k += `${col[i]},`;
  return k + y[i];
}

/** Remove the rows whose key is in `exclude`, in place; returns how many. */
function dropRows(ds: { X: Float64Array[]; y: Float64Array | null; rows: number }, exclude: ReadonlySet<string>): number {
  const y = ds.y!;
  const keep: number[] = [];
  for (let i = 0; i < y.length; i++) if (!exclude.has(holdoutKey(ds.X, y, i))) keep.push(i);
  const pick = (col: Float64Array) => Float64Array.from(keep, (i) => col[i]!);
  ds.X = ds.X.map(pick);
  ds.y = pick(y);
  const dropped = ds.rows - keep.length;
  ds.rows = keep.length;
  return dropped;
}

/**
 * Register a model file as a version (identical content: the existing version), with the
 * ingestion it came from and the champion it was trained to replace; records the event.
 */
export async function registerTrained(
  cfg: Config,
  text: string,
  model: ModelFile,
  source: 'train' | 'deploy',
  extra: { note?: string | null; tags?: Record<string, string>; heldOut?: number } = {},
): Promise<{ record: VersionSummary; created: boolean }> {
  const ingestion = (await readLog(paths(cfg).ingestionLog, INGESTION_RECORD)).filter((r) => r.output_sha256 === model.data_sha256).at(-1);
  const champion = await currentChampion(cfg).catch(() => null);
  const reg = await registerModel(cfg, {
    modelText: text,
    model_type: model.type,
    target: model.target,
    features: model.features,
    settings: { C: model.C, max_iter: cfg.model.max_iter, threshold: model.threshold, held_out_rows: extra.heldOut ?? 0 },
    training_data: { sha256: model.data_sha256, rows: model.training_rows },
    ingestion: ingestion ? { timestamp: ingestion.timestamp, input_folder: ingestion.input_folder, output_sha256: ingestion.output_sha256 } : null,
    replaces: champion?.version ?? null,
    tags: extra.tags,
    note: extra.note,
    source,
  });
  if (reg.created) {
    await appendEvent(cfg, {
      kind: 'registered',
      version: reg.record.version,
      reason: `${source === 'train' ? 'trained' : 'registered on deploy'} on ${model.training_rows} rows${champion ? ` to replace ${versionName(champion.version)}` : ''}`,
      details: extra.note ? { note: extra.note } : undefined,
    });
  }
  return reg;
}
