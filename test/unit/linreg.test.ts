/**
 * Least squares and ridge against scikit-learn's LinearRegression and Ridge(solver="svd") on a
 * data set with features on different scales and a near-collinear pair
 * (test/fixtures/linreg/reference.py; values committed).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitLinear, predictLinear } from '../../src/model/linreg.js';
import { regressionMetrics } from '../../src/model/metrics.js';

const ref = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/linreg/reference.json'), 'utf8')) as {
  X: number[][];
  y: number[];
  fits: { alpha: number; intercept: number; coefficients: number[] }[];
};
const d = ref.X[0]!.length;
const X = Array.from({ length: d }, (_, j) => Float64Array.from(ref.X, (r) => r[j]!));
const y = Float64Array.from(ref.y);
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('fitLinear', () => {
  for (const f of ref.fits) {
    it(`alpha ${f.alpha}: scikit-learn's coefficients to 1e-8 relative`, () => {
      const fit = fitLinear(X, y, f.alpha)!;
      expect(rel(fit.intercept, f.intercept)).toBeLessThan(1e-8);
      fit.coefficients.forEach((c, j) => expect(rel(c, f.coefficients[j]!)).toBeLessThan(1e-8));
    });
  }

  it('recovers an exact linear relation and refuses collinear columns without a penalty', () => {
    const a = Float64Array.from({ length: 50 }, (_, i) => i);
    const b = Float64Array.from({ length: 50 }, (_, i) => (i * 7) % 11);
    const t = Float64Array.from(a, (v, i) => 1.5 + 2 * v - 3 * b[i]!);
    const fit = fitLinear([a, b], t, 0)!;
    expect(fit.intercept).toBeCloseTo(1.5, 10);
    expect(fit.coefficients[0]).toBeCloseTo(2, 12);
    expect(fit.coefficients[1]).toBeCloseTo(-3, 12);
    const p = predictLinear([a, b], fit.intercept, fit.coefficients);
    t.forEach((v, i) => expect(p[i]).toBeCloseTo(v, 9));
    expect(fitLinear([a, Float64Array.from(a, (v) => 2 * v)], t, 0)).toBeNull();
    expect(fitLinear([a, Float64Array.from(a, (v) => 2 * v)], t, 1)).not.toBeNull();
  });
});

describe('regressionMetrics', () => {
  it('R², SSE, RMSE, MAE and MAPE by their definitions; no MAPE when a target is zero', () => {
    const m = regressionMetrics([1, 2, 3, 4], [1.5, 2, 2, 5]);
    // residuals 0.5, 0, -1, 1: SSE 2.25, SST 5
    expect(m.sse).toBeCloseTo(2.25, 15);
    expect(m.r2).toBeCloseTo(1 - 2.25 / 5, 15);
    expect(m.rmse).toBeCloseTo(Math.sqrt(2.25 / 4), 15);
    expect(m.mae).toBeCloseTo(2.5 / 4, 15);
    expect(m.mape).toBeCloseTo((0.5 / 1 + 0 + 1 / 3 + 1 / 4) / 4, 15);
    expect(regressionMetrics([0, 1], [0, 1]).mape).toBeNull();
  });
});
