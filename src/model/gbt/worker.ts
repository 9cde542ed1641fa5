/**
 * A worker thread of fitGbt (see threads.ts and protocol.ts): it waits for CTRL.posted to move,
 * runs the command (from the control array, or a message pulled synchronously from its port)
 * on the shared training state and acknowledges it in CTRL.done. Loaded from the built
 * dist/model/gbt/worker.js.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { binNumericFeature } from './binning.js';
import { scoreRows, type Holdout } from './holdout.js';
import { boostShard, splitShardPart, stateOf, type TrainState } from './kernels.js';
import { CTRL, LUT_OFFSET, OP, waitChange, type Message } from './protocol.js';

const { ctrl: ctrlBuffer, port } = workerData as { ctrl: SharedArrayBuffer; port: MessagePort };
const ctrl = new Int32Array(ctrlBuffer, 0, LUT_OFFSET / 4);
const lut = new Uint8Array(ctrlBuffer, LUT_OFFSET, 256);
const a = ctrl.subarray(CTRL.args);
let st: TrainState | null = null;
/** The histogram of this worker's shard. */
let partial: Float64Array<ArrayBufferLike> = new Float64Array(0);
let exit = false;
let holdout: Holdout | null = null;
let holdoutSum: Float64Array = new Float64Array(1);

function message(m: Message): void {
  switch (m.op) {
    case 'state':
      st = stateOf(m.buffers);
      partial = new Float64Array(m.partial);
      return;
    case 'boost':
      boostShard(st!, partial, m.leaves, m.first, m.last, m.shard);
      return;
    case 'bin':
      for (const j of m.jobs) {
        const t = binNumericFeature(j.source, j.sample, j.val, m.maxBins, m.missingBin, j.out, j.valOut);
        j.thresholds.set(t);
        j.count[0] = t.length;
      }
      return;
    case 'holdout':
      holdout = m.holdout;
      holdoutSum = new Float64Array(m.result);
      return;
    case 'score':
      holdoutSum[0] = scoreRows(holdout!, m.tree, m.lr, m.from, m.to);
      return;
    case 'exit':
      exit = true;
  }
}

function run(op: number): number {
  switch (op) {
    case OP.message: {
      const m = receiveMessageOnPort(port);
      if (m === undefined) throw new Error('gbt worker: no message');
      message(m.message as Message);
      return 0;
    }
    case OP.split: {
      // Shard 1's part of a node.
      const [src, from, to, feature, small] = [a[0]!, a[1]!, a[2]!, a[3]!, a[4]!];
      return splitShardPart(st!, partial, src, from, to, feature, lut, small);
    }
    default:
      throw new Error(`gbt worker: unknown op ${op}`);
  }
}

Atomics.store(ctrl, CTRL.ready, 1);
Atomics.notify(ctrl, CTRL.ready);
let done = 0;
while (!exit) {
  // Between fits nothing comes for long: keep waiting (a terminate() gets through the waits).
  if (!waitChange(ctrl, CTRL.posted, done, CTRL.workerSleeps, 1000)) continue;
  try {
    Atomics.store(ctrl, CTRL.result, run(Atomics.load(ctrl, CTRL.op)));
  } catch (e) {
    Atomics.store(ctrl, CTRL.failed, 1);
    console.error(e);
  }
  done++;
  Atomics.store(ctrl, CTRL.done, done);
  if (Atomics.load(ctrl, CTRL.mainSleeps)) Atomics.notify(ctrl, CTRL.done);
}
port.close();
