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

export function confusion(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Confusion {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] === 1;
    const p = yPred[i] === 1;
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
 * Area under the ROC curve via the Mann-Whitney statistic with average ranks for ties.
 * Null when y has a single class (undefined, where scikit-learn raises).
 * Cost: O(n log n).
 */
export function rocAucScore(yTrue: ArrayLike<number>, score: ArrayLike<number>): number | null {
  const n = yTrue.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && score[idx[j + 1]!] === score[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (yTrue[idx[k]!] === 1) {
        pos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
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
  const pred = Array.from(proba, (p) => (p > threshold ? 1 : 0));
  const c = confusion(yTrue, pred);
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
