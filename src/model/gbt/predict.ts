/**
 * Raw scores and probabilities of a GbtModel (NaN = missing). A row takes the baseline plus,
 * tree by tree in order, the value of the leaf it reaches. Cost: O(rows x trees x depth).
 *
 * The first prediction with a model compiles its trees into flat typed arrays (all trees end to
 * end, category tests as 256-entry tables), kept in a WeakMap by model object: a model is taken
 * to be immutable once it has predicted. predictRowGbt then walks them without allocating.
 */
import { DataError } from '../../errors.js';
import { sigmoid } from '../logreg.js';
import type { GbtModel } from './types.js';

interface Compiled {
  nFeatures: number;
  baseline: number;
  /** Node index of each tree's root. */
  roots: Int32Array;
  /** Per node, over all trees: feature (-1 at a leaf), children (absolute), ... */
  feature: Int32Array;
  left: Int32Array;
  right: Int32Array;
  missingLeft: Uint8Array;
  threshold: Float64Array;
  value: Float64Array;
  /** Categorical splits: offset of the node's 256-entry "goes left" table in catLeft; else -1. */
  catBase: Int32Array;
  catLeft: Uint8Array;
  /** Per feature, 256 entries: 1 for a code seen in training (categorical features only). */
  known: Uint8Array;
}

const compiledModels = new WeakMap<GbtModel, Compiled>();

function compiled(model: GbtModel): Compiled {
  let c = compiledModels.get(model);
  if (!c) {
    if (model?.kind !== 'gbt' || !Array.isArray(model.trees)) throw new DataError('gbt prediction needs a fitted gbt model');
    c = compile(model);
    compiledModels.set(model, c);
  }
  return c;
}

function compile(model: GbtModel): Compiled {
  let m = 0;
  let nCat = 0;
  for (const t of model.trees) {
    m += t.is_leaf.length;
    for (const off of t.cat_offset) if (off >= 0) nCat++;
  }
  const c: Compiled = {
    nFeatures: model.n_features,
    baseline: model.baseline,
    roots: new Int32Array(model.trees.length),
    feature: new Int32Array(m),
    left: new Int32Array(m),
    right: new Int32Array(m),
    missingLeft: new Uint8Array(m),
    threshold: new Float64Array(m),
    value: new Float64Array(m),
    catBase: new Int32Array(m).fill(-1),
    catLeft: new Uint8Array(nCat * 256),
    known: new Uint8Array(model.n_features * 256),
  };
  model.known_categories.forEach((cats, f) => {
    if (cats) for (const code of cats) c.known[f * 256 + code] = 1;
  });
  let base = 0;
  let cat = 0;
  model.trees.forEach((t, ti) => {
    c.roots[ti] = base;
    for (let i = 0; i < t.is_leaf.length; i++) {
      const k = base + i;
      if (t.is_leaf[i]) {
        c.feature[k] = -1;
        c.value[k] = t.value[i]!;
        continue;
      }
      c.feature[k] = t.feature[i]!;
      c.left[k] = base + t.left[i]!;
      c.right[k] = base + t.right[i]!;
      c.missingLeft[k] = t.missing_left[i]!;
      c.threshold[k] = t.threshold[i]!;
      const off = t.cat_offset[i]!;
      if (off >= 0) {
        c.catBase[k] = cat * 256;
        for (let j = off; j < off + t.cat_count[i]!; j++) c.catLeft[cat * 256 + t.categories[j]!] = 1;
        cat++;
      }
    }
    base += t.is_leaf.length;
  });
  return c;
}

/** The raw score of one row (feature f at row[f]) from the compiled trees. */
function walk(c: Compiled, row: ArrayLike<number>): number {
  const { roots, feature, left, right, missingLeft, threshold, value, catBase, catLeft, known } = c;
  let s = c.baseline;
  for (let t = 0; t < roots.length; t++) {
    let node = roots[t]!;
    let f = feature[node]!;
    while (f >= 0) {
      const x = row[f]!;
      const cb = catBase[node]!;
      let goLeft: number;
      if (cb < 0) goLeft = x !== x ? missingLeft[node]! : x <= threshold[node]! ? 1 : 0;
      else if (x >= 0 && x < 256 && Number.isInteger(x) && known[f * 256 + x]) goLeft = catLeft[cb + x]!;
      else goLeft = missingLeft[node]!;
      node = goLeft ? left[node]! : right[node]!;
      f = feature[node]!;
    }
    s += value[node]!;
  }
  return s;
}

/**
 * The raw score of one row (feature values in model order, NaN = missing): what predictGbt
 * gives that row, without allocating. For a prediction server: one call per request.
 */
export function predictRowGbt(model: GbtModel, row: Float64Array | readonly number[]): number {
  const c = compiled(model);
  if (row.length !== c.nFeatures) throw new DataError(`gbt model has ${c.nFeatures} features, the row ${row.length}`);
  return walk(c, row);
}

/** Raw scores of column-major data: log-odds for classification, the prediction for regression. */
export function predictGbt(model: GbtModel, X: readonly Float64Array[]): Float64Array {
  const c = compiled(model);
  if (X.length !== model.n_features) throw new DataError(`gbt model has ${model.n_features} features, the data ${X.length}`);
  const n = X[0]?.length ?? 0;
  const out = new Float64Array(n);
  const row = new Float64Array(X.length);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < X.length; f++) row[f] = X[f]![r]!;
    out[r] = walk(c, row);
  }
  return out;
}

/** Probability of class 1 (classification models). */
export function predictProbaGbt(model: GbtModel, X: readonly Float64Array[]): Float64Array {
  if (model?.task !== 'classification') throw new DataError('predictProbaGbt needs a classification model');
  return predictGbt(model, X).map(sigmoid);
}
