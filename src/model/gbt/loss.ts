/**
 * The two losses, as scikit-learn's HalfBinomialLoss (log loss on raw log-odds) and
 * HalfSquaredError: the baseline that minimises each and the mean loss (gradients: kernels.ts).
 */
import type { GbtTask } from './types.js';

/** log-odds of the mean label (clipped to [eps, 1 - eps]), or the mean target. */
export function baselineOf(task: GbtTask, y: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += y[i]!;
  const mean = sum / y.length;
  if (task === 'regression') return mean;
  const p = Math.min(Math.max(mean, Number.EPSILON), 1 - Number.EPSILON);
  return Math.log(p / (1 - p));
}

/** Mean loss over all rows (see lossSum). Cost: O(rows). */
export function meanLoss(task: GbtTask, y: Float64Array, raw: Float64Array): number {
  return lossSum(task, y, raw, 0, y.length) / y.length;
}

/** The loss summed over rows [from, to): log(1 + e^raw) - y raw, or (raw - y)^2 / 2. */
export function lossSum(task: GbtTask, y: Float64Array, raw: Float64Array, from: number, to: number): number {
  let sum = 0;
  if (task === 'regression') {
    for (let i = from; i < to; i++) {
      const d = raw[i]! - y[i]!;
      sum += 0.5 * d * d;
    }
  } else {
    for (let i = from; i < to; i++) {
      const r = raw[i]!;
      sum += Math.max(r, 0) + Math.log1p(Math.exp(-Math.abs(r))) - y[i]! * r;
    }
  }
  return sum;
}
