/**
 * Descriptive statistics of small numeric samples (score histories, per-chunk scores), on
 * simple-statistics, with NaN instead of an exception for samples too small to say anything.
 */
import { mean as ssMean, sampleVariance, variance as populationVariance } from 'simple-statistics';

/** Arithmetic mean; NaN for an empty sample. */
export function mean(x: readonly number[]): number {
  return x.length === 0 ? Number.NaN : ssMean(x as number[]);
}

/** Variance with `ddof` delta degrees of freedom (0: population, 1: sample, as pandas). */
export function variance(x: readonly number[], ddof: 0 | 1): number {
  if (x.length - ddof <= 0) return Number.NaN;
  return ddof === 0 ? populationVariance(x as number[]) : sampleVariance(x as number[]);
}

export const std = (x: readonly number[], ddof: 0 | 1) => Math.sqrt(variance(x, ddof));

/**
 * Quantile by linear interpolation between order statistics (numpy.percentile's default,
 * pandas' quantile, R type 7). q in [0, 1]. Cost: O(n log n).
 */
export function quantile(x: readonly number[], q: number): number {
  if (x.length === 0) return Number.NaN;
  const s = [...x].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

/** Drop NaN and infinite values. */
export const finite = (x: readonly number[]) => x.filter((v) => Number.isFinite(v));
