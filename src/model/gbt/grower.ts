/**
 * Grows one tree on binned data, best-first like scikit-learn's TreeGrower: the open node with
 * the largest gain is split next until max_leaf_nodes leaves exist or no node can be split.
 * The training rows themselves are kept partitioned: their bin codes (row-major, a row padded
 * to whole 32-bit words), gradients, hessians, targets and raw scores sit in node order, a node
 * owning positions [start, stop), and a split moves its rows (stably) into its two children.
 * So every histogram pass reads memory in sequence, whatever the depth; the order carries over
 * to the next tree. Only the smaller child's histogram is built from its rows; the larger one's
 * is the parent's minus it. Cost per tree: O(rows x depth) for the moves and
 * O(features x rows of the smaller children) for the histograms.
 */
import { bestSplit, leafValue, type Split, type SplitSettings } from './split.js';

export interface GrowSettings extends SplitSettings {
  maxLeafNodes: number | null;
  maxDepth: number | null;
}

/** A grown tree in node order (root first, then the left subtree, then the right one). */
export interface GrownTree {
  feature: Int32Array;
  /** Numeric splits: bins <= bin go left; categorical: -1. */
  bin: Int32Array;
  left: Int32Array;
  right: Int32Array;
  missingLeft: Uint8Array;
  isLeaf: Uint8Array;
  /** Leaf values before shrinkage. */
  value: Float64Array;
  /** Categorical splits: the bins going left. */
  leftBins: (number[] | null)[];
  /** Per node: which bins go left (nBins entries each), for predicting binned rows. */
  goesLeft: Uint8Array;
  gain: Float64Array;
  /** Leaves' row ranges in the partition, to update the training predictions. */
  start: Uint32Array;
  stop: Uint32Array;
}

interface Node {
  start: number;
  stop: number;
  g: number;
  h: number;
  depth: number;
  value: number;
  hist: Float64Array | null;
  split: Split | null;
  left: Node | null;
  right: Node | null;
}

/** The training rows in node order, and buffers reused across the trees of one fit. */
export class Grower {
  /** Per position: gradient, hessian (unless constant), target, raw score, in the loss sample. */
  readonly g: Float64Array;
  readonly h: Float64Array;
  readonly y: Float64Array;
  readonly raw: Float64Array;
  readonly inSample: Uint8Array;
  /** Bin codes, row-major: position i, feature f at i * stride + f; words = stride / 4. */
  private readonly bins: Uint8Array;
  private readonly words: Uint32Array;
  private readonly stride: number;
  private readonly tmp: { words: Uint32Array; g: Float64Array; h: Float64Array; y: Float64Array; raw: Float64Array; inSample: Uint8Array };
  private readonly pool: Float64Array[] = [];
  private readonly histSize: number;

  constructor(
    private readonly s: GrowSettings,
    columns: readonly Uint8Array[],
    y: Float64Array,
    baseline: number,
    sample: Uint32Array | null,
  ) {
    const n = y.length;
    this.n = n;
    this.nFeatures = columns.length;
    this.stride = Math.ceil(columns.length / 4) * 4;
    this.words = new Uint32Array((n * this.stride) / 4);
    this.bins = new Uint8Array(this.words.buffer);
    columns.forEach((c, f) => {
      for (let i = 0; i < n; i++) this.bins[i * this.stride + f] = c[i]!;
    });
    this.y = Float64Array.from(y);
    this.raw = new Float64Array(n).fill(baseline);
    this.g = new Float64Array(n);
    this.h = new Float64Array(s.constHessian ? 0 : n);
    this.inSample = new Uint8Array(n).fill(sample ? 0 : 1);
    if (sample) for (const i of sample) this.inSample[i] = 1;
    this.tmp = {
      words: new Uint32Array(this.words.length),
      g: new Float64Array(n),
      h: new Float64Array(this.h.length),
      y: new Float64Array(n),
      raw: new Float64Array(n),
      inSample: new Uint8Array(n),
    };
    this.histSize = this.nFeatures * s.nBins * 3;
  }

  private readonly n: number;
  private readonly nFeatures: number;

  /** Grow a tree on the gradients (and hessians) currently in g and h. */
  grow(): GrownTree {
    const { s, n } = this;
    const grad = this.g;
    const hess = this.h;
    let g = 0;
    let h = 0;
    for (let i = 0; i < n; i++) g += grad[i]!;
    if (s.constHessian) h = n;
    else for (let i = 0; i < n; i++) h += hess[i]!;
    // scikit-learn gives the root the value 0: a tree that cannot split adds nothing.
    const root: Node = { start: 0, stop: n, g, h, depth: 0, value: 0, hist: null, split: null, left: null, right: null };
    const open: Node[] = [];
    let leaves = 1;
    if (n >= 2 * s.minSamplesLeaf && h >= 1e-3) {
      root.hist = this.histogram(root);
      this.findSplit(root, open);
    }
    while (open.length > 0) {
      let k = 0;
      for (let i = 1; i < open.length; i++) if (open[i]!.split!.gain > open[k]!.split!.gain) k = i;
      const node = open.splice(k, 1)[0]!;
      const [left, right] = this.split(node);
      leaves++;
      if (s.maxLeafNodes !== null && leaves >= s.maxLeafNodes) {
        this.release(node);
        for (const o of open) this.release(o);
        open.length = 0;
        break;
      }
      const depthLeft = s.maxDepth !== null && left.depth >= s.maxDepth;
      const splitLeft = !depthLeft && size(left) >= 2 * s.minSamplesLeaf;
      const splitRight = !depthLeft && size(right) >= 2 * s.minSamplesLeaf;
      if (splitLeft || splitRight) {
        const [small, large] = size(left) < size(right) ? [left, right] : [right, left];
        small.hist = this.histogram(small);
        large.hist = node.hist!;
        const ls = large.hist;
        const ss = small.hist;
        for (let i = 0; i < ls.length; i++) ls[i]! -= ss[i]!;
        node.hist = null;
        if (splitLeft) this.findSplit(left, open);
        else this.release(left);
        if (splitRight) this.findSplit(right, open);
        else this.release(right);
      }
      this.release(node);
    }
    return this.flatten(root);
  }

  /** Add each leaf's shrunk value to the raw scores of its rows. */
  addLeaves(tree: GrownTree, lr: number): void {
    const raw = this.raw;
    for (let i = 0; i < tree.isLeaf.length; i++) {
      if (!tree.isLeaf[i]) continue;
      const v = lr * tree.value[i]!;
      for (let k = tree.start[i]!; k < tree.stop[i]!; k++) raw[k]! += v;
    }
  }

  private findSplit(node: Node, open: Node[]): void {
    node.split = bestSplit(this.s, node.hist!, size(node), node.g, node.h);
    if (node.split) open.push(node);
    else this.release(node);
  }

  private release(node: Node): void {
    if (node.hist) this.pool.push(node.hist);
    node.hist = null;
  }

  /** (sum g, sum h, count) per feature and bin over the node's rows, read in sequence. */
  private histogram(node: Node): Float64Array {
    const hist = this.pool.pop() ?? new Float64Array(this.histSize);
    hist.fill(0);
    const { start, stop } = node;
    const { bins, g, h, nFeatures: nf, stride } = this;
    const hs = this.s.nBins * 3;
    if (this.s.constHessian) {
      for (let k = start; k < stop; k++) {
        const base = k * stride;
        const gk = g[k]!;
        for (let f = 0, off = 0; f < nf; f++, off += hs) {
          const j = off + bins[base + f]! * 3;
          hist[j]! += gk;
          hist[j + 2]! += 1;
        }
      }
    } else {
      for (let k = start; k < stop; k++) {
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
    return hist;
  }

  /** Partition the node's rows and make its two children. */
  private split(node: Node): [Node, Node] {
    const sp = node.split!;
    const s = this.s;
    const lut = goesLeftTable(s, sp);
    this.partition(node.start, node.stop, sp.feature, lut);
    const l = node.start + sp.nLeft;
    const child = (start: number, stop: number, g: number, h: number): Node => ({
      start,
      stop,
      g,
      h,
      depth: node.depth + 1,
      value: leafValue(g, h, s.l2),
      hist: null,
      split: null,
      left: null,
      right: null,
    });
    node.left = child(node.start, l, sp.gLeft, sp.hLeft);
    node.right = child(l, node.stop, node.g - sp.gLeft, node.h - sp.hLeft);
    // A feature without missing values in training sends them to the child with more rows.
    if (!s.hasMissing[sp.feature]) sp.missingLeft = l - node.start > node.stop - l;
    return [node.left, node.right];
  }

  /**
   * Move the rows of [start, stop) whose code of feature f is marked in lut to the front, the
   * others after them, both in their order. Branch-free: each row is written to both sides and
   * only the side it belongs to advances; the right side goes through tmp.
   */
  private partition(start: number, stop: number, f: number, lut: Uint8Array): void {
    const { bins, words, g, h, y, raw, inSample, stride } = this;
    // Locals, not tmp.x: V8 reloads a property inside a loop that stores to typed arrays.
    const { words: tWords, g: tG, h: tH, y: tY, raw: tRaw, inSample: tSample } = this.tmp;
    const w = stride >> 2;
    const hasH = h.length > 0;
    let l = start;
    let r = 0;
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
      const sk = inSample[k]!;
      inSample[l] = sk;
      tSample[r] = sk;
      l += goLeft;
      r += 1 - goLeft;
    }
    words.set(tWords.subarray(0, r * w), l * w);
    g.set(tG.subarray(0, r), l);
    if (hasH) h.set(tH.subarray(0, r), l);
    y.set(tY.subarray(0, r), l);
    raw.set(tRaw.subarray(0, r), l);
    inSample.set(tSample.subarray(0, r), l);
  }

  private flatten(root: Node): GrownTree {
    const nodes: Node[] = [];
    const order = (node: Node) => {
      nodes.push(node);
      if (node.left) order(node.left);
      if (node.right) order(node.right);
    };
    order(root);
    const m = nodes.length;
    const index = new Map(nodes.map((node, i) => [node, i]));
    const t: GrownTree = {
      feature: new Int32Array(m).fill(-1),
      bin: new Int32Array(m).fill(-1),
      left: new Int32Array(m).fill(-1),
      right: new Int32Array(m).fill(-1),
      missingLeft: new Uint8Array(m),
      isLeaf: new Uint8Array(m),
      value: new Float64Array(m),
      leftBins: new Array<number[] | null>(m).fill(null),
      goesLeft: new Uint8Array(m * this.s.nBins),
      gain: new Float64Array(m),
      start: new Uint32Array(m),
      stop: new Uint32Array(m),
    };
    nodes.forEach((node, i) => {
      t.start[i] = node.start;
      t.stop[i] = node.stop;
      if (!node.left) {
        t.isLeaf[i] = 1;
        t.value[i] = node.value;
        return;
      }
      const sp = node.split!;
      t.feature[i] = sp.feature;
      t.left[i] = index.get(node.left)!;
      t.right[i] = index.get(node.right!)!;
      t.missingLeft[i] = sp.missingLeft ? 1 : 0;
      t.gain[i] = sp.gain;
      if (sp.leftBins) t.leftBins[i] = sp.leftBins.filter((b) => b !== this.s.missingBin);
      else t.bin[i] = sp.bin;
      t.goesLeft.set(goesLeftTable(this.s, sp), i * this.s.nBins);
    });
    return t;
  }
}

const size = (node: Node) => node.stop - node.start;

/** Which bins of the split feature go left. */
function goesLeftTable(s: SplitSettings, sp: Split): Uint8Array {
  const lut = new Uint8Array(s.nBins);
  if (sp.leftBins) for (const b of sp.leftBins) lut[b] = 1;
  else lut.fill(1, 0, sp.bin + 1);
  if (sp.missingLeft) lut[s.missingBin] = 1;
  return lut;
}
