/**
 * trainedmodel.json: the documented, versioned model contract other tools read.
 *
 *   format          "mlops-model/1"
 *   type            "logistic_regression"
 *   target          label column
 *   features        feature columns, in coefficient order
 *   coefficients    one per feature
 *   intercept       number
 *   feature_means   training mean per feature; missing values are replaced by it
 *   C               inverse regularisation strength
 *   trained_at      ISO timestamp
 *   training_rows   rows used for the fit
 *   data_sha256     SHA-256 of the training data file
 *   iterations      Newton iterations used
 *   gradient_max_norm, converged: solver diagnostics
 *   threshold       decision threshold in (0, 1): class 1 when P(class 1) > threshold; 0.5 when absent
 */
import { readFile } from 'node:fs/promises';
import { ModelError, quote } from '../errors.js';
import { predictProba } from './logreg.js';
import { imputeInPlace } from '../data/dataset.js';

export const MODEL_FORMAT = 'mlops-model/1';

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  type: 'logistic_regression';
  target: string;
  features: string[];
  coefficients: number[];
  intercept: number;
  feature_means: number[];
  C: number;
  trained_at: string;
  training_rows: number;
  data_sha256: string;
  iterations: number;
  gradient_max_norm: number;
  converged: boolean;
  threshold: number;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * More features than mlops can fit: Newton's method holds a features x features Hessian, so a
 * file with more was not made by `mlops train` (and its error messages would list them all).
 */
export const MAX_FEATURES = 10_000;

/** Check a parsed model object; `where` names the file in messages. */
export function parseModel(raw: unknown, where: string): ModelFile {
  const bad = (what: string) =>
    new ModelError(`${where}: ${what}`, 'retrain with `mlops train`, or point to a valid model file');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not a model object');
  // own keys only: a file without "threshold" must not find Object.prototype members
  const m = Object.setPrototypeOf({ ...raw }, null) as Record<string, unknown>;
  if (m.format !== MODEL_FORMAT) {
    throw bad(`unknown model format ${quote(m.format)} (this mlops reads "${MODEL_FORMAT}")`);
  }
  if (m.type !== 'logistic_regression') throw bad(`unknown model type ${quote(m.type)}`);
  if (typeof m.target !== 'string' || m.target === '') throw bad('"target" must be a non-empty string');
  const features = m.features;
  if (!Array.isArray(features) || features.length === 0 || !features.every((f) => typeof f === 'string' && f !== '')) {
    throw bad('"features" must be a non-empty array of column names');
  }
  if (features.length > MAX_FEATURES) throw bad(`"features" lists ${features.length} columns; mlops fits at most ${MAX_FEATURES}`);
  const seen = new Set<string>();
  for (const f of features as string[]) {
    if (f === m.target) throw bad(`"features" includes the target ${quote(f)}`);
    if (seen.has(f)) throw bad(`"features" lists ${quote(f)} twice`);
    seen.add(f);
  }
  if (m.threshold !== undefined && !(isNum(m.threshold) && m.threshold > 0 && m.threshold < 1)) {
    throw bad(`"threshold" must be a number in (0, 1), not ${quote(m.threshold)}`);
  }
  const d = features.length;
  for (const key of ['coefficients', 'feature_means'] as const) {
    const v = m[key];
    if (!Array.isArray(v) || v.length !== d || !v.every(isNum)) throw bad(`"${key}" must hold ${d} finite numbers`);
  }
  if (!isNum(m.intercept)) throw bad('"intercept" must be a finite number');
  return {
    format: MODEL_FORMAT,
    type: 'logistic_regression',
    target: m.target,
    features: features as string[],
    coefficients: m.coefficients as number[],
    intercept: m.intercept,
    feature_means: m.feature_means as number[],
    C: isNum(m.C) ? m.C : 1,
    trained_at: String(m.trained_at ?? ''),
    training_rows: isNum(m.training_rows) ? m.training_rows : 0,
    data_sha256: String(m.data_sha256 ?? ''),
    iterations: isNum(m.iterations) ? m.iterations : 0,
    gradient_max_norm: isNum(m.gradient_max_norm) ? m.gradient_max_norm : Number.NaN,
    converged: m.converged !== false,
    threshold: isNum(m.threshold) ? m.threshold : 0.5,
  };
}

export function parseModelText(text: string, where: string): ModelFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`${where}: model file is corrupt (${(err as Error).message})`, 'retrain with `mlops train`');
  }
  return parseModel(raw, where);
}

export async function loadModel(path: string): Promise<{ model: ModelFile; text: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelError(
      `${path}: cannot read model file (${code === 'ENOENT' ? 'not found' : code})`,
      'run `mlops train` first (or `mlops deploy` for the production model)',
    );
  }
  return { model: parseModelText(text, path), text };
}

/** Probabilities of class 1; missing feature values (NaN) are replaced by the training means. */
export function modelProba(model: ModelFile, X: Float64Array[]): Float64Array {
  imputeInPlace(X, model.feature_means);
  return predictProba(X, model.intercept, model.coefficients);
}
