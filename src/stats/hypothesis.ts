/** Two-sample hypothesis tests. Each returns its statistic and p-value. */
import { mean, variance } from './describe.js';
import { chiSquareSf, kolmogorovSf, studentTTwoSided } from './distributions.js';

export interface TestResult {
  statistic: number;
  pValue: number;
}

/**
 * Two-sample Kolmogorov-Smirnov test, two-sided: D = sup |F1 - F2|; p-value from the limiting
 * Kolmogorov distribution at sqrt(n1 n2 / (n1 + n2)) * D (R's ks.test(exact = FALSE)).
 * Inputs must be sorted ascending and NaN-free. Cost: O(n1 + n2).
 */
export function ksTwoSampleSorted(a: Float64Array, b: Float64Array): TestResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { statistic: Number.NaN, pValue: Number.NaN };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 && j < n2) {
    const v = Math.min(a[i]!, b[j]!);
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / n1 - j / n2));
  }
  const en = (n1 * n2) / (n1 + n2);
  return { statistic: d, pValue: kolmogorovSf(Math.sqrt(en) * d) };
}

/** Welch's unequal-variance t-test, two-sided (scipy.stats.ttest_ind(equal_var=False)). */
export function welchTTest(a: readonly number[], b: readonly number[]): TestResult & { df: number } {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 < 2 || n2 < 2) return { statistic: Number.NaN, pValue: Number.NaN, df: Number.NaN };
  const v1 = variance(a, 1) / n1;
  const v2 = variance(b, 1) / n2;
  const se = Math.sqrt(v1 + v2);
  const diff = mean(a) - mean(b);
  if (se === 0) {
    const same = diff === 0;
    return { statistic: same ? Number.NaN : Math.sign(diff) * Infinity, pValue: same ? Number.NaN : 0, df: Number.NaN };
  }
  const t = diff / se;
  const df = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1));
  return { statistic: t, pValue: studentTTwoSided(t, df), df };
}

/** Paired t-test on per-item differences a_i - b_i, two-sided (scipy.stats.ttest_rel). */
export function pairedTTest(a: readonly number[], b: readonly number[]): TestResult & { df: number } {
  if (a.length !== b.length) throw new Error('pairedTTest requires samples of equal length');
  const d = a.map((v, i) => v - b[i]!);
  const n = d.length;
  if (n < 2) return { statistic: Number.NaN, pValue: Number.NaN, df: Number.NaN };
  const se = Math.sqrt(variance(d, 1) / n);
  const m = mean(d);
  if (se === 0) return { statistic: m === 0 ? Number.NaN : Math.sign(m) * Infinity, pValue: m === 0 ? Number.NaN : 0, df: n - 1 };
  const t = m / se;
  return { statistic: t, pValue: studentTTwoSided(t, n - 1), df: n - 1 };
}

/**
 * Chi-square test of homogeneity on a 2 x k table of category counts (reference vs current),
 * as scipy.stats.chi2_contingency(correction=False); categories empty in both are dropped.
 */
export function chiSquareHomogeneity(ref: readonly number[], cur: readonly number[]): TestResult & { df: number } {
  const cols = ref.map((r, i) => [r, cur[i]!] as const).filter(([r, c]) => r + c > 0);
  const n1 = cols.reduce((s, [r]) => s + r, 0);
  const n2 = cols.reduce((s, [, c]) => s + c, 0);
  const n = n1 + n2;
  const df = cols.length - 1;
  if (df < 1 || n1 === 0 || n2 === 0) return { statistic: 0, pValue: 1, df: Math.max(df, 0) };
  let chi = 0;
  for (const [r, c] of cols) {
    const tot = r + c;
    const e1 = (tot * n1) / n;
    const e2 = (tot * n2) / n;
    chi += (r - e1) ** 2 / e1 + (c - e2) ** 2 / e2;
  }
  return { statistic: chi, pValue: chiSquareSf(chi, df), df };
}
