/**
 * Grows one tree on binned data, best-first like scikit-learn's TreeGrower: the open node with
 * the largest gain is split next until max_leaf_nodes leaves exist or no node can be split.
 * Rows live in one Uint32Array partition (a node owns rows[start, stop)); a split partitions its
 * range in place, stably. Only the smaller child's histogram is built from its rows; the larger
 * one's is the parent's minus it. Cost per tree: O(rows x depth) for the partitions and
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

/** Buffers reused across the trees of one fit. */
export class Grower {
  readonly rows: Uint32Array;
  private readonly tmp: Uint32Array;
  private readonly og: Float64Array;
  private readonly oh: Float64Array;
  private readonly pool: Float64Array[] = [];
  private readonly histSize: number;

  constructor(
    private readonly s: GrowSettings,
    /** Bin codes, row-major: row i, feature f at i * nFeatures + f. */
    private readonly bins: Uint8Array,
    private readonly nFeatures: number,
    private readonly n: number,
  ) {
    this.rows = new Uint32Array(n);
    this.tmp = new Uint32Array(n);
    this.og = new Float64Array(n);
    this.oh = new Float64Array(n);
    this.histSize = nFeatures * s.nBins * 3;
  }

  grow(grad: Float64Array, hess: Float64Array): GrownTree {
    const { s, n, rows } = this;
    for (let i = 0; i < n; i++) rows[i] = i;
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
      root.hist = this.histogram(root, grad, hess);
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
        small.hist = this.histogram(small, grad, hess);
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

  private findSplit(node: Node, open: Node[]): void {
    node.split = bestSplit(this.s, node.hist!, size(node), node.g, node.h);
    if (node.split) open.push(node);
    else this.release(node);
  }

  private release(node: Node): void {
    if (node.hist) this.pool.push(node.hist);
    node.hist = null;
  }

  /**
   * (sum g, sum h, count) per feature and bin over the node's rows. The bins are row-major, so
   * a row's codes for all features share one cache line however scattered the node's rows are.
   */
  private histogram(node: Node, grad: Float64Array, hess: Float64Array): Float64Array {
    const hist = this.pool.pop() ?? new Float64Array(this.histSize);
    hist.fill(0);
    const { start, stop } = node;
    const m = stop - start;
    const { rows, og, oh, bins, nFeatures: nf } = this;
    const constHessian = this.s.constHessian;
    for (let k = 0; k < m; k++) og[k] = grad[rows[start + k]!]!;
    if (!constHessian) for (let k = 0; k < m; k++) oh[k] = hess[rows[start + k]!]!;
    const stride = this.s.nBins * 3;
    if (constHessian) {
      for (let k = 0; k < m; k++) {
        const base = rows[start + k]! * nf;
        const gk = og[k]!;
        for (let f = 0, off = 0; f < nf; f++, off += stride) {
          const j = off + bins[base + f]! * 3;
          hist[j]! += gk;
          hist[j + 2]! += 1;
        }
      }
    } else {
      for (let k = 0; k < m; k++) {
        const base = rows[start + k]! * nf;
        const gk = og[k]!;
        const hk = oh[k]!;
        for (let f = 0, off = 0; f < nf; f++, off += stride) {
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
    const { rows, tmp } = this;
    const { bins, nFeatures: nf } = this;
    const f = sp.feature;
    let l = node.start;
    let r = 0;
    // Branch-free: a row is written to both sides and only the side it belongs to advances.
    for (let k = node.start; k < node.stop; k++) {
      const row = rows[k]!;
      const goLeft = lut[bins[row * nf + f]!]!;
      rows[l] = row;
      tmp[r] = row;
      l += goLeft;
      r += 1 - goLeft;
    }
    rows.set(tmp.subarray(0, r), l);
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
