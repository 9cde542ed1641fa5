/**
 * The inner loops of growing trees, as plain functions over a TrainState so that the main thread
 * and a worker thread (worker.ts) run the very same code on the very same (shared) memory.
 *
 * The rows are dealt into two shards of alternating blocks of 4,096 rows (one shard below
 * SHARD_MIN_ROWS rows), by the row count alone. Every node is the union of one range of
 * positions per shard; each kernel works on one shard, and the shards' histograms are added,
 * shard 0's first, so the result never depends on the thread count. With a worker, the main
 * thread does shard 0 and the worker shard 1, always: each thread then writes and reads only its
 * own rows' ids, gradients and raw scores. (Cutting each node's positions in halves instead let
 * half of the ids a thread wrote at one depth be read by the other thread at the next, and two
 * threads' partitions cost 7.6 ns an id against one thread's 4.6; the blocks keep both shards'
 * parts of a node of the same size whatever order the rows came in.)
 *
 * The rows (bin codes, gradients, targets, raw scores) stay where they are; what moves is row
 * ids. A node owns, in each shard, positions [start, stop) of one of three id arrays: the root
 * the shards' rows in order, then the depths alternate between two arrays, a split writing its
 * node's ids into the other one at the same positions, the left child's forwards from start and
 * the right child's backwards from stop - 1. Moving 4-byte ids instead of whole rows (36 bytes)
 * made a split's partition 3x cheaper; gathering the smaller child's rows for its histogram
 * costs about 1.4x reading them in sequence.
 *
 * Imports only compiled.ts, so the worker loads just these two, binning.js, protocol.js and
 * worker.js.
 */
import { compiledFor, type Compiled, type Rows } from './compiled.js';

/** Which id array holds the root's ids (the shards' rows, each shard in row order). */
export const ROOT_IDS = 2;
/** Rows from which there are two shards. */
const SHARD_MIN_ROWS = 8_192;
/** Rows per block: row i is in shard (i >> SHARD_BLOCK_BITS) & 1. */
const SHARD_BLOCK_BITS = 12;
const SHARD_BLOCK = 1 << SHARD_BLOCK_BITS;

/** Shards of n rows (1 or 2). */
export const shardsOf = (n: number): number => (n >= SHARD_MIN_ROWS ? 2 : 1);

export interface TrainState extends Rows {
  n: number;
  /** Shard 0's rows are at positions [0, cut) of every id array, shard 1's at [cut, n). */
  cut: number;
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
  const root = st.ids[ROOT_IDS];
  let k = 0;
  for (let s = 0; s < shardsOf(n); s++) {
    forBlocks(n, s, (from, to) => {
      for (let i = from; i < to; i++) root[k++] = i;
    });
  }
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
    cut: cutOf(b.n),
    compiled: compiledFor(b),
  };
}

/** Where shard 1's positions start. */
function cutOf(n: number): number {
  let cut = 0;
  forBlocks(n, 0, (from, to) => (cut += to - from));
  return cut;
}

/** Call fn(from, to) for each block of rows of shard s, in row order. */
function forBlocks(n: number, s: number, fn: (from: number, to: number) => void): void {
  const step = shardsOf(n) * SHARD_BLOCK;
  for (let from = s * SHARD_BLOCK; from < n; from += step) fn(from, Math.min(n, from + SHARD_BLOCK));
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

/** The previous tree's leaves, one entry per leaf and shard: entry j's rows are ids[array[j]][start[j]..stop[j]). */
export interface Leaves {
  array: Uint8Array;
  start: Uint32Array;
  stop: Uint32Array;
  /** The shrunk leaf values. */
  value: Float64Array;
}

/** Add leaves first..last-1's values to their rows' raw scores. */
function addLeaves(st: TrainState, leaves: Leaves, first: number, last: number): void {
  const raw = st.raw;
  for (let j = first; j < last; j++) {
    const ids = st.ids[leaves.array[j]!]!;
    const v = leaves.value[j]!;
    for (let k = leaves.start[j]!, end = leaves.stop[j]!; k < end; k++) raw[ids[k]!]! += v;
  }
}

/**
 * The gradients and hessians of shard s's rows at their raw scores (g = p - y, h = p (1 - p)
 * for log loss; g = raw - y for squared error; stored as float32 like scikit-learn) and into
 * hist (zeroed first) their sums per feature and bin: (sum g, sum h) at hist[(f * nBins + bin)
 * * 3 + 0..1], summed in row order in float64. The counts (slot 2) are left 0: at the root they
 * are the same every tree (Grower keeps them).
 */
function gradientsKernel(st: TrainState, hist: Float64Array, s: number): void {
  hist.fill(0);
  forBlocks(st.n, s, (from, to) => st.compiled.gradients(hist, st, from, to));
}

/** A boosting step on shard s: leaf entries first..last-1 added (if any), then gradientsKernel. */
export function boostShard(st: TrainState, hist: Float64Array, leaves: Leaves | null, first: number, last: number, s: number): void {
  if (leaves) addLeaves(st, leaves, first, last);
  gradientsKernel(st, hist, s);
}

/** The id array a node's children are written to. */
export const childIds = (src: number): number => (src === 0 ? 1 : 0);

/**
 * Partition positions [start, stop) of id array src (one shard's part of a node) into the
 * children's array: the ids going left (lut[code of feature f]) forwards from start, the others
 * backwards from stop - 1; and set hist to the histogram of the rows that went to side small (1
 * left, 0 right, 2 none), read in position order. Returns how many went left.
 */
export function splitShardPart(st: TrainState, hist: Float64Array, src: number, start: number, stop: number, f: number, lut: Uint8Array, small: number): number {
  const dst = st.ids[childIds(src)]!;
  const l = st.compiled.partition(st.bins, st.ids[src]!, dst, start, stop, f, lut);
  if (small === 2) return l;
  hist.fill(0);
  if (small === 1) st.compiled.histogram(hist, st, dst, start, start + l);
  else st.compiled.histogram(hist, st, dst, start + l, stop);
  return l;
}
