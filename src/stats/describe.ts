/**
 * Descriptive statistics of small numeric samples (score histories, per-chunk scores), with NaN
 * instead of an exception for samples too small to say anything. Mean and variance come from
 * moments.ts (the same algorithm as the column summaries in SQL).
 */
import { momentsOf, momentsStd, momentsVariance } from './moments.js';

/** Arithmetic mean; NaN for an empty sample or one holding NaN or an infinite value. */
export function mean(x: readonly number[]): number {
  return momentsOf(x)?.mean ?? Number.NaN;
}

/**
 * Variance with `ddof` delta degrees of freedom (0: population, 1: sample, as pandas), by the
 * corrected two-pass algorithm on scaled data: accurate far from zero, no overflow of squares.
 */
export function variance(x: readonly number[], ddof: 0 | 1): number {
  const m = momentsOf(x);
  return m ? momentsVariance(m, ddof) : Number.NaN;
}

/** Standard deviation with `ddof` delta degrees of freedom; finite even where the variance overflows. */
export function std(x: readonly number[], ddof: 0 | 1): number {
  const m = momentsOf(x);
  return m ? momentsStd(m, ddof) : Number.NaN;
}

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
