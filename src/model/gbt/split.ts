/**
 * The best split of one node from its histograms, as scikit-learn's Splitter: per feature a
 * scan of the bins left to right (missing values go right) and, when the feature has missing
 * values, right to left (missing values go left); a categorical feature sorts its categories
 * (and the missing bin) by sum_g / (sum_h + 10) and scans from both ends up to the middle.
 * The first feature with the largest gain wins. Cost: O(features x bins) per node.
 *
 * A histogram holds, per feature and bin, (sum of gradients, sum of hessians, rows) at
 * hist[(feature * nBins + bin) * 3 + 0..2]. With a constant hessian (squared error) the
 * hessian slot is unused and the row count stands in for it.
 */

/** Hessian a child needs at least (scikit-learn's min_hessian_to_split). */
const MIN_HESSIAN = 1e-3;
/** Smoothing and least support (in hessian units) of a category (scikit-learn's MIN_CAT_SUPPORT). */
const MIN_CAT_SUPPORT = 10;
/** Added to every hessian sum in a leaf value, as scikit-learn does, so empty sums stay finite. */
const EPS = 1e-15;

export interface SplitSettings {
  nBins: number;
  missingBin: number;
  nBinsNonMissing: Int32Array;
  hasMissing: Uint8Array;
  isCategorical: Uint8Array;
  constHessian: boolean;
  minSamplesLeaf: number;
  l2: number;
}

export interface Split {
  gain: number;
  feature: number;
  /** Numeric splits: bins 0..bin go left. */
  bin: number;
  missingLeft: boolean;
  /** Categorical splits: the bins (category indices, maybe the missing bin) that go left. */
  leftBins: number[] | null;
  gLeft: number;
  hLeft: number;
  nLeft: number;
}

/** Newton value of a leaf before shrinkage: -G / (H + l2). */
export function leafValue(g: number, h: number, l2: number): number {
  return -g / (h + l2 + EPS);
}

/** G^2 / (H + l2): the loss reduction a node with these sums gives over a zero value. */
function score(g: number, h: number, l2: number): number {
  return (g * g) / (h + l2 + EPS);
}

export function bestSplit(s: SplitSettings, hist: Float64Array, n: number, g: number, h: number): Split | null {
  let best: Split | null = null;
  const parent = score(g, h, s.l2);
  for (let f = 0; f < s.nBinsNonMissing.length; f++) {
    const c = s.isCategorical[f] ? bestCategorical(s, hist, f, n, g, h, parent) : bestNumeric(s, hist, f, n, g, h, parent);
    if (c && (!best || c.gain > best.gain)) best = c;
  }
  return best;
}

function bestNumeric(s: SplitSettings, hist: Float64Array, f: number, n: number, g: number, h: number, parent: number): Split | null {
  const { minSamplesLeaf: msl, l2, constHessian } = s;
  const base = f * s.nBins * 3;
  const nb = s.nBinsNonMissing[f]!;
  const missing = s.hasMissing[f]!;
  let best: Split | null = null;
  let bestGain = 0;
  // Left to right: bins 0..b go left, missing values right. With missing values the last
  // non-missing bin may go left too (a split on missingness alone).
  let gl = 0;
  let hl = 0;
  let nl = 0;
  for (let b = 0; b < nb - 1 + missing; b++) {
    const o = base + b * 3;
    gl += hist[o]!;
    nl += hist[o + 2]!;
    hl += constHessian ? hist[o + 2]! : hist[o + 1]!;
    if (nl < msl) continue;
    if (n - nl < msl) break;
    if (hl < MIN_HESSIAN) continue;
    if (h - hl < MIN_HESSIAN) break;
    const gain = score(gl, hl, l2) + score(g - gl, h - hl, l2) - parent;
    if (gain > bestGain) {
      bestGain = gain;
      best = { gain, feature: f, bin: b, missingLeft: false, leftBins: null, gLeft: gl, hLeft: hl, nLeft: nl };
    }
  }
  if (!missing) return best;
  // Right to left: bins b+1.. go right, missing values left.
  let gr = 0;
  let hr = 0;
  let nr = 0;
  for (let b = nb - 2; b >= 0; b--) {
    const o = base + (b + 1) * 3;
    gr += hist[o]!;
    nr += hist[o + 2]!;
    hr += constHessian ? hist[o + 2]! : hist[o + 1]!;
    if (nr < msl) continue;
    if (n - nr < msl) break;
    if (hr < MIN_HESSIAN) continue;
    if (h - hr < MIN_HESSIAN) break;
    const gain = score(g - gr, h - hr, l2) + score(gr, hr, l2) - parent;
    if (gain > bestGain) {
      bestGain = gain;
      best = { gain, feature: f, bin: b, missingLeft: true, leftBins: null, gLeft: g - gr, hLeft: h - hr, nLeft: n - nr };
    }
  }
  return best;
}

function bestCategorical(s: SplitSettings, hist: Float64Array, f: number, n: number, g: number, h: number, parent: number): Split | null {
  const { minSamplesLeaf: msl, l2, constHessian } = s;
  const base = f * s.nBins * 3;
  const support = n / h;
  const hessOf = (b: number) => (constHessian ? hist[base + b * 3 + 2]! : hist[base + b * 3 + 1]!);
  // Categories with enough support (and the missing values as one more), by gradient ratio.
  const cats: { bin: number; ratio: number }[] = [];
  const consider = (b: number) => {
    const hb = hessOf(b);
    if (hb * support >= MIN_CAT_SUPPORT) cats.push({ bin: b, ratio: hist[base + b * 3]! / (hb + MIN_CAT_SUPPORT) });
  };
  for (let b = 0; b < s.nBinsNonMissing[f]!; b++) consider(b);
  if (s.hasMissing[f]) consider(s.missingBin);
  const used = cats.length;
  if (used <= 1) return null;
  cats.sort((a, b) => a.ratio - b.ratio || a.bin - b.bin);
  let best: Split | null = null;
  let bestGain = 0;
  for (const direction of [1, -1]) {
    const middle = direction === 1 ? (used + 1) >> 1 : ((used + 1) >> 1) - 1;
    let gl = 0;
    let hl = 0;
    let nl = 0;
    for (let i = 0; i < middle; i++) {
      const b = cats[direction === 1 ? i : used - 1 - i]!.bin;
      gl += hist[base + b * 3]!;
      nl += hist[base + b * 3 + 2]!;
      hl += hessOf(b);
      if (nl < msl || hl < MIN_HESSIAN) continue;
      if (n - nl < msl || h - hl < MIN_HESSIAN) break;
      const gain = score(gl, hl, l2) + score(g - gl, h - hl, l2) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        const chosen = direction === 1 ? cats.slice(0, i + 1) : cats.slice(used - 1 - i);
        const leftBins = chosen.map((c) => c.bin).sort((a, b) => a - b);
        best = { gain, feature: f, bin: 0, missingLeft: leftBins.includes(s.missingBin), leftBins, gLeft: gl, hLeft: hl, nLeft: nl };
      }
    }
  }
  return best;
}
