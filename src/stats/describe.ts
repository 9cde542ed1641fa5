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

/**
 * Quantiles of a column as DuckDB's quantile_cont computes them (diagnose's quartiles came from
 * it before the columnar copy, and stay the same doubles): NaN values ignored; for q, with
 * h = (n - 1) q and d = h - floor(h), the order statistics lo = x(floor h) and hi = x(ceil h)
 * give lo (1 - d) + hi d, or lo itself when h is whole. `qs` ascending in [0, 1]; null for each
 * when there are no values. Order statistics by counting for whole numbers in a narrow range
 * (counts, codes, labels), else by selection: O(n) per quantile and one copy of the values.
 * `known`: the values' count, min, max and whether all are whole, when known already (a
 * table's column summaries), which saves a pass.
 */
export function quantilesOf(
  col: Float64Array,
  qs: readonly number[],
  known?: { count: number; min: number; max: number; integral: boolean },
): (number | null)[] {
  let { count: n, min, max, integral } = known ?? { count: 0, min: Infinity, max: -Infinity, integral: true };
  for (let i = 0; !known && i < col.length; i++) {
    const x = col[i]!;
    if (x !== x) continue;
    n++;
    if (x < min) min = x;
    if (x > max) max = x;
    if (integral && x !== Math.trunc(x)) integral = false;
  }
  if (n === 0) return qs.map(() => null);
  const rank = integral && max - min <= Math.max(1 << 16, 2 * n) ? countedRanks(col, min, max) : selectedRanks(col, n);
  return qs.map((q) => {
    const h = (n - 1) * q;
    const lo = Math.floor(h);
    const a = rank(lo);
    if (lo === Math.ceil(h)) return a;
    const d = h - lo;
    return a * (1 - d) + rank(lo + 1) * d;
  });
}

/** The value of rank k (0-based) of whole numbers in [min, max], by counting them once. */
function countedRanks(col: Float64Array, min: number, max: number): (k: number) => number {
  const counts = new Float64Array(max - min + 1);
  for (let i = 0; i < col.length; i++) {
    const x = col[i]!;
    if (x === x) counts[x - min]!++;
  }
  // walk the cumulative counts from where the last rank was found (ranks come mostly ascending)
  let bin = 0;
  let below = 0; // values in the bins before `bin`
  return (k) => {
    if (k < below) [bin, below] = [0, 0];
    while (below + counts[bin]! <= k) below += counts[bin++]!;
    return bin + min;
  };
}

/** The value of rank k (0-based) of the column's values, by selection on one copy of them. */
function selectedRanks(col: Float64Array, n: number): (k: number) => number {
  const v = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < col.length; i++) {
    const x = col[i]!;
    if (x === x) v[m++] = x;
  }
  // After selecting rank k, everything from k on is no smaller than v[k]: a larger rank is
  // selected within [k, n) only. Found values are kept (a later selection may move them).
  let from = 0;
  const found = new Map<number, number>();
  return (k) => {
    let x = found.get(k);
    if (x === undefined) {
      if (k < from) from = 0;
      select(v, from, n - 1, k);
      from = k;
      x = v[k]!;
      found.set(k, x);
    }
    return x;
  };
}

/** Rearrange v[left..right] so that v[k] holds the value of rank k there (Hoare's selection). */
function select(v: Float64Array, left: number, right: number, k: number): void {
  while (right > left) {
    // the median of the first, middle and last values as the pivot
    const mid = (left + right) >>> 1;
    const pivot = medianOf3(v[left]!, v[mid]!, v[right]!);
    let i = left;
    let j = right;
    while (i <= j) {
      while (v[i]! < pivot) i++;
      while (v[j]! > pivot) j--;
      if (i <= j) {
        const t = v[i]!;
        v[i++] = v[j]!;
        v[j--] = t;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

const medianOf3 = (a: number, b: number, c: number) => Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));

/** Drop NaN and infinite values. */
export const finite = (x: readonly number[]) => x.filter((v) => Number.isFinite(v));
