import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expFast } from '../../src/model/gbt/compiled.js';
import { fitGbt, predictGbt, predictProbaGbt, type GbtModel } from '../../src/model/gbt/index.js';
import { rocAucScore } from '../../src/model/metrics.js';
import { rng } from '../../src/tools/gendata.js';
import { ROOT } from '../helpers.js';
import { checksum, DATASETS, makeDataset, N_TEST, N_TRAIN, type Dataset } from './gbt-data.js';

const reference = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'gbt', 'reference.json'), 'utf8')) as {
  data_seed: number;
  datasets: Record<string, { checksum: number; mean: number; scores: number[] }>;
};

function r2Score(y: Float64Array, p: Float64Array): number {
  let mean = 0;
  for (const v of y) mean += v / y.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < y.length; i++) {
    ssRes += (y[i]! - p[i]!) ** 2;
    ssTot += (y[i]! - mean) ** 2;
  }
  return 1 - ssRes / ssTot;
}

const rows = (d: Dataset, from: number, to: number) => ({ X: d.X.map((x) => x.slice(from, to)), y: d.y.slice(from, to) });

describe('fitGbt: the first tree by hand', () => {
  it('matches the splits, leaf values and baseline derived by hand (and by scikit-learn)', () => {
    // x0 = 1..8, x1 = 0,0,0,0,1,1,1,1, y = 1,1,1,5,5,5,9,9; squared error, min_samples_leaf 1,
    // max_leaf_nodes 3, one iteration. Baseline = mean y = 36/8 = 4.5, so g = 4.5 - y =
    // 3.5,3.5,3.5,-0.5,-0.5,-0.5,-4.5,-4.5 (G = 0) and h = 1.
    // Root, x0 <= t after k rows: gain = GL^2/k + GR^2/(8-k) - 0 = GL^2 * 8 / (k (8-k)):
    //   k=1..7: 14, 32.67, 58.8, 50, 48.13, 54, 23.14  -> best k=3, threshold (3+4)/2 = 3.5.
    //   x1 (k=4): 10^2/4 + 10^2/4 = 50 < 58.8.
    // Left child (y = 1,1,1): all g equal, no split has positive gain -> leaf -10.5/3 * 0.1 = -0.35.
    // Right child (g = -0.5 x3, -4.5 x2, G = -10.5, parent 10.5^2/5 = 22.05):
    //   x0 k=1..4: 0.25+25-22.05 = 3.2, 0.5+30.08-22.05 = 8.53, 0.75+40.5-22.05 = 19.2, 9+20.25-22.05 = 7.2
    //   x1 (k=1): 3.2  -> best x0 <= 6.5 with gain 19.2.
    // Leaves: -(-1.5)/3 * 0.1 = 0.05 and -(-9)/2 * 0.1 = 0.45; 3 leaves reached, stop.
    // No missing values in training: missing go to the child with more rows (root: right 5 > 3;
    // node 2: left 3 > 2). scikit-learn 1.2.1 gives the same tree and predictions.
    const X = [Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1])];
    const y = Float64Array.from([1, 1, 1, 5, 5, 5, 9, 9]);
    const m = fitGbt(X, y, { task: 'regression', max_iter: 1, min_samples_leaf: 1, max_leaf_nodes: 3, early_stopping: false });
    expect(m.baseline).toBe(4.5);
    expect(m.n_iter).toBe(1);
    const t = m.trees[0]!;
    expect(t.is_leaf).toEqual([0, 1, 0, 1, 1]);
    expect(t.feature).toEqual([0, -1, 0, -1, -1]);
    expect(t.threshold).toEqual([3.5, 0, 6.5, 0, 0]);
    expect(t.left).toEqual([1, -1, 3, -1, -1]);
    expect(t.right).toEqual([2, -1, 4, -1, -1]);
    expect(t.missing_left).toEqual([0, 0, 1, 0, 0]);
    [0, -0.35, 0, 0.05, 0.45].forEach((v, i) => expect(t.value[i]).toBeCloseTo(v, 12));
    expect(m.feature_importances).toEqual([1, 0]);
    const p = predictGbt(m, X);
    [4.15, 4.15, 4.15, 4.55, 4.55, 4.55, 4.95, 4.95].forEach((v, i) => expect(p[i]).toBeCloseTo(v, 12));
    // A missing x0 follows missing_left: right at the root, then left at node 2.
    expect(predictGbt(m, [Float64Array.from([NaN]), Float64Array.from([0])])[0]).toBeCloseTo(4.55, 12);
  });

  it('uses the log-odds of the mean as the baseline for classification', () => {
    const X = [Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8])];
    const y = Float64Array.from([0, 0, 1, 0, 1, 1, 1, 1]);
    const m = fitGbt(X, y, { task: 'classification', max_iter: 1, min_samples_leaf: 1, early_stopping: false });
    expect(m.baseline).toBeCloseTo(Math.log(0.625 / 0.375), 14); // 5 of 8 rows are positive
    const p = predictProbaGbt(m, X);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
  });
});

describe('fitGbt: quality against scikit-learn (defaults, 3 seeds, held-out rows)', () => {
  for (const name of DATASETS) {
    it(`${name}: within ${name.startsWith('clf') ? '0.005 ROC AUC' : '0.01 R²'} of HistGradientBoosting`, () => {
      const d = makeDataset(name, reference.data_seed, N_TRAIN + N_TEST);
      const ref = reference.datasets[name]!;
      expect(checksum(d)).toBeCloseTo(ref.checksum, 6);
      const train = rows(d, 0, N_TRAIN);
      const test = rows(d, N_TRAIN, N_TRAIN + N_TEST);
      const scores = [0, 1, 2].map((seed) => {
        const m = fitGbt(train.X, train.y, { task: d.task, categorical: d.categorical, seed });
        expect(m.n_validation).toBe(1200); // early stopping is on above 10,000 rows
        const p = predictGbt(m, test.X);
        return d.task === 'classification' ? rocAucScore(test.y, p)! : r2Score(test.y, p);
      });
      const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
      expect(Math.abs(mean - ref.mean)).toBeLessThan(d.task === 'classification' ? 0.005 : 0.01);
    });
  }
});

describe('fitGbt: behaviour', () => {
  const d = makeDataset('clf-cat', 3, 12_000);

  it('is deterministic for a seed, and the seed matters', () => {
    const fit = (seed: number) => JSON.stringify(fitGbt(d.X, d.y, { task: 'classification', categorical: d.categorical, seed, max_iter: 15 }));
    const a = fit(5);
    expect(fit(5)).toBe(a);
    expect(fit(6)).not.toBe(a);
    // Plain JSON: survives a round trip and predicts the same.
    const m = JSON.parse(a) as GbtModel;
    expect(Array.from(predictGbt(m, d.X))).toEqual(Array.from(predictGbt(fitGbt(d.X, d.y, { task: 'classification', categorical: d.categorical, seed: 5, max_iter: 15 }), d.X)));
  });

  it('stops early on labels that are pure noise', () => {
    const u = rng(11);
    const n = 12_000;
    const X = [new Float64Array(n).map(() => u()), new Float64Array(n).map(() => u())];
    const y = new Float64Array(n).map(() => (u() < 0.5 ? 1 : 0));
    const m = fitGbt(X, y, { task: 'classification' });
    expect(m.n_iter).toBeLessThan(40);
    expect(m.validation_loss).toHaveLength(m.n_iter + 1);
    expect(m.train_loss).toHaveLength(m.n_iter + 1);
    // Fewer than 10,000 rows: 'auto' leaves early stopping off.
    const small = fitGbt(
      X.map((x) => x.slice(0, 5000)),
      y.slice(0, 5000),
      { task: 'classification', max_iter: 30 },
    );
    expect(small.n_iter).toBe(30);
    expect(small.validation_loss).toEqual([]);
  });

  it('uses a feature that is informative only through missingness', () => {
    const u = rng(21);
    const n = 4000;
    const X = [new Float64Array(n), new Float64Array(n)];
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = u() < 0.5 ? 1 : 0;
      X[0]![i] = u();
      const v = u();
      X[1]![i] = u() < (y[i] ? 0.7 : 0.2) ? NaN : v; // the value itself is noise
    }
    const m = fitGbt(X, y, { task: 'classification', max_iter: 20 });
    expect(m.feature_importances[1]).toBeGreaterThan(0.5);
    const root = m.trees[0]!;
    expect(root.feature[0]).toBe(1);
    expect(rocAucScore(y, predictGbt(m, X))!).toBeGreaterThan(0.7);
    // A missing value scores higher than any present one.
    const p = predictGbt(m, [Float64Array.from([0.5, 0.5]), Float64Array.from([NaN, 0.5])]);
    expect(p[0]!).toBeGreaterThan(p[1]!);
  });

  it('splits a 10-level categorical with a non-monotone effect natively, better than as numeric', () => {
    const u = rng(31);
    const n = 6000;
    const effect = [1, -1, 1, -1, -1, 1, -1, 1, 1, -1];
    const X = [new Float64Array(n)];
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(u() * 10);
      X[0]![i] = c;
      y[i] = effect[c]! + (u() - 0.5) * 2 > 0 ? 1 : 0;
    }
    const train = { X: X.map((x) => x.slice(0, 4000)), y: y.slice(0, 4000) };
    const test = { X: X.map((x) => x.slice(4000)), y: y.slice(4000) };
    const auc = (categorical: boolean, max_leaf_nodes: number) => {
      const m = fitGbt(train.X, train.y, { task: 'classification', categorical: [categorical], max_leaf_nodes, max_iter: 10 });
      return { m, auc: rocAucScore(test.y, predictGbt(m, test.X))! };
    };
    const native = auc(true, 2);
    const numeric = auc(false, 2);
    // One split separates the positive codes {0, 2, 5, 7, 8} from the rest.
    const t = native.m.trees[0]!;
    const left = t.categories.slice(t.cat_offset[0], t.cat_offset[0]! + t.cat_count[0]!).sort();
    expect([[0, 2, 5, 7, 8], [1, 3, 4, 6, 9]]).toContainEqual(left);
    expect(native.auc).toBeGreaterThan(numeric.auc + 0.1);
    expect(auc(true, 31).auc).toBeGreaterThan(auc(false, 31).auc - 1e-9);
    // A code not seen in training takes the missing side, like NaN.
    const pred = predictGbt(native.m, [Float64Array.from([NaN, 42, 3.5])]);
    expect(pred[1]).toBe(pred[0]);
    expect(pred[2]).toBe(pred[0]);
  });

  it('rejects bad input with a clear error', () => {
    const X = [Float64Array.from([1, 2, 3])];
    expect(() => fitGbt(X, Float64Array.from([0, 1, 2]), { task: 'classification' })).toThrow(/target value 2/);
    expect(() => fitGbt(X, Float64Array.from([1, 1, 1]), { task: 'classification' })).toThrow(/both classes/);
    expect(() => fitGbt([Float64Array.from([0.5, 1, 2])], Float64Array.from([0, 1, 0]), { task: 'classification', categorical: [true] })).toThrow(
      /categorical feature 0/,
    );
    expect(() => fitGbt(X, Float64Array.from([0, 1, 0]), { task: 'regression', max_bins: 300 })).toThrow(/max_bins/);
    const m = fitGbt(X, Float64Array.from([0, 1, 0]), { task: 'regression' });
    expect(() => predictGbt(m, [])).toThrow(/1 features/);
    expect(() => predictProbaGbt(m, X)).toThrow(/classification/);
  });
});

describe('expFast (the log loss gradients e^x)', () => {
  it('is within 2 ulp of Math.exp over the whole range, and Math.exp outside it', () => {
    const random = rng(7);
    let worst = 0;
    for (let k = 0; k < 200_000; k++) {
      const x = (random() * 2 - 1) * (k % 2 ? 40 : 700);
      const want = Math.exp(x);
      worst = Math.max(worst, Math.abs(expFast(x) - want) / want);
    }
    expect(worst).toBeLessThan(4.5e-16);
    for (const x of [0, 1, -1, 1e-300, -699.9, 699.9]) expect(Math.abs(expFast(x) - Math.exp(x)) / Math.exp(x)).toBeLessThan(4.5e-16);
    expect(expFast(0)).toBe(1);
    expect(expFast(-800)).toBe(0);
    expect(expFast(800)).toBe(Infinity);
    expect(expFast(NaN)).toBeNaN();
    expect(expFast(-Infinity)).toBe(0);
  });
});
