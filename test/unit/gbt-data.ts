/**
 * Seeded data sets for the gbt tests, reproduced bit for bit by test/fixtures/gbt/reference.py
 * (the same splitmix32 generator, only + - * / and floor on doubles). Each has interactions,
 * a categorical feature with a non-monotone effect and missing values.
 */
import { rng } from '../../src/tools/gendata.js';

export const DATASETS = ['clf-interact', 'clf-cat', 'reg-interact', 'reg-cat'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const N_TRAIN = 12_000;
export const N_TEST = 5_000;

const EFF10 = [0, 1.2, -0.6, 0.9, -1.1, 0.3, 1.5, -0.9, 0.2, -0.3];
const EFF20 = [0.5, -1, 1.3, 0, -0.7, 0.9, -1.4, 0.2, 1.1, -0.2, 0.6, -0.9, 1.6, -0.4, 0.1, -1.2, 0.8, -0.1, 1.0, -0.6];

export interface Dataset {
  X: Float64Array[];
  y: Float64Array;
  categorical: boolean[];
  task: 'classification' | 'regression';
}

export function makeDataset(name: DatasetName, seed: number, n: number): Dataset {
  const u = rng(seed);
  const normal = () => u() + u() + u() + u() - 2;
  const X = Array.from({ length: 5 }, () => new Float64Array(n));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = 2 * u() - 1;
    const b = 2 * u() - 1;
    const c = normal();
    const missing = u() < 0.2;
    const d = normal();
    const cat10 = Math.floor(u() * 10);
    const cat20 = Math.floor(u() * 20);
    const catMissing = u() < 0.1;
    const noise = normal();
    const sign = a * b > 0 ? 1 : a * b < 0 ? -1 : 0;
    let s: number;
    if (name === 'clf-interact' || name === 'reg-interact') {
      X[0]![i] = a;
      X[1]![i] = b;
      X[2]![i] = c;
      X[3]![i] = missing ? NaN : d;
      X[4]![i] = cat10;
      s = name === 'clf-interact' ? sign + 0.5 * c + EFF10[cat10]! + (missing ? 0.8 : 0.3 * d) : 2 * a * b + c + EFF10[cat10]! + (missing ? 1 : 0.5 * d);
    } else {
      X[0]![i] = a;
      X[1]![i] = c;
      X[2]![i] = missing ? NaN : d;
      X[3]![i] = catMissing ? NaN : cat20;
      X[4]![i] = cat10;
      s = (catMissing ? 0.9 : EFF20[cat20]!) + a * a - 0.5 * c + (missing ? -0.7 : 0.4 * d * c) + 0.5 * EFF10[cat10]! * sign;
    }
    y[i] = name.startsWith('clf') ? (s + 1.2 * noise > 0.3 ? 1 : 0) : s + 0.5 * noise;
  }
  const categorical = name === 'clf-cat' || name === 'reg-cat' ? [false, false, false, true, true] : [false, false, false, false, true];
  return { X, y, categorical, task: name.startsWith('clf') ? 'classification' : 'regression' };
}

/** Sum of y and of every non-missing feature value, row by row: checks the Python port. */
export function checksum(d: Dataset): number {
  let s = 0;
  for (let i = 0; i < d.y.length; i++) {
    for (const x of d.X) if (!Number.isNaN(x[i]!)) s += x[i]!;
    s += d.y[i]!;
  }
  return s;
}
