/**
 * How the main thread talks to a gbt worker. The frequent command (split shard 1's part of a node) is
 * written to a shared Int32Array, the rare ones (the shared state, the boosting step, the
 * validation rows to score, exit) sent as messages; either way the main thread then bumps CTRL.posted. Both sides poll a while before sleeping in Atomics.wait: waking a sleeping thread
 * costs tens of microseconds on a virtual machine, many times a small node's work.
 */
import type { Holdout, TreeRoute } from './holdout.js';
import type { Leaves, StateBuffers } from './kernels.js';

/** Int32 slots of a worker's control SharedArrayBuffer; ARGS.. hold the command. */
export const CTRL = { posted: 0, done: 1, result: 2, failed: 3, ready: 4, workerSleeps: 5, mainSleeps: 6, op: 7, args: 8 } as const;
export const CTRL_SLOTS = 16;
/** Bytes after the Int32 slots: a partition's lookup table (which codes go left). */
export const LUT_OFFSET = CTRL_SLOTS * 4;
export const CTRL_BYTES = LUT_OFFSET + 256;

export const OP = { message: 0, split: 1 } as const;

/** How long either side polls before it naps. */
export const SPIN_MS = Number(process.env.MLOPS_GBT_SPIN_MS ?? 0.3);
/** Then it naps in short timed waits (no notify needed to wake it) for this long... */
const NAP_MS = 50;
const NAP_STEP_MS = 0.1;

export type Message =
  | { op: 'state'; buffers: StateBuffers; partial: SharedArrayBuffer }
  /** The boosting step on a shard: leaf entries first..last-1, then the gradients. */
  | { op: 'boost'; leaves: Leaves | null; first: number; last: number; shard: number }
  | { op: 'bin'; jobs: BinJob[]; maxBins: number; missingBin: number }
  /** The validation rows (shared) and where to put the second half's loss sum. */
  | { op: 'holdout'; holdout: Holdout; result: SharedArrayBuffer }
  | { op: 'score'; tree: TreeRoute; lr: number; from: number; to: number }
  | { op: 'exit' };

/** A numeric feature for the worker to bin (binNumericFeature); the arrays are shared. */
export interface BinJob {
  source: Float64Array;
  sample: Uint32Array | null;
  val: Float64Array | null;
  out: Uint8Array;
  valOut: Uint8Array | null;
  /** Out: the thresholds, count[0] of them. */
  thresholds: Float64Array;
  count: Int32Array;
}

/**
 * Wait until ctrl[slot] !== value: poll for SPIN_MS, nap in short timed waits until NAP_MS,
 * then sleep flagging sleepFlag (so the other side knows to Atomics.notify: a notify is a
 * system call that may hand the core to the woken thread, so it is kept for long waits). Gives
 * up after timeoutMs; returns false then.
 */
export function waitChange(ctrl: Int32Array, slot: number, value: number, sleepFlag: number, timeoutMs: number): boolean {
  if (Atomics.load(ctrl, slot) !== value) return true;
  const start = performance.now();
  for (let i = 1; ; i++) {
    if (Atomics.load(ctrl, slot) !== value) return true;
    if ((i & 255) !== 0) continue;
    const elapsed = performance.now() - start;
    if (elapsed < SPIN_MS) continue;
    if (elapsed < NAP_MS) {
      Atomics.wait(ctrl, slot, value, NAP_STEP_MS);
      continue;
    }
    if (elapsed > timeoutMs) return false;
    Atomics.store(ctrl, sleepFlag, 1);
    Atomics.wait(ctrl, slot, value, 100);
    Atomics.store(ctrl, sleepFlag, 0);
  }
}
