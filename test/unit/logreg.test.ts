import { describe, expect, it } from 'vitest';
import { fitLogistic, sigmoid, solveSpd } from '../../src/model/logreg.js';
import { rng } from '../../src/tools/gendata.js';

/** Gradient of 0.5||w||^2 + C*sum(log-loss), computed independently of the solver. */
function gradient(X: Float64Array[], y: Float64Array, b: number, w: number[], C: number): number[] {
  const g = [0, ...w];
  for (let i = 0; i < y.length; i++) {
    let z = b;
    X.forEach((col, j) => (z += w[j]! * col[i]!));
    const r = 1 / (1 + Math.exp(-z)) - y[i]!;
    g[0]! += C * r;
    X.forEach((col, j) => (g[j + 1]! += C * r * col[i]!));
  }
  return g;
}

const cols = (rows: number[][]) => rows[0]!.map((_, j) => Float64Array.from(rows, (r) => r[j]!));

describe('fitLogistic', () => {
  it('matches scipy on unscaled features of magnitude 1e5', () => {
    // Reference: scipy.optimize.minimize(method='trust-exact', gtol=1e-13) on the same
    // objective (scipy 1.17.1): b = -5.40953195, w = [7.96261791e-05, 3.01586642e-01].
    const X = cols([
      [12000, 3], [85000, 1], [43000, 7], [99000, 2], [1500, 9],
      [67000, 4], [23000, 8], [54000, 5], [78000, 6], [31000, 0],
    ]);
    const y = Float64Array.from([0, 1, 0, 1, 0, 1, 1, 0, 1, 0]);
    const r = fitLogistic(X, y, { C: 1, maxIter: 100 });
    expect(r.converged).toBe(true);
    expect(r.intercept).toBeCloseTo(-5.40953195, 6);
    expect(r.coefficients[0]).toBeCloseTo(7.96261791e-5, 11);
    expect(r.coefficients[1]).toBeCloseTo(0.301586642, 7);
    expect(r.objective).toBeCloseTo(3.8747547073574578, 10);
  });

  it('reaches gradient ~ 0 on 200k rows with counts up to 1e5', () => {
    const rand = rng(7);
    const n = 200_000;
    const X = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      X[0]![i] = Math.round(rand() * 1e5);
      X[1]![i] = Math.round(rand() * 50);
      X[2]![i] = rand() < 0.3 ? 1 : 0;
      const z = -1 + 2e-5 * X[0]![i]! - 0.03 * X[1]![i]! + 0.8 * X[2]![i]!;
      y[i] = rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    }
    const r = fitLogistic(X, y, { C: 1, maxIter: 100 });
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeLessThan(30);
    const g = gradient(X, y, r.intercept, r.coefficients, 1);
    for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-8 * n);
    // and the fit recovers the generating rule
    expect(r.coefficients[0]).toBeCloseTo(2e-5, 5);
    expect(r.coefficients[1]).toBeCloseTo(-0.03, 2);
    expect(r.coefficients[2]).toBeCloseTo(0.8, 1);
  });

  it('symmetric data has the known answer w = 0, b = 0', () => {
    const r = fitLogistic(cols([[-1], [1], [-1], [1]]), Float64Array.from([0, 0, 1, 1]), { C: 1, maxIter: 50 });
    expect(r.intercept).toBeCloseTo(0, 12);
    expect(r.coefficients[0]).toBeCloseTo(0, 12);
  });

  it('a tiny C leaves only the intercept: the log-odds of the positive share', () => {
    const y = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0]);
    const r = fitLogistic(cols([[1], [2], [3], [4], [5], [6], [7], [8]]), y, { C: 1e-9, maxIter: 50 });
    expect(r.intercept).toBeCloseTo(Math.log(2 / 6), 6);
    expect(Math.abs(r.coefficients[0]!)).toBeLessThan(1e-6);
  });

  it('perfectly separable data still converges (the penalty bounds the weights)', () => {
    const X = cols([[1], [2], [3], [10], [11], [12]]);
    const y = Float64Array.from([0, 0, 0, 1, 1, 1]);
    const r = fitLogistic(X, y, { C: 1, maxIter: 100 });
    expect(r.converged).toBe(true);
    expect(Number.isFinite(r.coefficients[0])).toBe(true);
    expect(r.coefficients[0]).toBeGreaterThan(0);
    const g = gradient(X, y, r.intercept, r.coefficients, 1);
    for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-8 * 6);
  });
});

describe('numerics', () => {
  it('sigmoid does not overflow', () => {
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(0)).toBe(0.5);
  });

  it('solveSpd solves a badly scaled SPD system and rejects an indefinite one', () => {
    // A = D M D with D = diag(1, 1e5), M = [[2, 1], [1, 2]]; x = [1, 1e-5] => b = A x
    const A = Float64Array.from([2, 1e5, 1e5, 2e10]);
    const x = solveSpd(A, Float64Array.from([2 + 1, 1e5 + 2e5]), 2)!;
    expect(x[0]).toBeCloseTo(1, 12);
    expect(x[1]).toBeCloseTo(1e-5, 16);
    expect(solveSpd(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toBeNull();
  });
});
