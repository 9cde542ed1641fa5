/**
 * The inner loops of growing trees, as plain functions over a TrainState so that the main thread
 * and a worker thread (worker.ts) run the very same code on the very same (shared) memory. Each
 * kernel works on a range (a chunk); a node of many rows is always cut into the same two chunks
 * whether one thread or two do the work, so the result never depends on the thread count: the
 * chunks' histograms are added, and each chunk's row ids go straight to their place.
 *
 * The rows (bin codes, gradients, targets, raw scores) stay where they are; what moves is row
 * ids. A node owns positions [start, stop) of one of three id arrays: the root the identity,
 * then the depths alternate between two arrays, a split writing its node's ids into the other
 * one (left child first). The first chunk writes each side forwards from its start, the second
 * backwards from its end, so neither needs to know how many ids of the other go left. Moving
 * 4-byte ids instead of whole rows (36 bytes) made a split's partition 3x cheaper; gathering the
 * smaller child's rows for its histogram costs about 1.4x reading them in sequence.
 *
 * Imports only compiled.ts, so the worker loads just these two, binning.js, protocol.js and
 * worker.js.
 */
import { compiledFor, type Compiled, type Rows } from './compiled.js';

/** Which id array holds the root's ids (the identity). */
export const ROOT_IDS = 2;

export interface TrainState extends Rows {
  n: number;
  nFeatures: number;
  /** Bins per feature in a histogram (max_bins + 1, the last one for missing values). */
  nBins: number;
  /** Bytes of bin codes per row. */
  stride: number;
  /** Squared error: no hessian array, the row count stands in for it. */
  constHessian: boolean;
  /** Row ids in node order: two arrays the depths alternate between, and the identity. */
  ids: [Uint32Array, Uint32Array, Uint32Array];
  /** The loops compiled for this shape. */
  compiled: Compiled;
}

/** What a worker needs to rebuild a TrainState: the buffers and the shape. */
export interface StateBuffers {
  n: number;
  nFeatures: number;
  nBins: number;
  stride: number;
  constHessian: boolean;
  bins: ArrayBufferLike;
  g: ArrayBufferLike;
  h: ArrayBufferLike;
  y: ArrayBufferLike;
  raw: ArrayBufferLike;
  ids: [ArrayBufferLike, ArrayBufferLike, ArrayBufferLike];
}

export function makeState(n: number, nFeatures: number, nBins: number, constHessian: boolean, shared: boolean): TrainState {
  const buf = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const st = stateOf({
    n,
    nFeatures,
    nBins,
    stride: nFeatures,
    constHessian,
    bins: buf(n * nFeatures),
    g: buf(n * 4),
    h: buf(constHessian ? 0 : n * 4),
    y: buf(n * 8),
    raw: buf(n * 8),
    ids: [buf(n * 4), buf(n * 4), buf(n * 4)],
  });
  const identity = st.ids[ROOT_IDS];
  for (let i = 0; i < n; i++) identity[i] = i;
  return st;
}

export function stateOf(b: StateBuffers): TrainState {
  return {
    n: b.n,
    nFeatures: b.nFeatures,
    nBins: b.nBins,
    stride: b.stride,
    constHessian: b.constHessian,
    bins: new Uint8Array(b.bins),
    g: new Float32Array(b.g),
    h: new Float32Array(b.h),
    y: new Float64Array(b.y),
    raw: new Float64Array(b.raw),
    ids: [new Uint32Array(b.ids[0]), new Uint32Array(b.ids[1]), new Uint32Array(b.ids[2])],
    compiled: compiledFor(b),
  };
}

export function buffersOf(s: TrainState): StateBuffers {
  const { n, nFeatures, nBins, stride, constHessian } = s;
  return {
    n,
    nFeatures,
    nBins,
    stride,
    constHessian,
    bins: s.bins.buffer,
    g: s.g.buffer,
    h: s.h.buffer,
    y: s.y.buffer,
    raw: s.raw.buffer,
    ids: [s.ids[0].buffer, s.ids[1].buffer, s.ids[2].buffer],
  };
}

/** The previous tree's leaves: leaf j's rows are ids[array[j]][start[j]..stop[j]). */
export interface Leaves {
  array: Uint8Array;
  start: Uint32Array;
  stop: Uint32Array;
  /** The shrunk leaf values. */
  value: Float64Array;
}

/** Add leaves first..last-1's values to their rows' raw scores. */
export function addLeaves(st: TrainState, leaves: Leaves, first: number, last: number): void {
  const raw = st.raw;
  for (let j = first; j < last; j++) {
    const ids = st.ids[leaves.array[j]!]!;
    const v = leaves.value[j]!;
    for (let k = leaves.start[j]!, end = leaves.stop[j]!; k < end; k++) raw[ids[k]!]! += v;
  }
}

/**
 * The gradients and hessians of rows [from, to) at their raw scores (g = p - y, h = p (1 - p)
 * for log loss; g = raw - y for squared error; stored as float32 like scikit-learn) and into
 * hist (zeroed first) their sums per feature and bin: (sum g, sum h) at hist[(f * nBins + bin)
 * * 3 + 0..1], summed in row order in float64. The counts (slot 2) are left 0: at the root they
 * are the same every tree (Grower keeps them).
 */
export function gradientsKernel(st: TrainState, hist: Float64Array, from: number, to: number): void {
  hist.fill(0);
  st.compiled.gradients(hist, st, from, to);
}

/** The id array a node's children are written to. */
export const childIds = (src: number): number => (src === 0 ? 1 : 0);

/**
 * Partition one chunk [start, stop) of id array src into the children's array, the ids going
 * left (lut[code of feature f]) to lDst, lDst + step, ... and the others to rDst, rDst + step,
 * ... (step 1: forwards, -1: backwards), and set hist to the histogram of the rows that went to
 * side small (1 left, 0 right, 2 none). Returns how many went left.
 */
export function splitChunk(
  st: TrainState,
  hist: Float64Array,
  src: number,
  start: number,
  stop: number,
  lDst: number,
  rDst: number,
  step: number,
  f: number,
  lut: Uint8Array,
  small: number,
): number {
  const dst = st.ids[childIds(src)]!;
  const l = st.compiled.partition(st.bins, st.ids[src]!, dst, start, stop, lDst, rDst, step, f, lut);
  if (small === 2) return l;
  const count = small === 1 ? l : stop - start - l;
  const first = small === 1 ? lDst : rDst;
  // The positions written: [first, first + count) forwards, (first - count, first] backwards.
  const from = step === 1 ? first : first - count + 1;
  hist.fill(0);
  st.compiled.histogram(hist, st, dst, from, from + count);
  return l;
}
