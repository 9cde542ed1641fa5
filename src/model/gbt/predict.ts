/**
 * Raw scores and probabilities of a GbtModel on column-major data (NaN = missing). A row takes
 * the baseline plus, tree by tree in order, the value of the leaf it reaches. Cost: O(rows x
 * trees x depth).
 */
import { DataError } from '../../errors.js';
import { sigmoid } from '../logreg.js';
import type { GbtModel } from './types.js';

/** Raw scores: log-odds for classification, the prediction itself for regression. */
export function predictGbt(model: GbtModel, X: readonly Float64Array[]): Float64Array {
  if (model?.kind !== 'gbt' || !Array.isArray(model.trees)) throw new DataError('predictGbt needs a fitted gbt model');
  if (X.length !== model.n_features) throw new DataError(`gbt model has ${model.n_features} features, the data ${X.length}`);
  const n = X[0]?.length ?? 0;
  const out = new Float64Array(n).fill(model.baseline);
  // Codes seen in training, per categorical feature: other codes count as missing.
  const known = model.known_categories.map((cats) => {
    if (!cats) return null;
    const set = new Uint8Array(256);
    for (const c of cats) set[c] = 1;
    return set;
  });
  for (const t of model.trees) {
    // Per categorical node, which codes go left.
    const catLeft = t.cat_offset.map((off, i) => {
      if (off < 0) return null;
      const set = new Uint8Array(256);
      for (let k = off; k < off + t.cat_count[i]!; k++) set[t.categories[k]!] = 1;
      return set;
    });
    for (let r = 0; r < n; r++) {
      let node = 0;
      while (!t.is_leaf[node]) {
        const f = t.feature[node]!;
        const x = X[f]![r]!;
        const cats = catLeft[node];
        let left: boolean;
        if (cats) {
          const seen = known[f]!;
          left = x >= 0 && x < 256 && Number.isInteger(x) && seen[x] ? cats[x] === 1 : t.missing_left[node] === 1;
        } else {
          left = x !== x ? t.missing_left[node] === 1 : x <= t.threshold[node]!;
        }
        node = left ? t.left[node]! : t.right[node]!;
      }
      out[r]! += t.value[node]!;
    }
  }
  return out;
}

/** Probability of class 1 (classification models). */
export function predictProbaGbt(model: GbtModel, X: readonly Float64Array[]): Float64Array {
  if (model?.task !== 'classification') throw new DataError('predictProbaGbt needs a classification model');
  return predictGbt(model, X).map(sigmoid);
}
