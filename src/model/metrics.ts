/**
 * Classification metrics as free functions metric(yTrue, ...), following scikit-learn's
 * definitions and zero-division conventions (a metric with an empty denominator is 0).
 */

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/**
 * The confusion matrix of predictions of class 1: `yPred[i] === 1`, or with a threshold
 * `yPred[i] > threshold` (yPred then holds probabilities).
 */
export function confusion(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, threshold?: number): Confusion {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const above = threshold !== undefined;
  const th = threshold ?? 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] === 1;
    const p = above ? yPred[i]! > th : yPred[i] === 1;
    if (t && p) c.tp++;
    else if (p) c.fp++;
    else if (t) c.fn++;
    else c.tn++;
  }
  return c;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export const precisionScore = (c: Confusion) => ratio(c.tp, c.tp + c.fp);
export const recallScore = (c: Confusion) => ratio(c.tp, c.tp + c.fn);
export const accuracyScore = (c: Confusion) => ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn);
/** F1 of the positive class 1: 2TP / (2TP + FP + FN). */
export const f1Score = (c: Confusion) => ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);

/**
 * Area under the ROC curve via the Mann-Whitney statistic with average ranks for ties: the
 * scores sorted by a radix sort on their float64 bits (four 16-bit digits; -0 is 0), then each
 * group of equal scores credits its positives with the group's average rank, in ascending order
 * of score. Null when y has a single class or a score is NaN (undefined, where scikit-learn
 * raises: a NaN has no rank, and sorting it gave an AUC that depended on the rows' order).
 * Cost: O(n) (a comparison sort for fewer than 2^18 scores, with the same result: the same
 * additions in the same order).
 */
export function rocAucScore(yTrue: ArrayLike<number>, score: ArrayLike<number>): number | null {
  const n = yTrue.length;
  for (let i = 0; i < n; i++) if (score[i] !== score[i]) return null;
  return n < RADIX_MIN ? aucOfGroups(n, sortedGroupsByComparison(yTrue, score)) : aucOfGroups(n, sortedGroupsByRadix(yTrue, score));
}

/**
 * Below this many scores a comparison sort is quicker than four radix passes (measured in a
 * fresh process, as a verb runs it: 20,000 scores 10 ms against 17, 300,000 128 against 101).
 */
const RADIX_MIN = 1 << 18;

/** Calls `group(size, positives)` for each group of equal scores, in ascending order. */
type Groups = (group: (size: number, positives: number) => void) => void;

/** The Mann-Whitney AUC of the groups of equal scores, given in ascending order. */
function aucOfGroups(n: number, groups: Groups): number | null {
  let pos = 0;
  let rankSumPos = 0;
  let i = 0;
  groups((size, positives) => {
    const avgRank = (i + i + size - 1) / 2 + 1;
    for (let k = 0; k < positives; k++) {
      pos++;
      rankSumPos += avgRank;
    }
    i += size;
  });
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

function sortedGroupsByComparison(yTrue: ArrayLike<number>, score: ArrayLike<number>): Groups {
  const n = yTrue.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  return (group) => {
    for (let i = 0; i < n; ) {
      let j = i;
      while (j + 1 < n && score[idx[j + 1]!] === score[idx[i]!]) j++;
      let positives = 0;
      for (let k = i; k <= j; k++) if (yTrue[idx[k]!] === 1) positives++;
      group(j - i + 1, positives);
      i = j + 1;
    }
  };
}

/**
 * The scores' float64 bits as unsigned keys that sort like the numbers (sign bit flipped for
 * positives, every bit for negatives; -0 as 0), sorted with the labels by an LSD radix sort.
 * No NaN among the scores.
 */
function sortedGroupsByRadix(yTrue: ArrayLike<number>, score: ArrayLike<number>): Groups {
  const n = yTrue.length;
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = score[i]! === 0 ? 0 : score[i]!;
  const bits = new Uint32Array(f.buffer);
  let hi = new Uint32Array(n);
  let lo = new Uint32Array(n);
  let y = new Uint8Array(n);
  const counts = new Uint32Array(4 << 16);
  for (let i = 0; i < n; i++) {
    const h = bits[2 * i + 1]!;
    const l = bits[2 * i]!;
    const negative = h >>> 31 === 1;
    const kh = negative ? ~h >>> 0 : (h | 0x80000000) >>> 0;
    const kl = negative ? ~l >>> 0 : l;
    hi[i] = kh;
    lo[i] = kl;
    y[i] = yTrue[i] === 1 ? 1 : 0;
    // the four digits' counts
    counts[kl & 0xffff]!++;
    counts[(1 << 16) + (kl >>> 16)]!++;
    counts[(2 << 16) + (kh & 0xffff)]!++;
    counts[(3 << 16) + (kh >>> 16)]!++;
  }
  let hi2 = new Uint32Array(n);
  let lo2 = new Uint32Array(n);
  let y2 = new Uint8Array(n);
  for (let d = 0; d < 4; d++) {
    const base = d << 16;
    // a digit every key shares leaves the order as it is
    let one = false;
    for (let b = 0; b < 1 << 16 && !one; b++) one = counts[base + b] === n;
    if (one) continue;
    const at = new Uint32Array(1 << 16);
    for (let b = 0, sum = 0; b < 1 << 16; b++) {
      at[b] = sum;
      sum += counts[base + b]!;
    }
    const key = d < 2 ? lo : hi;
    const shift = d % 2 === 0 ? 0 : 16;
    for (let i = 0; i < n; i++) {
      const b = (key[i]! >>> shift) & 0xffff;
      const to = at[b]!++;
      hi2[to] = hi[i]!;
      lo2[to] = lo[i]!;
      y2[to] = y[i]!;
    }
    [hi, hi2] = [hi2, hi];
    [lo, lo2] = [lo2, lo];
    [y, y2] = [y2, y];
  }
  return (group) => {
    for (let i = 0; i < n; ) {
      const h = hi[i]!;
      const l = lo[i]!;
      let positives = y[i]!;
      let j = i + 1;
      for (; j < n && hi[j] === h && lo[j] === l; j++) positives += y[j]!;
      group(j - i, positives);
      i = j;
    }
  };
}

/** Mean cross-entropy with probabilities clipped to [eps, 1 - eps], eps = double machine epsilon. */
export function logLoss(yTrue: ArrayLike<number>, proba: ArrayLike<number>): number {
  const eps = Number.EPSILON;
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = Math.min(Math.max(proba[i]!, eps), 1 - eps);
    sum -= yTrue[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return yTrue.length === 0 ? Number.NaN : sum / yTrue.length;
}

/**
 * Every metric the score history keeps. Predictions are class 1 when proba > threshold: the
 * threshold the model file holds, the same one predict and serve use.
 */
export function classificationMetrics(
  yTrue: ArrayLike<number>,
  proba: ArrayLike<number>,
  threshold: number,
): { f1: number; precision: number; recall: number; accuracy: number; roc_auc: number | null; log_loss: number; confusion: Confusion } {
  const c = confusion(yTrue, proba, threshold);
  return {
    f1: f1Score(c),
    precision: precisionScore(c),
    recall: recallScore(c),
    accuracy: accuracyScore(c),
    roc_auc: rocAucScore(yTrue, proba),
    log_loss: logLoss(yTrue, proba),
    confusion: c,
  };
}

/** Whether a larger value of the metric is better; the drift tests flip for the others. */
export function higherIsBetter(metric: string): boolean {
  return !/(loss|error|sse|mse|mae|rmse|mape)$/i.test(metric);
}

export type Task = 'classification' | 'regression';
export const CLASSIFICATION_METRICS = ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss'] as const;
export const REGRESSION_METRICS = ['r2', 'sse', 'rmse', 'mae', 'mape'] as const;
export const metricsOf = (task: Task): readonly string[] => (task === 'regression' ? REGRESSION_METRICS : CLASSIFICATION_METRICS);
/** The primary metric (latestscore.txt) when config.json names none. */
export const defaultMetric = (task: Task): string => (task === 'regression' ? 'r2' : 'f1');

/**
 * Regression metrics as scikit-learn defines them: R² = 1 - SSE / SST (0 when SST is 0 and the
 * fit is exact, as sklearn's force_finite), root mean squared and mean absolute error, and MAPE
 * (a fraction, not a percentage) only when no target is zero (null otherwise).
 */
export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Record<string, number | null> {
  const n = yTrue.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i]!;
  mean /= n;
  let sse = 0;
  let sst = 0;
  let abs = 0;
  let ape = 0;
  let zero = false;
  for (let i = 0; i < n; i++) {
    const y = yTrue[i]!;
    const e = y - yPred[i]!;
    sse += e * e;
    sst += (y - mean) * (y - mean);
    abs += Math.abs(e);
    if (y === 0) zero = true;
    else ape += Math.abs(e) / Math.abs(y);
  }
  return {
    r2: n === 0 ? Number.NaN : sst === 0 ? (sse === 0 ? 1 : 0) : 1 - sse / sst,
    sse,
    rmse: Math.sqrt(sse / n),
    mae: abs / n,
    mape: zero || n === 0 ? null : ape / n,
  };
}
