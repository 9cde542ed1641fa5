import { describe, expect, it } from 'vitest';
import { chiSquareHomogeneity, ksTwoSampleSorted, pairedTTest, welchTTest } from '../../../src/stats/hypothesis.js';
import { psiFromShares, psiSorted, wassersteinSorted } from '../../../src/stats/distance.js';
import { mean, quantile, std } from '../../../src/stats/describe.js';

// Reference values: scipy 1.17.1 / numpy 2.4.6 on the same arrays: ttest_ind(equal_var=False),
// ttest_rel, ks_2samp(...).statistic with kstwobign.sf(sqrt(n1 n2/(n1+n2)) D),
// wasserstein_distance, chi2_contingency(correction=False); PSI by a numpy implementation of the
// same definition (bins cut at reference order statistics, shares floored at 1e-4).
const sorted = (x: number[]) => Float64Array.from(x).sort();
const u = [1.2, 3.4, 2.2, 5.0, 4.1, 3.3, 2.9, 1.1, 0.5, 3.8, 4.4, 2.2, 3.0, 2.7, 1.9, 3.6, 4.9, 2.5, 3.1, 2.0];
const v = [2.5, 4.4, 5.1, 6.0, 3.9, 4.8, 5.5, 2.2, 4.1, 6.3, 5.0, 4.7, 3.3, 5.9, 4.2];

describe('hypothesis tests', () => {
  it('Welch t-test', () => {
    const r = welchTTest([0.61, 0.65, 0.59, 0.7, 0.66, 0.63, 0.68], [0.55, 0.58, 0.6, 0.52, 0.57]);
    expect(r.statistic).toBeCloseTo(4.087730840844356, 12);
    expect(r.df).toBeCloseTo(9.82459426386523, 11);
    expect(r.pValue).toBeCloseTo(0.0022691550359683313, 13);
  });

  it('Welch t-test edge cases: too few scores, zero spread', () => {
    expect(welchTTest([0.5], [0.4, 0.6]).pValue).toBeNaN();
    expect(welchTTest([0.5, 0.5], [0.5, 0.5]).pValue).toBeNaN();
    expect(welchTTest([0.6, 0.6], [0.5, 0.5]).pValue).toBe(0);
  });

  it('paired t-test', () => {
    const r = pairedTTest([0.71, 0.69, 0.74, 0.7, 0.72, 0.68], [0.69, 0.7, 0.71, 0.66, 0.7, 0.65]);
    expect(r.statistic).toBeCloseTo(3.0812955104098534, 12);
    expect(r.pValue).toBeCloseTo(0.027429225322793252, 13);
  });

  it('two-sample KS', () => {
    const r = ksTwoSampleSorted(sorted(u), sorted(v));
    expect(r.statistic).toBeCloseTo(0.6, 14);
    expect(r.pValue).toBeCloseTo(0.00417650126879275, 13);
    const same = ksTwoSampleSorted(sorted(u), sorted(u));
    expect(same.statistic).toBe(0);
    expect(same.pValue).toBe(1);
    expect(ksTwoSampleSorted(new Float64Array(), sorted(u)).pValue).toBeNaN();
  });

  it('chi-square homogeneity', () => {
    const r = chiSquareHomogeneity([30, 50, 20], [40, 40, 20]);
    expect(r.statistic).toBeCloseTo(2.5396825396825395, 13);
    expect(r.pValue).toBeCloseTo(0.28087620176428163, 13);
    expect(r.df).toBe(2);
    expect(chiSquareHomogeneity([5, 0], [7, 0])).toMatchObject({ statistic: 0, pValue: 1 });
  });
});

describe('distances', () => {
  it('Wasserstein-1', () => {
    expect(wassersteinSorted(sorted(u), sorted(v))).toBeCloseTo(1.6366666666666665, 13);
    expect(wassersteinSorted(sorted(u), sorted(u))).toBe(0);
  });

  it('PSI', () => {
    expect(psiSorted(sorted(u), sorted(v), 4)).toBeCloseTo(2.910621624435481, 12);
    expect(psiSorted(sorted(u), sorted(u), 4)).toBe(0);
    expect(psiFromShares([0.5, 0.5], [0.5, 0.5])).toBe(0);
  });
});

describe('describe', () => {
  it('mean, std (ddof 0 and 1), linear quantiles as numpy', () => {
    const x = [0.61, 0.65, 0.59, 0.7, 0.66, 0.63, 0.68];
    // numpy: mean 0.6457142857142857, std ddof=0 0.0357998973889762, ddof=1 0.038668308667927226
    expect(mean(x)).toBeCloseTo(0.6457142857142857, 14);
    expect(std(x, 0)).toBeCloseTo(0.0357998973889762, 14);
    expect(std(x, 1)).toBeCloseTo(0.038668308667927226, 14);
    // numpy.percentile(x, [25, 75]) = 0.62, 0.67
    expect(quantile(x, 0.25)).toBeCloseTo(0.62, 14);
    expect(quantile(x, 0.75)).toBeCloseTo(0.67, 14);
    expect(mean([])).toBeNaN();
    expect(std([0.5], 1)).toBeNaN();
  });
});
