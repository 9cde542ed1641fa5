/**
 * The two losses, as scikit-learn's HalfBinomialLoss (log loss on raw log-odds) and
 * HalfSquaredError: the baseline that minimises each, gradients and hessians, and the mean loss.
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

/** g = p - y, h = p (1 - p) for log loss; g = raw - y (h = 1, not written) for squared error. */
export function gradients(task: GbtTask, y: Float64Array, raw: Float64Array, g: Float64Array, h: Float64Array): void {
  const n = y.length;
  if (task === 'regression') {
    for (let i = 0; i < n; i++) g[i] = raw[i]! - y[i]!;
    return;
  }
  for (let i = 0; i < n; i++) {
    const p = 1 / (1 + Math.exp(-raw[i]!));
    g[i] = p - y[i]!;
    h[i] = p * (1 - p);
  }
}

/**
 * Mean loss over the rows marked in mask (all when mask is null): log(1 + e^raw) - y raw, or
 * (raw - y)^2 / 2. Cost: O(rows).
 */
export function meanLoss(task: GbtTask, y: Float64Array, raw: Float64Array, mask: Uint8Array | null): number {
  let m = 0;
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    if (mask && !mask[i]) continue;
    m++;
    const r = raw[i]!;
    if (task === 'regression') {
      const d = r - y[i]!;
      sum += 0.5 * d * d;
    } else {
      sum += Math.max(r, 0) + Math.log1p(Math.exp(-Math.abs(r))) - y[i]! * r;
    }
  }
  return sum / m;
}
