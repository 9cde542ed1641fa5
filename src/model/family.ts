/**
 * The model family behind one interface: fit (from encoded columns), predict (probability of
 * class 1, or the value), the inputs' encoding, and the one-row path the server uses. ops/ calls
 * these and never learns each type.
 *
 * Encoded columns, shared by every type: a numeric or boolean input is its value (NaN when
 * missing); a categorical one is its code: the index of its level, levels.length for any other
 * value, NaN when missing. Linear models expand that into terms (one-hot, missing -> fill);
 * boosted trees split on it directly (missing values take a learned side).
 */
import { DataError, ModelError } from '../errors.js';
import type { Frame } from '../data/frame.js';
import { booleanValue, type ColumnRole } from './roles.js';
import { fitLogistic, predictProba, sigmoid } from './logreg.js';
import { fitLinear, predictLinear } from './linreg.js';
// (the trees' fitting code is loaded only to fit trees: it is most of a verb's modules)
import { predictGbt, predictRowGbt } from './gbt/predict.js';
import { treesProblem } from './gbt/types.js';
import type { ModelSettings } from '../store/config.js';
import type { InputSpec, LinearPart, LinearTerm, ModelFile } from './modelfile.js';
import type { Task } from './metrics.js';

/** Encoded inputs of a frame, and per categorical input how many values were not among its levels. */
export interface Encoded {
  X: Float64Array[];
  /** input name -> values outside the model's levels (encoded as other). */
  unseen: Record<string, number>;
}

/** Read and encode the model's inputs from a frame (the columns must be there). */
export async function encodeFrame(inputs: readonly InputSpec[], frame: Frame): Promise<Encoded> {
  const X: Float64Array[] = [];
  const unseen: Record<string, number> = {};
  const kinds = new Map(frame.table.columns.map((c) => [c.name, c.kind]));
  // the numeric columns in one request (one query, or the columnar copy's blocks read at once)
  const asNumbers = inputs.filter((s) => s.kind !== 'categorical' && !(s.kind === 'boolean' && kinds.get(s.name) === 'string')).map((s) => s.name);
  const numbers = new Map(asNumbers.length ? (await frame.numeric(asNumbers)).map((col, k) => [asNumbers[k]!, col]) : []);
  for (const s of inputs) {
    if (s.kind === 'categorical') {
      const { codes, other } = await frame.codes(s.name, s.levels);
      X.push(codes);
      unseen[s.name] = other;
    } else if (s.kind === 'boolean' && kinds.get(s.name) === 'string') X.push(await frame.booleans(s.name));
    else X.push(numbers.get(s.name)!);
  }
  return { X, unseen };
}

/** The terms of a linear model over the inputs (one-hot for categoricals). */
export function linearTerms(inputs: readonly InputSpec[], dropReference: boolean): LinearTerm[] {
  const terms: LinearTerm[] = [];
  inputs.forEach((s, input) => {
    if (s.kind !== 'categorical') {
      terms.push({ name: s.name, input, code: null });
      return;
    }
    // alpha 0: the most frequent level is the reference (its indicator would be collinear with the intercept)
    s.levels.forEach((level, i) => {
      if (!(dropReference && i === 0)) terms.push({ name: `${s.name}=${level}`, input, code: i });
    });
    if (s.other > 0) terms.push({ name: `${s.name}=(other)`, input, code: s.levels.length });
    if (s.missing > 0) terms.push({ name: `${s.name}=(missing)`, input, code: -1 });
  });
  return terms;
}

/** The value of a term for an encoded value x. */
function termValue(t: LinearTerm, spec: InputSpec, x: number): number {
  if (t.code === null) return x === x ? x : (spec as { fill: number }).fill;
  if (x !== x) return t.code === -1 ? 1 : 0;
  return x === t.code ? 1 : 0;
}

/** The design matrix of a linear model: one column per term. */
export function design(inputs: readonly InputSpec[], terms: readonly LinearTerm[], X: readonly Float64Array[]): Float64Array[] {
  return terms.map((t) => {
    const x = X[t.input]!;
    const spec = inputs[t.input]!;
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = termValue(t, spec, x[i]!);
    return out;
  });
}

/** Probability of class 1 (classification) or the predicted value (regression), per row. */
export function predictEncoded(model: ModelFile, X: readonly Float64Array[]): Float64Array {
  if (model.trees) {
    const raw = predictGbt(model.trees, X);
    if (model.task === 'classification') for (let i = 0; i < raw.length; i++) raw[i] = sigmoid(raw[i]!);
    return raw;
  }
  const l = model.linear!;
  const D = design(model.inputs, l.terms, X);
  if (D.length === 0) {
    const n = X[0]?.length ?? 0;
    return new Float64Array(n).fill(model.task === 'classification' ? sigmoid(l.intercept) : l.intercept);
  }
  return model.task === 'classification' ? predictProba(D, l.intercept, l.coefficients) : predictLinear(D, l.intercept, l.coefficients);
}

/** The output label of a prediction: the original label value, or the value itself. */
export function outputLabel(model: ModelFile, p: number): number | string {
  if (model.task === 'regression') return p;
  return p > model.threshold ? model.labels!.positive : model.labels!.negative;
}

/** level -> code of a categorical input, built once per model (a request looks it up, not scans up to 254 levels). */
const levelIndexes = new WeakMap<InputSpec, Map<string, number>>();
function levelIndex(s: Extract<InputSpec, { kind: 'categorical' }>): Map<string, number> {
  let m = levelIndexes.get(s);
  if (!m) levelIndexes.set(s, (m = new Map(s.levels.map((l, i) => [l, i]))));
  return m;
}

/**
 * One row as the server receives it (a JSON object of column values) encoded to the model's
 * inputs; values of categorical inputs may be strings or numbers. Returns the encoded row and
 * the names of categorical inputs whose value was not among the levels.
 */
export function encodeRow(model: ModelFile, row: Record<string, unknown>, where: string): { x: Float64Array; unseen: string[] } {
  const x = new Float64Array(model.inputs.length);
  const unseen: string[] = [];
  model.inputs.forEach((s, j) => {
    const v = Object.hasOwn(row, s.name) ? row[s.name] : undefined;
    if (v === null || v === undefined || v === '') {
      x[j] = Number.NaN;
      return;
    }
    if (s.kind === 'categorical') {
      const i = levelIndex(s).get(typeof v === 'string' ? v : String(v));
      if (i === undefined) unseen.push(s.name);
      x[j] = i ?? s.levels.length;
      return;
    }
    if (s.kind === 'boolean' && (typeof v === 'string' || typeof v === 'boolean')) {
      const b = typeof v === 'boolean' ? Number(v) : booleanValue(v);
      if (b === undefined) throw new DataError(`${where}: column "${s.name}" holds ${JSON.stringify(v)}, not true/false, yes/no or 1/0`);
      x[j] = b;
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataError(`${where}: column "${s.name}" holds ${JSON.stringify(v)}, not a finite number`);
    x[j] = v;
  });
  return { x, unseen };
}

/** Probability or value of one encoded row, without building columns. */
export function predictOne(model: ModelFile, x: Float64Array): number {
  if (model.trees) {
    const raw = predictRowGbt(model.trees, x);
    return model.task === 'classification' ? sigmoid(raw) : raw;
  }
  const l = model.linear!;
  let z = l.intercept;
  for (let k = 0; k < l.terms.length; k++) {
    const t = l.terms[k]!;
    z += l.coefficients[k]! * termValue(t, model.inputs[t.input]!, x[t.input]!);
  }
  return model.task === 'classification' ? sigmoid(z) : z;
}

export interface FitInput {
  task: Task;
  settings: ModelSettings;
  inputs: InputSpec[];
  X: Float64Array[];
  y: Float64Array;
  /** Names the data in errors. */
  where: string;
}

export type FitOutput = Pick<ModelFile, 'linear' | 'trees' | 'importances' | 'settings' | 'iterations' | 'converged' | 'gradient_max_norm'>;

/** Fit the configured model type on encoded inputs. */
export async function fitModel(f: FitInput): Promise<FitOutput> {
  const s = f.settings;
  if (s.type === 'gradient_boosting') {
    // the settings carry the trees' options by their scikit-learn names (fitGbt reads only those)
    const { fitGbt } = await import('./gbt/fit.js');
    const trees = fitGbt(f.X, f.y, { ...s, task: f.task, categorical: f.inputs.map((i) => i.kind === 'categorical') });
    const problem = treesProblem(trees, f.inputs.length);
    if (problem) {
      throw new ModelError(`${f.where}: the boosted trees diverged at learning_rate ${s.learning_rate} (${problem})`, 'lower "model": {"learning_rate": ...} in config.json (default 0.1)');
    }
    return { linear: null, trees, importances: trees.feature_importances, settings: { ...trees.settings }, iterations: trees.n_iter, converged: true, gradient_max_norm: null };
  }
  const terms = linearTerms(f.inputs, s.type === 'linear_regression' && s.alpha === 0);
  const D = design(f.inputs, terms, f.X);
  let linear: LinearPart;
  let iterations = 1;
  let converged = true;
  let gradient: number | null = null;
  if (s.type === 'logistic_regression') {
    const fit = fitLogistic(D, f.y, { C: s.C, maxIter: s.max_iter });
    if (!fit.converged) {
      throw new ModelError(
        `${f.where}: the solver did not converge in ${fit.iterations} iterations (max |gradient| ${fit.gradientMaxNorm.toExponential(2)})`,
        'raise "model": {"max_iter": ...} in config.json or check the features for extreme values',
      );
    }
    linear = { intercept: fit.intercept, terms, coefficients: fit.coefficients };
    iterations = fit.iterations;
    converged = fit.converged;
    gradient = fit.gradientMaxNorm;
  } else {
    // constant terms carry no information and make X'X singular without a penalty: coefficient 0
    const used = D.map((col) => col.some((v) => v !== col[0]));
    const fit = fitLinear(D.filter((_, k) => used[k]), f.y, s.alpha);
    if (!fit) {
      throw new DataError(`${f.where}: the features are collinear (one is a combination of others), so least squares has no unique solution`, 'set "model": {"alpha": 1} (ridge), or drop the redundant features');
    }
    const coefficients: number[] = [];
    let k = 0;
    for (const u of used) coefficients.push(u ? fit.coefficients[k++]! : 0);
    linear = { intercept: fit.intercept, terms, coefficients };
  }
  // importance of an input: the sum over its terms of |coefficient| x the term's std
  const imp = new Array<number>(f.inputs.length).fill(0);
  terms.forEach((t, k) => {
    const col = D[k]!;
    let m = 0;
    for (let i = 0; i < col.length; i++) m += col[i]!;
    m /= col.length || 1;
    let v = 0;
    for (let i = 0; i < col.length; i++) v += (col[i]! - m) ** 2;
    imp[t.input]! += Math.abs(linear.coefficients[k]!) * Math.sqrt(v / (col.length || 1));
  });
  const total = imp.reduce((a, b) => a + b, 0);
  const settings = s.type === 'logistic_regression' ? { C: s.C, max_iter: s.max_iter } : { alpha: s.alpha };
  return { linear, trees: null, importances: imp.map((v) => (total > 0 ? v / total : 0)), settings: { ...settings, max_levels: s.max_levels }, iterations, converged, gradient_max_norm: gradient };
}

/** The model inputs of feature columns: fills from the rows given, levels from the frame. */
export async function buildInputs(
  features: readonly ColumnRole[],
  frame: Frame,
  kinds: ReadonlyMap<string, string>,
  maxLevels: number,
): Promise<InputSpec[]> {
  const out: InputSpec[] = [];
  for (const f of features) {
    if (f.role === 'categorical') {
      const { levels, distinct } = await frame.levels(f.name, maxLevels);
      const covered = levels.reduce((a, l) => a + l.count, 0);
      const missing = frame.table.columns.find((c) => c.name === f.name)?.missing ?? 0;
      const present = frame.table.rows - missing;
      out.push({ name: f.name, kind: 'categorical', levels: levels.map((l) => l.value), other: distinct > levels.length ? present - covered : 0, missing });
    } else if (f.role === 'boolean') out.push({ name: f.name, kind: 'boolean', fill: 0, text: kinds.get(f.name) === 'string' });
    else out.push({ name: f.name, kind: 'numeric', fill: 0 });
  }
  return out;
}

/** Set the fill of numeric and boolean inputs to their mean over the encoded training rows. */
export function setFills(inputs: InputSpec[], X: readonly Float64Array[], where: string): void {
  inputs.forEach((s, j) => {
    if (s.kind === 'categorical') return;
    const col = X[j]!;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < col.length; i++) {
      const v = col[i]!;
      if (v === v) {
        sum += v;
        n++;
      }
    }
    if (n === 0) throw new DataError(`${where}: feature "${s.name}" has no values at all`, 'drop it with "features" or "exclude" in config.json');
    s.fill = sum / n;
  });
}
