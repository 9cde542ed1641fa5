/**
 * Grows one tree on binned data, best-first like scikit-learn's TreeGrower: the open node with
 * the largest gain is split next until max_leaf_nodes leaves exist or no node can be split.
 * A node owns a range of row ids (kernels.ts); a split writes them into the other id array,
 * its two children side by side. Only the smaller child's histogram is built, from its rows
 * once their ids are written; the larger one's is the parent's minus it. The root's histogram
 * comes with the gradients, in one pass over the rows in their order. Cost per tree:
 * O(rows x depth) for the partitions and O(features x rows of the smaller children) for the
 * histograms.
 */
import { boostShard, buffersOf, childIds, makeState, ROOT_IDS, shardsOf, splitShardPart, type Leaves, type TrainState } from './kernels.js';
import { bestSplit, leafValue, type Split, type SplitSettings } from './split.js';
import { OP } from './protocol.js';
import type { Team } from './threads.js';

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
  /**
   * Nodes' rows, to update the training predictions: node i's rows of shard s are positions
   * start[2i + s]..stop[2i + s]-1 of id array ids[i].
   */
  ids: Uint8Array;
  start: Uint32Array;
  stop: Uint32Array;
}

interface Node {
  /** Per shard, the node's positions [start, stop) (shard 1's empty with one shard). */
  start: [number, number];
  stop: [number, number];
  /** The id array (kernels.ts) holding the node's rows. */
  ids: number;
  g: number;
  h: number;
  depth: number;
  value: number;
  hist: Float64Array | null;
  split: Split | null;
  left: Node | null;
  right: Node | null;
}

/**
 * With a worker, nodes of at least this many rows have their shard 1 part split by it; smaller
 * ones are split by the main thread alone, both shards (waking the worker costs more).
 */
const PARALLEL_MIN_ROWS = 8_192;

/** The training rows in node order, and buffers reused across the trees of one fit. */
export class Grower {
  private readonly st: TrainState;
  private readonly pool: Float64Array[] = [];
  /** Shard 1's histogram (the worker's, with a team). */
  private readonly partial: Float64Array;
  /** The root's histogram of all rows (only its counts are used: they never change). */
  private readonly rootCounts: Float64Array;
  private readonly histSize: number;
  private readonly n: number;
  private readonly shards: number;

  constructor(
    private readonly s: GrowSettings,
    columns: readonly Uint8Array[],
    y: Float64Array,
    baseline: number,
    private readonly team: Team | null,
  ) {
    const n = y.length;
    this.n = n;
    this.shards = shardsOf(n);
    const shared = team !== null;
    const st = makeState(n, columns.length, s.nBins, s.constHessian, shared);
    this.st = st;
    const stride = st.stride;
    columns.forEach((c, f) => {
      for (let i = 0, j = f; i < n; i++, j += stride) st.bins[j] = c[i]!;
    });
    st.y.set(y);
    st.raw.fill(baseline);
    this.histSize = columns.length * s.nBins * 3;
    this.partial = shared ? new Float64Array(new SharedArrayBuffer(this.histSize * 8)) : new Float64Array(this.histSize);
    this.rootCounts = new Float64Array(this.histSize);
    st.compiled.histogram(this.rootCounts, st, st.ids[ROOT_IDS], 0, n);
    team?.broadcast({ op: 'state', buffers: buffersOf(st), partial: this.partial.buffer as SharedArrayBuffer });
  }

  /**
   * Grow a tree on the gradients at the current raw scores, after adding the leaf values of
   * prev (the tree before, shrunk by lr) to them.
   */
  grow(prev: GrownTree | null, lr: number): GrownTree {
    const { s, n } = this;
    const rootHist = this.boost(prev, lr);
    let g = 0;
    let h = 0;
    for (let b = 0, j = 0; b < s.nBins; b++, j += 3) {
      g += rootHist[j]!;
      h += rootHist[j + (s.constHessian ? 2 : 1)]!;
    }
    // scikit-learn gives the root the value 0: a tree that cannot split adds nothing.
    const cut = this.st.cut;
    const root: Node = { start: [0, cut], stop: [cut, n], ids: ROOT_IDS, g, h, depth: 0, value: 0, hist: rootHist, split: null, left: null, right: null };
    const open: Node[] = [];
    let leaves = 1;
    if (n >= 2 * s.minSamplesLeaf && h >= 1e-3) this.findSplit(root, open);
    else this.release(root);
    while (open.length > 0) {
      let k = 0;
      for (let i = 1; i < open.length; i++) if (open[i]!.split!.gain > open[k]!.split!.gain) k = i;
      const node = open.splice(k, 1)[0]!;
      const sp = node.split!;
      const nLeft = sp.nLeft;
      const nRight = size(node) - nLeft;
      leaves++;
      const last = s.maxLeafNodes !== null && leaves >= s.maxLeafNodes;
      const depthLeft = s.maxDepth !== null && node.depth + 1 >= s.maxDepth;
      const splitLeft = !last && !depthLeft && nLeft >= 2 * s.minSamplesLeaf;
      const splitRight = !last && !depthLeft && nRight >= 2 * s.minSamplesLeaf;
      // The smaller child's histogram comes out of the partition; the larger one's is the
      // parent's minus it.
      const smallIsLeft = nLeft < nRight;
      const smallHist = splitLeft || splitRight ? this.newHist() : null;
      const [left, right] = this.split(node, smallHist, smallIsLeft);
      if (last) {
        this.release(node);
        for (const o of open) this.release(o);
        open.length = 0;
        break;
      }
      if (smallHist) {
        const [small, large] = smallIsLeft ? [left, right] : [right, left];
        small.hist = smallHist;
        large.hist = node.hist!;
        const ls = large.hist;
        for (let i = 0; i < ls.length; i++) ls[i]! -= smallHist[i]!;
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

  /**
   * Add prev's leaves to the raw scores, take the gradients there and the root histogram. Each
   * thread does both for its own shard's rows (shard 0's leaf entries are the first half), so
   * neither waits for the other in between.
   */
  private boost(prev: GrownTree | null, lr: number): Float64Array {
    const { st, team } = this;
    const leaves = prev ? leavesOf(prev, lr) : null;
    const m = leaves ? leaves.value.length : 0;
    const half = m >>> 1;
    const hist = this.newHist();
    if (this.shards === 1) {
      boostShard(st, hist, leaves, 0, m, 0);
      return this.withRootCounts(hist);
    }
    if (team) {
      team.message(1, { op: 'boost', leaves, first: half, last: m, shard: 1 });
      boostShard(st, hist, leaves, 0, half, 0);
      team.waitAll();
    } else {
      boostShard(st, hist, leaves, 0, half, 0);
      boostShard(st, this.partial, leaves, half, m, 1);
    }
    addInto(hist, this.partial);
    return this.withRootCounts(hist);
  }

  private withRootCounts(hist: Float64Array): Float64Array {
    const counts = this.rootCounts;
    for (let j = 2; j < hist.length; j += 3) hist[j] = counts[j]!;
    return hist;
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

  private newHist(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.histSize);
  }

  /**
   * Partition the node's rows (the left child's rows first) and make its two children;
   * into smallHist (unless null) the histogram of the smaller child's rows.
   */
  private split(node: Node, smallHist: Float64Array | null, smallIsLeft: boolean): [Node, Node] {
    const sp = node.split!;
    const s = this.s;
    const lut = goesLeftTable(s, sp);
    const [l0, l1] = this.partition(node, sp.nLeft, sp.feature, lut, smallHist, smallHist ? (smallIsLeft ? 1 : 0) : 2);
    const mid: [number, number] = [node.start[0] + l0, node.start[1] + l1];
    const child = (start: [number, number], stop: [number, number], g: number, h: number): Node => ({
      start,
      stop,
      ids: childIds(node.ids),
      g,
      h,
      depth: node.depth + 1,
      value: leafValue(g, h, s.l2),
      hist: null,
      split: null,
      left: null,
      right: null,
    });
    node.left = child(node.start, mid, sp.gLeft, sp.hLeft);
    node.right = child(mid, node.stop, node.g - sp.gLeft, node.h - sp.hLeft);
    // A feature without missing values in training sends them to the child with more rows.
    if (!s.hasMissing[sp.feature]) sp.missingLeft = sp.nLeft > size(node) - sp.nLeft;
    return [node.left, node.right];
  }

  /**
   * Write the node's rows into the other id array, each shard's part in place (the left child's
   * first; nLeft of them in all); hist gets the histogram of the side small (1 left, 0 right, 2
   * none), shard 0's plus shard 1's. Returns how many of each shard went left.
   */
  private partition(node: Node, nLeft: number, f: number, lut: Uint8Array, hist: Float64Array | null, small: number): [number, number] {
    const { st, partial } = this;
    const first = hist ?? partial;
    const src = node.ids;
    const [s0, s1] = node.start;
    const [e0, e1] = node.stop;
    let l0: number;
    let l1 = 0;
    if (this.team && this.shards === 2 && size(node) >= PARALLEL_MIN_ROWS) {
      this.team.command(1, OP.split, [src, s1, e1, f, small], lut);
      l0 = splitShardPart(st, first, src, s0, e0, f, lut, small);
      l1 = this.team.wait(1);
    } else {
      l0 = splitShardPart(st, first, src, s0, e0, f, lut, small);
      if (this.shards === 2) l1 = splitShardPart(st, partial, src, s1, e1, f, lut, small);
    }
    if (hist && this.shards === 2) addInto(hist, partial);
    if (l0 + l1 !== nLeft) throw new Error(`gbt: split of ${size(node)} rows sent ${l0 + l1} left, expected ${nLeft}`);
    return [l0, l1];
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
      ids: new Uint8Array(m),
      start: new Uint32Array(2 * m),
      stop: new Uint32Array(2 * m),
    };
    nodes.forEach((node, i) => {
      t.ids[i] = node.ids;
      t.start.set(node.start, 2 * i);
      t.stop.set(node.stop, 2 * i);
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

const size = (node: Node) => node.stop[0] - node.start[0] + node.stop[1] - node.start[1];

/** A grown tree's leaves, shard 0's entries then shard 1's: where their rows are, and their values shrunk by lr. */
function leavesOf(t: GrownTree, lr: number): Leaves {
  let m = 0;
  for (let i = 0; i < t.isLeaf.length; i++) m += t.isLeaf[i]!;
  const leaves: Leaves = { array: new Uint8Array(2 * m), start: new Uint32Array(2 * m), stop: new Uint32Array(2 * m), value: new Float64Array(2 * m) };
  for (let s = 0, j = 0; s < 2; s++) {
    for (let i = 0; i < t.isLeaf.length; i++) {
      if (!t.isLeaf[i]) continue;
      leaves.array[j] = t.ids[i]!;
      leaves.start[j] = t.start[2 * i + s]!;
      leaves.stop[j] = t.stop[2 * i + s]!;
      leaves.value[j++] = lr * t.value[i]!;
    }
  }
  return leaves;
}

function addInto(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
}

/** Which bins of the split feature go left. */
function goesLeftTable(s: SplitSettings, sp: Split): Uint8Array {
  const lut = new Uint8Array(s.nBins);
  if (sp.leftBins) for (const b of sp.leftBins) lut[b] = 1;
  else lut.fill(1, 0, sp.bin + 1);
  if (sp.missingLeft) lut[s.missingBin] = 1;
  return lut;
}
