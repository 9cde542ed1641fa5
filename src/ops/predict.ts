/** mlops predict: predictions and probabilities of a model for any file with its feature columns. */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataError } from '../errors.js';
import { readDataset } from '../data/dataset.js';
import { modelProba } from '../model/modelfile.js';
import type { Config } from '../store/config.js';
import { loadModelFrom, type ModelChoice } from './modelchoice.js';

export interface PredictOptions {
  config: Config;
  input: string;
  model?: ModelChoice;
}

export interface PredictResult {
  input: string;
  model: string;
  predictions: number[];
  probabilities: number[];
}

export async function predict(opts: PredictOptions): Promise<PredictResult> {
  const { model, path } = await loadModelFrom(opts.config, opts.model ?? 'production');
  const st = await stat(opts.input).catch(() => null);
  if (!st?.isFile()) throw new DataError(`${opts.input}: no such file`, 'pass --input PATH to a CSV file');
  const file = { path: opts.input, name: basename(opts.input), size: st.size };
  const ds = await readDataset([file], { target: null, features: model.features, name: 'predict' });
  const proba = modelProba(model, ds.X);
  const probabilities = Array.from(proba);
  return {
    input: opts.input,
    model: path,
    predictions: probabilities.map((p) => (p > model.threshold ? 1 : 0)),
    probabilities,
  };
}
