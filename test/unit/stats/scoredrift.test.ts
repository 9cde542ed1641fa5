import { describe, expect, it } from 'vitest';
import { nonparametricTest, parametricTest, rawTest, welchScoreTest } from '../../../src/stats/scoredrift.js';

// Thresholds checked by hand and with numpy 2.4.6: for [0.6, 0.7, 0.65, 0.72, 0.68]
// mean 0.67, np.std (ddof 0) 0.04195235392680608, percentile 25/75 = 0.65 / 0.7.
const hist = [0.6, 0.7, 0.65, 0.72, 0.68];

describe('score drift tests', () => {
  it('raw comparison: worse than every previous score', () => {
    expect(rawTest(hist, 0.59, true)).toMatchObject({ verdict: 'drift', threshold: 0.6 });
    expect(rawTest(hist, 0.6, true).verdict).toBe('no drift');
    // lower-is-better flips the direction
    expect(rawTest([0.3, 0.4], 0.41, false)).toMatchObject({ verdict: 'drift', threshold: 0.4 });
    expect(rawTest([0.3, 0.4], 0.29, false).verdict).toBe('no drift');
  });

  it('parametric: 2 population standard deviations', () => {
    const r = parametricTest(hist, 0.58, true);
    expect(r.threshold).toBeCloseTo(0.67 - 2 * 0.04195235392680608, 14);
    expect(r.verdict).toBe('drift');
    expect(parametricTest(hist, 0.59, true).verdict).toBe('no drift');
    const low = parametricTest([0.3, 0.4], 0.5, false);
    expect(low.threshold).toBeCloseTo(0.35 + 2 * 0.05, 14);
    expect(low.verdict).toBe('drift');
  });

  it('non-parametric: 1.5 IQR beyond the quartile on the bad side', () => {
    const r = nonparametricTest(hist, 0.57, true);
    expect(r.threshold).toBeCloseTo(0.65 - 1.5 * 0.05, 14);
    expect(r.verdict).toBe('drift');
    expect(nonparametricTest(hist, 0.58, true).verdict).toBe('no drift');
    expect(nonparametricTest(hist, 0.8, false).threshold).toBeCloseTo(0.7 + 1.5 * 0.05, 14);
  });

  it('one previous score and identical scores (zero spread)', () => {
    expect(parametricTest([0.7], 0.69, true)).toMatchObject({ threshold: 0.7, verdict: 'drift' });
    expect(parametricTest([0.7, 0.7, 0.7], 0.7, true).verdict).toBe('no drift');
    expect(nonparametricTest([0.7, 0.7, 0.7], 0.69, true)).toMatchObject({ threshold: 0.7, verdict: 'drift' });
    expect(rawTest([0.7], 0.7, true).verdict).toBe('no drift');
  });

  it('empty history and NaN inputs give "no history", never drift', () => {
    for (const t of [rawTest, parametricTest, nonparametricTest]) {
      expect(t([], 0.5, true).verdict).toBe('no history');
      expect(t([Number.NaN, Number.NaN], 0.5, true).verdict).toBe('no history');
      expect(t(hist, Number.NaN, true).verdict).toBe('no history');
    }
    // NaN entries are ignored, the rest still count
    expect(rawTest([Number.NaN, 0.6], 0.5, true)).toMatchObject({ verdict: 'drift', threshold: 0.6 });
  });

  it('two-model comparison by Welch t-test (scipy ttest_ind(equal_var=False) p = 0.0022691550359683313)', () => {
    const prevModel = [0.61, 0.65, 0.59, 0.7, 0.66, 0.63, 0.68];
    const newModel = [0.55, 0.58, 0.6, 0.52, 0.57];
    const r = welchScoreTest(prevModel, newModel, true);
    expect(r.pValue).toBeCloseTo(0.0022691550359683313, 13);
    expect(r.verdict).toBe('drift');
    // a better new model is no drift, however significant
    expect(welchScoreTest(newModel, prevModel, true).verdict).toBe('no drift');
    expect(welchScoreTest([0.6], prevModel, true).verdict).toBe('no history');
  });
});
