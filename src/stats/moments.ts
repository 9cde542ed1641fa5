/**
 * Mean and variance that keep their digits far from zero and do not overflow near the largest
 * doubles: the corrected two-pass algorithm (Chan, Golub and LeVeque 1983) on scaled data.
 *
 * Pass 1 gives count, min, max and a compensated sum. Pass 2 sums (compensated) d = x/scale -
 * c/scale and d², where c is the first-pass mean and scale a power of two no smaller than the
 * distance from c to min or max: dividing by it is exact, |d| <= 1 (4 at worst), so d² cannot
 * overflow, and the d are (nearly) exact differences, so no digits cancel however far the data
 * sit from zero. The correction term (sum d)²/n removes what the first-pass mean got wrong.
 * The same two passes run in SQL over a DuckDB table (data/table.ts, with fsum) and over arrays
 * here (`momentsOf`).
 */

/** Where pass 2 centres and how it scales: d = x * inverse - centre * inverse. */
export interface Centring {
  centre: number;
  scale: number;
  inverse: number;
}

/** Sample moments: `m2` is the sum of squared deviations from the mean divided by scale². */
export interface Moments {
  count: number;
  mean: number;
  m2: number;
  scale: number;
}

const MIN_EXP = -1022; // 1/2^-1022 is finite
const MAX_EXP = 1023;

/** The smallest power of two >= h, within [2^-1022, 2^1023]. */
export function powerOfTwoAtLeast(h: number): number {
  if (!(h > 2 ** MIN_EXP)) return 2 ** MIN_EXP;
  let e = Math.min(MAX_EXP, Math.ceil(Math.log2(h)));
  while (e < MAX_EXP && 2 ** e < h) e++;
  while (e > MIN_EXP && 2 ** (e - 1) >= h) e--;
  return 2 ** e;
}

/**
 * Centre and scale for pass 2 from pass 1 of a sample of finite values with count >= 1. When the
 * sum overflowed the centre is the midpoint (pass 2 then corrects a larger error).
 */
export function centring(count: number, min: number, max: number, sum: number): Centring {
  const first = sum / count;
  const centre = Number.isFinite(first) ? Math.min(max, Math.max(min, first)) : min / 2 + max / 2;
  // halves: max - centre itself can overflow when min and max are near -+1.8e308 (the scale is
  // then 2^1023 and |d| <= 4)
  const scale = powerOfTwoAtLeast(2 * Math.max(max / 2 - centre / 2, centre / 2 - min / 2));
  return { centre, scale, inverse: 1 / scale };
}

/** Moments from pass 2's sums of d and d². A sample whose values are all equal has m2 = 0. */
export function finishMoments(count: number, min: number, max: number, c: Centring, sumD: number, sumD2: number): Moments {
  if (min === max) return { count, mean: min, m2: 0, scale: 1 };
  const mean = Math.min(max, Math.max(min, c.centre + (sumD / count) * c.scale));
  return { count, mean, m2: Math.max(0, sumD2 - (sumD * sumD) / count), scale: c.scale };
}

/**
 * Standard deviation with `ddof` delta degrees of freedom; NaN when count <= ddof, Infinity only
 * when the standard deviation itself is beyond the doubles.
 */
export function momentsStd(m: Moments, ddof: 0 | 1): number {
  return m.count - ddof <= 0 ? Number.NaN : Math.sqrt(m.m2 / (m.count - ddof)) * m.scale;
}

/** Variance with `ddof` delta degrees of freedom; NaN when count <= ddof. */
export function momentsVariance(m: Moments, ddof: 0 | 1): number {
  return m.count - ddof <= 0 ? Number.NaN : (m.m2 / (m.count - ddof)) * m.scale * m.scale;
}

/** Neumaier-compensated running sum (in SQL, DuckDB's fsum is a Kahan sum). */
class CompensatedSum {
  private sum = 0;
  private comp = 0;
  add(v: number): void {
    const t = this.sum + v;
    this.comp += Math.abs(this.sum) >= Math.abs(v) ? this.sum - t + v : v - t + this.sum;
    this.sum = t;
  }
  get value(): number {
    return this.sum + this.comp;
  }
}

/**
 * Moments of an array in two passes, both with compensated sums. Null for an empty array or one
 * holding NaN or an infinite value. Cost: O(n).
 */
export function momentsOf(x: readonly number[]): Moments | null {
  const n = x.length;
  if (n === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  const sum = new CompensatedSum();
  for (const v of x) {
    if (!Number.isFinite(v)) return null;
    if (v < min) min = v;
    if (v > max) max = v;
    sum.add(v);
  }
  const c = centring(n, min, max, sum.value);
  const shift = c.centre * c.inverse;
  const sumD = new CompensatedSum();
  const sumD2 = new CompensatedSum();
  for (const v of x) {
    const d = v * c.inverse - shift;
    sumD.add(d);
    sumD2.add(d * d);
  }
  return finishMoments(n, min, max, c, sumD.value, sumD2.value);
}
