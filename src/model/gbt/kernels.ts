/**
 * The inner loops of growing trees, as plain functions over a TrainState so that the main thread
 * and a worker thread (worker.ts) run the very same code on the very same (shared) memory. Each
 * kernel works on a range of positions (a chunk); a node of many rows is always cut into the
 * same two chunks whether one thread or two do the work, so the result never depends on the
 * thread count: the chunks' histograms are added, and their partitions reassembled into the one
 * stable partition.
 *
 * Imports nothing, so the worker loads only this file and worker.js.
 */

/** The training rows in node order, on SharedArrayBuffers when worker threads share them. */
export interface TrainState {
  n: number;
  nFeatures: number;
  /** Bins per feature in a histogram (max_bins + 1, the last one for missing values). */
  nBins: number;
  /** Bytes of bin codes per row (nFeatures rounded up to whole 32-bit words). */
  stride: number;
  /** Squared error: no hessian array, the row count stands in for it. */
  constHessian: boolean;
  /** Bin codes row-major by position: position k, feature f at k * stride + f (words: same bytes). */
  words: Uint32Array;
  bins: Uint8Array;
  /** Per position: gradient and hessian (float32, as scikit-learn), target and raw score. */
  g: Float32Array;
  h: Float32Array;
  y: Float64Array;
  raw: Float64Array;
  /** Scratch of the same shapes for partitioning. */
  tWords: Uint32Array;
  tBins: Uint8Array;
  tG: Float32Array;
  tH: Float32Array;
  tY: Float64Array;
  tRaw: Float64Array;
}

/** What a worker needs to rebuild a TrainState: the buffers and the shape. */
export interface StateBuffers {
  n: number;
  nFeatures: number;
  nBins: number;
  stride: number;
  constHessian: boolean;
  words: ArrayBufferLike;
  g: ArrayBufferLike;
  h: ArrayBufferLike;
  y: ArrayBufferLike;
  raw: ArrayBufferLike;
  tWords: ArrayBufferLike;
  tG: ArrayBufferLike;
  tH: ArrayBufferLike;
  tY: ArrayBufferLike;
  tRaw: ArrayBufferLike;
}

export function makeState(
  n: number,
  nFeatures: number,
  nBins: number,
  constHessian: boolean,
  shared: boolean,
): TrainState {
  const buf = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const stride = Math.ceil(nFeatures / 4) * 4;
  const nh = constHessian ? 0 : n;
  return stateOf({
    n,
    nFeatures,
    nBins,
    stride,
    constHessian,
    words: buf(n * stride),
    g: buf(n * 4),
    h: buf(nh * 4),
    y: buf(n * 8),
    raw: buf(n * 8),
    tWords: buf(n * stride),
    tG: buf(n * 4),
    tH: buf(nh * 4),
    tY: buf(n * 8),
    tRaw: buf(n * 8),
  });
}

export function stateOf(b: StateBuffers): TrainState {
  return {
    n: b.n,
    nFeatures: b.nFeatures,
    nBins: b.nBins,
    stride: b.stride,
    constHessian: b.constHessian,
    words: new Uint32Array(b.words),
    bins: new Uint8Array(b.words),
    g: new Float32Array(b.g),
    h: new Float32Array(b.h),
    y: new Float64Array(b.y),
    raw: new Float64Array(b.raw),
    tWords: new Uint32Array(b.tWords),
    tBins: new Uint8Array(b.tWords),
    tG: new Float32Array(b.tG),
    tH: new Float32Array(b.tH),
    tY: new Float64Array(b.tY),
    tRaw: new Float64Array(b.tRaw),
  };
}

export function buffersOf(s: TrainState): StateBuffers {
  return {
    n: s.n,
    nFeatures: s.nFeatures,
    nBins: s.nBins,
    stride: s.stride,
    constHessian: s.constHessian,
    words: s.words.buffer,
    g: s.g.buffer,
    h: s.h.buffer,
    y: s.y.buffer,
    raw: s.raw.buffer,
    tWords: s.tWords.buffer,
    tG: s.tG.buffer,
    tH: s.tH.buffer,
    tY: s.tY.buffer,
    tRaw: s.tRaw.buffer,
  };
}

/**
 * One boosting step over positions [from, to): add the previous tree's leaf values (value[j]
 * to the rows at positions [start[j], stop[j]), the leaves' ranges), compute the gradients and
 * hessians at the new raw scores (g = p - y, h = p (1 - p) for log loss; g = raw - y for
 * squared error; stored as float32 like scikit-learn) and the histogram of these positions:
 * (sum g, sum h, count) at hist[(f * nBins + bin) * 3 + 0..2], summed in position order in
 * float64. hist is zeroed first.
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
  const { bins, g, h, y, raw, stride, nFeatures: nf } = st;
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

/**
 * (sum g, sum h, count) over positions [from, to) of the given arrays (the state's, or its
 * scratch), added to hist in position order; see boostKernel for the layout.
 */
export function histogramKernel(
  st: TrainState,
  hist: Float64Array,
  bins: Uint8Array,
  g: Float32Array,
  h: Float32Array,
  from: number,
  to: number,
): void {
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

/**
 * Stable partition of positions [start, stop) by lut[code of feature f]: the rows going left
 * are compacted in place from lStart (<= start), the others written in order to the scratch
 * arrays from rStart. Returns how many go left. Branch-free: each row is written to both
 * sides and only the side it belongs to advances.
 */
export function partitionKernel(st: TrainState, start: number, stop: number, lStart: number, rStart: number, f: number, lut: Uint8Array): number {
  // Locals, not st.x: V8 reloads a property inside a loop that stores to typed arrays.
  const { bins, words, g, h, y, raw, tWords, tG, tH, tY, tRaw, stride } = st;
  const w = stride >> 2;
  const hasH = !st.constHessian;
  let l = lStart;
  let r = rStart;
  for (let k = start; k < stop; k++) {
    const goLeft = lut[bins[k * stride + f]!]!;
    // A row's codes as whole words; the common widths unrolled (a loop here costs 2x).
    const a = k * w;
    const bl = l * w;
    const br = r * w;
    const v0 = words[a]!;
    words[bl] = v0;
    tWords[br] = v0;
    if (w > 1) {
      const v1 = words[a + 1]!;
      words[bl + 1] = v1;
      tWords[br + 1] = v1;
      if (w > 2) {
        const v2 = words[a + 2]!;
        words[bl + 2] = v2;
        tWords[br + 2] = v2;
        for (let q = 3; q < w; q++) {
          const v = words[a + q]!;
          words[bl + q] = v;
          tWords[br + q] = v;
        }
      }
    }
    const gk = g[k]!;
    g[l] = gk;
    tG[r] = gk;
    if (hasH) {
      const hk = h[k]!;
      h[l] = hk;
      tH[r] = hk;
    }
    const yk = y[k]!;
    y[l] = yk;
    tY[r] = yk;
    const rk = raw[k]!;
    raw[l] = rk;
    tRaw[r] = rk;
    l += goLeft;
    r += 1 - goLeft;
  }
  return l - lStart;
}

/**
 * Partition one chunk [start, stop) (left rows from lStart, right rows to scratch from
 * rStart) and set hist to the histogram of its rows going to side small (1 left, 0 right,
 * 2 none), read from where they now are. Returns how many go left.
 */
export function splitChunk(
  st: TrainState,
  hist: Float64Array,
  start: number,
  stop: number,
  lStart: number,
  rStart: number,
  f: number,
  lut: Uint8Array,
  small: number,
): number {
  const l = partitionKernel(st, start, stop, lStart, rStart, f, lut);
  if (small === 2) return l;
  hist.fill(0);
  if (small === 1) histogramKernel(st, hist, st.bins, st.g, st.h, lStart, lStart + l);
  else histogramKernel(st, hist, st.tBins, st.tG, st.tH, rStart, rStart + (stop - start - l));
  return l;
}

/** Copy count rows from scratch positions from.. to positions to.. */
export function copyFromScratch(st: TrainState, from: number, count: number, to: number): void {
  if (count <= 0) return;
  const w = st.stride >> 2;
  st.words.set(st.tWords.subarray(from * w, (from + count) * w), to * w);
  st.g.set(st.tG.subarray(from, from + count), to);
  if (!st.constHessian) st.h.set(st.tH.subarray(from, from + count), to);
  st.y.set(st.tY.subarray(from, from + count), to);
  st.raw.set(st.tRaw.subarray(from, from + count), to);
}

/** Move count rows from positions from.. to positions to.. (to <= from; overlapping is fine). */
export function moveRows(st: TrainState, from: number, count: number, to: number): void {
  if (count <= 0 || from === to) return;
  const w = st.stride >> 2;
  st.words.copyWithin(to * w, from * w, (from + count) * w);
  st.g.copyWithin(to, from, from + count);
  if (!st.constHessian) st.h.copyWithin(to, from, from + count);
  st.y.copyWithin(to, from, from + count);
  st.raw.copyWithin(to, from, from + count);
}
