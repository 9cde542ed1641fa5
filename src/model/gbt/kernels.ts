/**
 * The inner loops of growing trees, as plain functions over a TrainState so that the main thread
 * and a worker thread (worker.ts) run the very same code on the very same (shared) memory. Each
 * kernel works on a range of positions (a chunk); a node of many rows is always cut into the
 * same two chunks whether one thread or two do the work, so the result never depends on the
 * thread count: the chunks' histograms are added, and each chunk's rows go straight to their
 * place in the stable partition.
 *
 * The rows live in two banks of the same shape. A node's rows are positions [start, stop) of
 * one bank; splitting it writes its children's rows into the other bank (left child first,
 * each side in order), so every row is written once per split and nothing is copied back.
 * Before each tree the leaves that ended in bank 1 are copied to bank 0.
 *
 * Imports nothing, so the worker loads only this file, binning.js, protocol.js and worker.js.
 */

/** One copy of the training rows, position-ordered. */
export interface Bank {
  /** Bin codes row-major: position k, feature f at bins[k * stride + f] (words: the same bytes). */
  words: Uint32Array;
  bins: Uint8Array;
  /** Gradient and hessian (float32, as scikit-learn; no hessians for squared error). */
  g: Float32Array;
  h: Float32Array;
  /** Target and raw score. */
  y: Float64Array;
  raw: Float64Array;
}

export interface TrainState {
  n: number;
  nFeatures: number;
  /** Bins per feature in a histogram (max_bins + 1, the last one for missing values). */
  nBins: number;
  /** Bytes of bin codes per row (nFeatures rounded up to whole 32-bit words). */
  stride: number;
  /** Squared error: no hessian array, the row count stands in for it. */
  constHessian: boolean;
  banks: [Bank, Bank];
}

interface BankBuffers {
  words: ArrayBufferLike;
  g: ArrayBufferLike;
  h: ArrayBufferLike;
  y: ArrayBufferLike;
  raw: ArrayBufferLike;
}

/** What a worker needs to rebuild a TrainState: the buffers and the shape. */
export interface StateBuffers {
  n: number;
  nFeatures: number;
  nBins: number;
  stride: number;
  constHessian: boolean;
  banks: [BankBuffers, BankBuffers];
}

export function makeState(n: number, nFeatures: number, nBins: number, constHessian: boolean, shared: boolean): TrainState {
  const buf = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const stride = Math.ceil(nFeatures / 4) * 4;
  const nh = constHessian ? 0 : n;
  const bank = (): BankBuffers => ({ words: buf(n * stride), g: buf(n * 4), h: buf(nh * 4), y: buf(n * 8), raw: buf(n * 8) });
  return stateOf({ n, nFeatures, nBins, stride, constHessian, banks: [bank(), bank()] });
}

export function stateOf(b: StateBuffers): TrainState {
  const bank = (x: BankBuffers): Bank => ({
    words: new Uint32Array(x.words),
    bins: new Uint8Array(x.words),
    g: new Float32Array(x.g),
    h: new Float32Array(x.h),
    y: new Float64Array(x.y),
    raw: new Float64Array(x.raw),
  });
  return { n: b.n, nFeatures: b.nFeatures, nBins: b.nBins, stride: b.stride, constHessian: b.constHessian, banks: [bank(b.banks[0]), bank(b.banks[1])] };
}

export function buffersOf(s: TrainState): StateBuffers {
  const bank = (x: Bank): BankBuffers => ({ words: x.words.buffer, g: x.g.buffer, h: x.h.buffer, y: x.y.buffer, raw: x.raw.buffer });
  return { n: s.n, nFeatures: s.nFeatures, nBins: s.nBins, stride: s.stride, constHessian: s.constHessian, banks: [bank(s.banks[0]), bank(s.banks[1])] };
}

/**
 * One boosting step over positions [from, to) of bank 0: add the previous tree's leaf values
 * (value[j] to the rows at positions [start[j], stop[j]), the leaves' ranges), compute the
 * gradients and hessians at the new raw scores (g = p - y, h = p (1 - p) for log loss;
 * g = raw - y for squared error; stored as float32 like scikit-learn) and the histogram of these
 * positions: (sum g, sum h, count) at hist[(f * nBins + bin) * 3 + 0..2], summed in position
 * order in float64. hist is zeroed first.
 */
export function boostKernel(
  st: TrainState,
  hist: Float64Array,
  from: number,
  to: number,
  start: Uint32Array | null,
  stop: Uint32Array | null,
  value: Float64Array | null,
): void {
  const { bins, g, h, y, raw } = st.banks[0];
  const { stride, nFeatures: nf } = st;
  if (value) {
    for (let j = 0; j < value.length; j++) {
      const a = Math.max(start![j]!, from);
      const b = Math.min(stop![j]!, to);
      const v = value[j]!;
      for (let k = a; k < b; k++) raw[k]! += v;
    }
  }
  const hs = st.nBins * 3;
  hist.fill(0);
  if (st.constHessian) {
    for (let k = from; k < to; k++) {
      g[k] = raw[k]! - y[k]!;
      const gk = g[k]!;
      const base = k * stride;
      for (let f = 0, off = 0; f < nf; f++, off += hs) {
        const j = off + bins[base + f]! * 3;
        hist[j]! += gk;
        hist[j + 2]! += 1;
      }
    }
    return;
  }
  for (let k = from; k < to; k++) {
    const p = 1 / (1 + Math.exp(-raw[k]!));
    g[k] = p - y[k]!;
    h[k] = p * (1 - p);
    const gk = g[k]!;
    const hk = h[k]!;
    const base = k * stride;
    for (let f = 0, off = 0; f < nf; f++, off += hs) {
      const j = off + bins[base + f]! * 3;
      hist[j]! += gk;
      hist[j + 1]! += hk;
      hist[j + 2]! += 1;
    }
  }
}

/** (sum g, sum h, count) over positions [from, to) of a bank, added to hist in position order. */
export function histogramKernel(st: TrainState, hist: Float64Array, bank: Bank, from: number, to: number): void {
  const { bins, g, h } = bank;
  const { stride, nFeatures: nf } = st;
  const hs = st.nBins * 3;
  if (st.constHessian) {
    for (let k = from; k < to; k++) {
      const base = k * stride;
      const gk = g[k]!;
      for (let f = 0, off = 0; f < nf; f++, off += hs) {
        const j = off + bins[base + f]! * 3;
        hist[j]! += gk;
        hist[j + 2]! += 1;
      }
    }
    return;
  }
  for (let k = from; k < to; k++) {
    const base = k * stride;
    const gk = g[k]!;
    const hk = h[k]!;
    for (let f = 0, off = 0; f < nf; f++, off += hs) {
      const j = off + bins[base + f]! * 3;
      hist[j]! += gk;
      hist[j + 1]! += hk;
      hist[j + 2]! += 1;
    }
  }
}

/** How many rows of positions [start, stop) of bank src go left (lut[code of feature f]). */
export function countLeft(st: TrainState, src: number, start: number, stop: number, f: number, lut: Uint8Array): number {
  const bins = st.banks[src]!.bins;
  const stride = st.stride;
  let l = 0;
  for (let k = start, j = start * stride + f; k < stop; k++, j += stride) l += lut[bins[j]!]!;
  return l;
}

/**
 * Stable partition of positions [start, stop) of bank src by lut[code of feature f] into the
 * other bank: the rows going left to positions lDst.., the others to rDst.., both in order.
 * Returns how many go left.
 */
export function partitionKernel(st: TrainState, src: number, start: number, stop: number, lDst: number, rDst: number, f: number, lut: Uint8Array): number {
  // Locals, not a.x: V8 reloads a property inside a loop that stores to typed arrays.
  const { bins, words, g, h, y, raw } = st.banks[src]!;
  const { words: dWords, g: dG, h: dH, y: dY, raw: dRaw } = st.banks[1 - src]!;
  const stride = st.stride;
  const w = stride >> 2;
  const hasH = !st.constHessian;
  let l = lDst;
  let r = rDst;
  for (let k = start; k < stop; k++) {
    const goLeft = lut[bins[k * stride + f]!]!;
    // Branch-free: the destination is l or r, and that side advances.
    const d = r + goLeft * (l - r);
    l += goLeft;
    r += 1 - goLeft;
    // A row's codes as whole words; the common widths unrolled.
    const a = k * w;
    const b = d * w;
    dWords[b] = words[a]!;
    if (w > 1) {
      dWords[b + 1] = words[a + 1]!;
      if (w > 2) {
        dWords[b + 2] = words[a + 2]!;
        for (let q = 3; q < w; q++) dWords[b + q] = words[a + q]!;
      }
    }
    dG[d] = g[k]!;
    if (hasH) dH[d] = h[k]!;
    dY[d] = y[k]!;
    dRaw[d] = raw[k]!;
  }
  return l - lDst;
}

/**
 * Partition one chunk [start, stop) of bank src (left rows to lDst.., right rows to rDst.. of
 * the other bank) and set hist to the histogram of its rows going to side small (1 left,
 * 0 right, 2 none), read from where they now are. Returns how many go left.
 */
export function splitChunk(
  st: TrainState,
  hist: Float64Array,
  src: number,
  start: number,
  stop: number,
  lDst: number,
  rDst: number,
  f: number,
  lut: Uint8Array,
  small: number,
): number {
  const l = partitionKernel(st, src, start, stop, lDst, rDst, f, lut);
  if (small === 2) return l;
  hist.fill(0);
  const dst = st.banks[1 - src]!;
  if (small === 1) histogramKernel(st, hist, dst, lDst, lDst + l);
  else histogramKernel(st, hist, dst, rDst, rDst + (stop - start - l));
  return l;
}

/** Copy positions [from, to) of bank 1 to bank 0. */
export function toBank0(st: TrainState, from: number, to: number): void {
  const [a, b] = st.banks;
  const w = st.stride >> 2;
  a.words.set(b.words.subarray(from * w, to * w), from * w);
  a.g.set(b.g.subarray(from, to), from);
  if (!st.constHessian) a.h.set(b.h.subarray(from, to), from);
  a.y.set(b.y.subarray(from, to), from);
  a.raw.set(b.raw.subarray(from, to), from);
}
