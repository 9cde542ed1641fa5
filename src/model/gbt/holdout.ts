/**
 * Binned rows scored tree by tree during fitting: the validation rows that early stopping
 * watches, and the sample of training rows whose loss is recorded. Each grown tree's shrunk
 * leaf values are added to the rows' raw scores, and the loss summed. The validation rows are
 * always cut into the same two halves, whose sums are added, so a worker can take the second
 * half without changing a single bit of the result.
 *
 * Imports only loss.ts, so the worker thread loads it as it is.
 */
import { lossSum } from './loss.js';
import type { GbtTask } from './types.js';

/** Rows in bins, row-major (row i's code of feature f at bins[i * nFeatures + f]). */
export interface Holdout {
  task: GbtTask;
  nFeatures: number;
  nBins: number;
  bins: Uint8Array;
  y: Float64Array;
  raw: Float64Array;
}

/** What scoring needs of a grown tree (see grower.ts GrownTree). */
export interface TreeRoute {
  feature: Int32Array;
  left: Int32Array;
  right: Int32Array;
  isLeaf: Uint8Array;
  value: Float64Array;
  goesLeft: Uint8Array;
}

/** Add the tree's leaf values, times lr, to the raw scores of rows [from, to); their summed loss there. */
export function scoreRows(h: Holdout, t: TreeRoute, lr: number, from: number, to: number): number {
  const { bins, raw, nFeatures, nBins } = h;
  for (let i = from; i < to; i++) {
    let node = 0;
    while (!t.isLeaf[node]) {
      const f = t.feature[node]!;
      node = t.goesLeft[node * nBins + bins[i * nFeatures + f]!] ? t.left[node]! : t.right[node]!;
    }
    raw[i]! += lr * t.value[node]!;
  }
  return lossSum(h.task, h.y, raw, from, to);
}

/** Where the validation rows are cut in two (the worker, with a team, scores the second half). */
export const holdoutCut = (n: number): number => n >>> 1;
