/**
 * trainedmodel.json: the documented, versioned model contract other tools read (README "Model
 * file"). Format "mlops-model/2" for every type:
 *
 *   format, type ("logistic_regression" | "linear_regression" | "gradient_boosting"), task
 *   target          label or target column
 *   labels          classification: {"negative": v, "positive": v}, the original label values
 *   threshold       classification: class 1 when P(class 1) > threshold
 *   features        the input columns the model reads, in order
 *   inputs          per feature how it is encoded: numeric {fill}, boolean {fill, text}, or
 *                   categorical {levels, other, missing}: the most frequent levels; any other
 *                   value (and one unseen in training) is "other", a missing value is its own level
 *   id_columns      identifier columns passed through to predictions
 *   linear          linear types: {intercept, terms: [{name, input, code}], coefficients}: a
 *                   numeric term (code null) is the value (missing: fill), a categorical one the
 *                   indicator of code (a level's index, levels.length for other, -1 for missing)
 *   trees           gradient_boosting: the trees as flat arrays (src/model/gbt/types.ts)
 *   importances     per feature: |coefficient| x std for linear models, split gain for trees (sum 1)
 *   settings, trained_at, training_rows, data_sha256, iterations, converged, gradient_max_norm
 *
 * Version-1 files (logistic regression on numeric features) still load, score and serve.
 */
import { readFile } from 'node:fs/promises';
import { ModelError, quote } from '../errors.js';
import type { LabelMap } from '../data/labels.js';
import { treesProblem, type GbtModel } from './gbt/types.js';
import type { Task } from './metrics.js';

export const MODEL_FORMAT = 'mlops-model/2';
export const MODEL_FORMAT_V1 = 'mlops-model/1';
export type ModelTypeName = 'logistic_regression' | 'linear_regression' | 'gradient_boosting';

export type InputSpec =
  | { name: string; kind: 'numeric'; fill: number }
  | { name: string; kind: 'boolean'; fill: number; text: boolean }
  | { name: string; kind: 'categorical'; levels: string[]; other: number; missing: number };

export interface LinearTerm {
  name: string;
  input: number;
  /** null: the numeric value; else the indicator of this code. */
  code: number | null;
}

export interface LinearPart {
  intercept: number;
  terms: LinearTerm[];
  coefficients: number[];
}

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  type: ModelTypeName;
  task: Task;
  target: string;
  labels: LabelMap | null;
  threshold: number;
  features: string[];
  inputs: InputSpec[];
  id_columns: string[];
  linear: LinearPart | null;
  trees: GbtModel | null;
  importances: number[];
  settings: Record<string, unknown>;
  trained_at: string;
  training_rows: number;
  data_sha256: string;
  iterations: number;
  converged: boolean;
  gradient_max_norm: number | null;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * More features than mlops can fit: Newton's method holds a features x features Hessian, so a
 * file with more was not made by `mlops train` (and its error messages would list them all).
 */
export const MAX_FEATURES = 10_000;

/** Check a parsed model object; `where` names the file in messages. */
export function parseModel(raw: unknown, where: string): ModelFile {
  const bad = (what: string) => new ModelError(`${where}: ${what}`, 'retrain with `mlops train`, or point to a valid model file');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not a model object');
  // own keys only: a file without "threshold" must not find Object.prototype members
  const m = Object.setPrototypeOf({ ...raw }, null) as Record<string, unknown>;
  if (m.format !== MODEL_FORMAT && m.format !== MODEL_FORMAT_V1) {
    throw bad(`unknown model format ${quote(m.format)} (this mlops reads "${MODEL_FORMAT}" and "${MODEL_FORMAT_V1}")`);
  }
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
  const common = {
    target: m.target,
    features: features as string[],
    threshold: isNum(m.threshold) ? m.threshold : 0.5,
    trained_at: String(m.trained_at ?? ''),
    training_rows: isNum(m.training_rows) ? m.training_rows : 0,
    data_sha256: String(m.data_sha256 ?? ''),
    iterations: isNum(m.iterations) ? m.iterations : 0,
    converged: m.converged !== false,
    gradient_max_norm: isNum(m.gradient_max_norm) ? m.gradient_max_norm : null,
  };
  if (m.format === MODEL_FORMAT_V1) {
    if (m.type !== 'logistic_regression') throw bad(`unknown model type ${quote(m.type)}`);
    for (const key of ['coefficients', 'feature_means'] as const) {
      const v = m[key];
      if (!Array.isArray(v) || v.length !== d || !v.every(isNum)) throw bad(`"${key}" must hold ${d} finite numbers`);
    }
    if (!isNum(m.intercept)) throw bad('"intercept" must be a finite number');
    const means = m.feature_means as number[];
    const coefficients = m.coefficients as number[];
    return {
      format: MODEL_FORMAT,
      type: 'logistic_regression',
      task: 'classification',
      labels: { negative: 0, positive: 1 },
      inputs: common.features.map((name, j) => ({ name, kind: 'numeric', fill: means[j]! })),
      id_columns: [],
      linear: { intercept: m.intercept, terms: common.features.map((name, j) => ({ name, input: j, code: null })), coefficients },
      trees: null,
      importances: coefficients.map(Math.abs),
      settings: { C: isNum(m.C) ? m.C : 1 },
      ...common,
    };
  }
  const type = m.type;
  if (type !== 'logistic_regression' && type !== 'linear_regression' && type !== 'gradient_boosting') throw bad(`unknown model type ${quote(type)}`);
  const task = m.task;
  if (task !== 'classification' && task !== 'regression') throw bad(`"task" must be "classification" or "regression", not ${quote(task)}`);
  if ((type === 'logistic_regression' && task !== 'classification') || (type === 'linear_regression' && task !== 'regression')) {
    throw bad(`a ${type} model cannot have task ${quote(task)}`);
  }
  const labels = m.labels as LabelMap | null | undefined;
  const labelOk = (v: unknown) => typeof v === 'string' || isNum(v);
  if (task === 'classification' && !(labels && typeof labels === 'object' && labelOk(labels.negative) && labelOk(labels.positive) && labels.negative !== labels.positive)) {
    throw bad('"labels" must be {"negative": value, "positive": value} with two different values');
  }
  const inputs = m.inputs;
  if (!Array.isArray(inputs) || inputs.length !== d) throw bad(`"inputs" must describe the ${d} features`);
  inputs.forEach((s: unknown, j: number) => {
    const o = (s ?? {}) as Record<string, unknown>;
    if (o.name !== features[j]) throw bad(`"inputs[${j}]" must be for feature ${quote(features[j])}`);
    const ok =
      o.kind === 'numeric' ? isNum(o.fill)
      : o.kind === 'boolean' ? isNum(o.fill) && typeof o.text === 'boolean'
      : o.kind === 'categorical' ? Array.isArray(o.levels) && o.levels.every((l) => typeof l === 'string') && isNum(o.other) && isNum(o.missing)
      : false;
    if (!ok) throw bad(`"inputs[${j}]" is not a valid numeric, boolean or categorical input`);
  });
  let linear: LinearPart | null = null;
  let trees: GbtModel | null = null;
  if (type === 'gradient_boosting') {
    const t = m.trees as GbtModel | undefined;
    if (!t || typeof t !== 'object' || t.kind !== 'gbt' || !Array.isArray(t.trees) || t.n_features !== d || !isNum(t.baseline) || t.task !== task) {
      throw bad('"trees" must hold the fitted trees of the model\'s features');
    }
    const problem = treesProblem(t, d);
    if (problem) throw bad(`"trees": ${problem}`);
    trees = t;
  } else {
    const l = m.linear as LinearPart | undefined;
    if (!l || typeof l !== 'object' || !isNum(l.intercept) || !Array.isArray(l.terms) || !Array.isArray(l.coefficients) || l.terms.length !== l.coefficients.length || !l.coefficients.every(isNum)) {
      throw bad('"linear" must hold an intercept and one finite coefficient per term');
    }
    for (const t of l.terms) {
      if (!t || !Number.isInteger(t.input) || t.input < 0 || t.input >= d || !(t.code === null || Number.isInteger(t.code))) throw bad('"linear.terms" has an invalid term');
    }
    linear = l;
  }
  const ids = Array.isArray(m.id_columns) ? (m.id_columns as unknown[]).filter((c): c is string => typeof c === 'string') : [];
  return {
    format: MODEL_FORMAT,
    type,
    task,
    labels: task === 'classification' ? labels! : null,
    inputs: inputs as InputSpec[],
    id_columns: ids,
    linear,
    trees,
    importances: Array.isArray(m.importances) ? (m.importances as unknown[]).map((v) => (isNum(v) ? v : 0)) : [],
    settings: m.settings && typeof m.settings === 'object' ? (m.settings as Record<string, unknown>) : {},
    ...common,
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
