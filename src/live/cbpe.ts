/**
 * Performance before the labels arrive: confidence-based performance estimation (CBPE, as
 * NannyML does it). If the model's probabilities are calibrated, a prediction with probability
 * p is right with probability p, so over a chunk of unlabelled rows the confusion matrix has an
 * expected value, and every metric of it an estimate:
 *
 *   E[TP] = sum of p over rows predicted 1      E[FP] = sum of 1 - p over rows predicted 1
 *   E[FN] = sum of p over rows predicted 0      E[TN] = sum of 1 - p over rows predicted 0
 *
 * The probabilities are first calibrated on reference data (labelled: the test set) with
 * isotonic regression, kept only if it lowers the expected calibration error on held-out splits
 * (NannyML's needs_calibration: 10 shuffled 90/10 splits, ECE on 10 equal-count bins). The
 * predicted class stays the model's own (raw probability > threshold); realized metrics use it
 * too. ROC AUC is estimated from the expected true and false positive rates along the model's
 * ranking. Valid under covariate shift (the inputs move, P(label | input) does not); not under
 * concept drift, which only labels can show.
 *
 * Alert band: mean +- 3 standard deviations of the realized metric over reference chunks of
 * the same size (for a chunk of another size, the width scales by sqrt(chunk_size / rows)).
 */
import { DataError } from '../errors.js';
import { accuracyScore, confusion, f1Score, precisionScore, recallScore, rocAucScore, type Confusion } from '../model/metrics.js';
import { rng } from '../tools/gendata.js';

/** A fitted isotonic (increasing) regression: breakpoints, interpolated linearly, clipped outside. */
export interface IsotonicModel {
  x: number[];
  y: number[];
}

/**
 * Isotonic regression of y on x by pool-adjacent-violators (scikit-learn's IsotonicRegression
 * with increasing=True, out_of_bounds="clip"): ties in x are averaged first; each pooled block
 * keeps its first and last x. Cost: O(n log n).
 */
export function isotonicFit(x: ArrayLike<number>, y: ArrayLike<number>): IsotonicModel {
  const n = x.length;
  if (n === 0) throw new DataError('isotonic regression requires at least one point');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  // blocks: value (weighted mean), weight, first and last x
  const val: number[] = [];
  const wt: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let k = 0; k < n; ) {
    const xv = x[order[k]!]!;
    let s = 0;
    let w = 0;
    while (k < n && x[order[k]!] === xv) {
      s += y[order[k]!]!;
      w++;
      k++;
    }
    val.push(s / w);
    wt.push(w);
    lo.push(xv);
    hi.push(xv);
    // pool while the last two blocks violate the order
    while (val.length > 1 && val[val.length - 2]! >= val[val.length - 1]!) {
      const w2 = wt.pop()!;
      const v2 = val.pop()!;
      const h2 = hi.pop()!;
      lo.pop();
      const i = val.length - 1;
      val[i] = (val[i]! * wt[i]! + v2 * w2) / (wt[i]! + w2);
      wt[i]! += w2;
      hi[i] = h2;
    }
  }
  const mx: number[] = [];
  const my: number[] = [];
  for (let b = 0; b < val.length; b++) {
    mx.push(lo[b]!);
    my.push(val[b]!);
    if (hi[b] !== lo[b]) {
      mx.push(hi[b]!);
      my.push(val[b]!);
    }
  }
  return { x: mx, y: my };
}

/** The fitted value at s: linear between breakpoints, the end values outside. Cost: O(log n). */
export function isotonicPredict(m: IsotonicModel, s: number): number {
  const { x, y } = m;
  if (s <= x[0]!) return y[0]!;
  if (s >= x[x.length - 1]!) return y[y.length - 1]!;
  let a = 0;
  let b = x.length - 1;
  while (b - a > 1) {
    const mid = (a + b) >> 1;
    if (x[mid]! <= s) a = mid;
    else b = mid;
  }
  return y[a]! + ((s - x[a]!) * (y[b]! - y[a]!)) / (x[b]! - x[a]!);
}

/**
 * Expected calibration error on `bins` bins of equal count (by probability): the count-weighted
 * mean of |mean label - mean probability| per bin. Cost: O(n log n).
 */
export function expectedCalibrationError(proba: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): number {
  const n = proba.length;
  if (n === 0) return Number.NaN;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => proba[a]! - proba[b]!);
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const from = Math.floor((b * n) / bins);
    const to = Math.floor(((b + 1) * n) / bins);
    if (to <= from) continue;
    let sp = 0;
    let sy = 0;
    for (let k = from; k < to; k++) {
      sp += proba[order[k]!]!;
      sy += labels[order[k]!]!;
    }
    ece += Math.abs(sy - sp) / n;
  }
  return ece;
}

export interface Calibration {
  /** null: the raw probabilities are used (calibration did not lower the error). */
  isotonic: IsotonicModel | null;
  /** Mean held-out ECE of the raw and of the calibrated probabilities. */
  ece_raw: number;
  ece_calibrated: number;
}

/**
 * Decide on and fit the calibration on reference data: isotonic regression if it lowers the
 * held-out ECE over `splits` shuffled splits (test share `test_share`), fitted then on all of it.
 */
export function fitCalibration(proba: ArrayLike<number>, labels: ArrayLike<number>, o: { splits?: number; test_share?: number; seed?: number } = {}): Calibration {
  const n = proba.length;
  const splits = o.splits ?? 10;
  const testN = Math.max(1, Math.round(n * (o.test_share ?? 0.1)));
  const rand = rng(o.seed ?? 42);
  let raw = 0;
  let cal = 0;
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let s = 0; s < splits; s++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    const test = idx.slice(0, testN);
    const train = idx.slice(testN);
    const m = isotonicFit(train.map((i) => proba[i]!), train.map((i) => labels[i]!));
    const yt = test.map((i) => labels[i]!);
    raw += expectedCalibrationError(test.map((i) => proba[i]!), yt);
    cal += expectedCalibrationError(test.map((i) => isotonicPredict(m, proba[i]!)), yt);
  }
  const use = cal < raw;
  return { isotonic: use ? isotonicFit(proba, labels) : null, ece_raw: raw / splits, ece_calibrated: cal / splits };
}

export const calibrated = (c: Calibration, p: number): number => (c.isotonic ? isotonicPredict(c.isotonic, p) : p);

export const CBPE_METRICS = ['f1', 'precision', 'recall', 'accuracy', 'roc_auc'] as const;
export type CbpeMetric = (typeof CBPE_METRICS)[number];
export type MetricValues = Record<CbpeMetric, number | null>;

const fromConfusion = (c: Confusion, auc: number | null): MetricValues => ({
  f1: f1Score(c),
  precision: precisionScore(c),
  recall: recallScore(c),
  accuracy: accuracyScore(c),
  roc_auc: auc,
});

/**
 * Estimated metrics of one chunk from the raw probabilities: the expected confusion matrix of
 * the calibrated ones, and the expected ROC curve along the raw ranking (ties as one step).
 */
export function estimateChunk(c: Calibration, proba: ArrayLike<number>, threshold: number): { metrics: MetricValues; confusion: Confusion } {
  const n = proba.length;
  const cm = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = (q[i] = calibrated(c, proba[i]!));
    if (proba[i]! > threshold) {
      cm.tp += p;
      cm.fp += 1 - p;
    } else {
      cm.fn += p;
      cm.tn += 1 - p;
    }
  }
  const pos = cm.tp + cm.fn;
  const neg = cm.fp + cm.tn;
  let auc: number | null = null;
  if (pos > 0 && neg > 0) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => proba[b]! - proba[a]!);
    let tpr = 0;
    let fpr = 0;
    let area = 0;
    for (let k = 0; k < n; ) {
      let dp = 0;
      let dn = 0;
      const s = proba[order[k]!]!;
      while (k < n && proba[order[k]!] === s) {
        dp += q[order[k]!]!;
        dn += 1 - q[order[k]!]!;
        k++;
      }
      const t2 = tpr + dp / pos;
      const f2 = fpr + dn / neg;
      area += ((f2 - fpr) * (t2 + tpr)) / 2;
      tpr = t2;
      fpr = f2;
    }
    auc = area;
  }
  return { metrics: fromConfusion(cm, auc), confusion: cm };
}

/** Realized metrics of a labelled chunk (the model's own predicted class, raw probabilities for AUC). */
export function realizedChunk(proba: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): MetricValues {
  const pred = Array.from(proba, (p) => (p > threshold ? 1 : 0));
  return fromConfusion(confusion(labels, pred), rocAucScore(labels, proba));
}

export interface Band {
  mean: number;
  std: number;
  lower: number;
  upper: number;
}

/** What CBPE learns from the reference data. */
export interface CbpeModel {
  threshold: number;
  calibration: Calibration;
  chunk_size: number;
  reference_rows: number;
  reference_chunks: number;
  sigmas: number;
  /** Per metric: realized on the reference chunks, mean +- sigmas std (for chunks of chunk_size rows). */
  bands: Record<CbpeMetric, Band | null>;
}

const chunksOf = (n: number, size: number) => Array.from({ length: Math.ceil(n / size) }, (_, k) => [k * size, Math.min(n, (k + 1) * size)] as const);

/**
 * Fit CBPE on labelled reference data: the calibration, and the alert bands from reference
 * chunks of `chunk_size` rows (NannyML warns below 6 chunks; so does this, by throwing).
 */
export function fitCbpe(proba: ArrayLike<number>, labels: ArrayLike<number>, o: { threshold: number; chunk_size: number; sigmas?: number; seed?: number }): CbpeModel {
  const n = proba.length;
  const chunks = chunksOf(n, o.chunk_size).filter(([a, b]) => b - a === o.chunk_size);
  if (chunks.length < 6) {
    throw new DataError(`CBPE needs at least 6 reference chunks of ${o.chunk_size} rows, the reference data has ${n} rows`, 'use a smaller chunk size or more reference data');
  }
  const sigmas = o.sigmas ?? 3;
  const realized = chunks.map(([a, b]) => realizedChunk(Array.prototype.slice.call(proba, a, b) as number[], Array.prototype.slice.call(labels, a, b) as number[], o.threshold));
  const bands = {} as Record<CbpeMetric, Band | null>;
  for (const m of CBPE_METRICS) {
    const v = realized.map((r) => r[m]).filter((x): x is number => x !== null);
    if (v.length < 2) {
      bands[m] = null;
      continue;
    }
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
    bands[m] = { mean, std, lower: mean - sigmas * std, upper: mean + sigmas * std };
  }
  return { threshold: o.threshold, calibration: fitCalibration(proba, labels, { seed: o.seed }), chunk_size: o.chunk_size, reference_rows: n, reference_chunks: chunks.length, sigmas, bands };
}

export interface ChunkResult {
  /** Rows [start, end) of the analysed data. */
  start: number;
  end: number;
  estimated: MetricValues;
  /** When labels were given for the whole chunk. */
  realized: MetricValues | null;
  /** Estimated metrics outside their band. */
  alerts: CbpeMetric[];
}

/**
 * Estimate each chunk of `chunk_size` rows (the last may be smaller) of unlabelled data; with
 * `labels` (null where unknown), also the realized values of fully labelled chunks.
 */
export function estimateChunks(m: CbpeModel, proba: ArrayLike<number>, labels?: ArrayLike<number | null> | null, chunkSize = m.chunk_size): ChunkResult[] {
  return chunksOf(proba.length, chunkSize).map(([a, b]) => {
    const p = Array.prototype.slice.call(proba, a, b) as number[];
    const { metrics } = estimateChunk(m.calibration, p, m.threshold);
    const y = labels ? (Array.prototype.slice.call(labels, a, b) as (number | null)[]) : null;
    const realized = y && y.every((v) => v !== null) ? realizedChunk(p, y as number[], m.threshold) : null;
    // a chunk of another size: the band's width scales with the standard error, 1 / sqrt(rows)
    const scale = Math.sqrt(m.chunk_size / (b - a));
    const alerts = CBPE_METRICS.filter((k) => {
      const band = m.bands[k];
      const v = metrics[k];
      return band !== null && v !== null && Math.abs(v - band.mean) > m.sigmas * band.std * scale;
    });
    return { start: a, end: b, estimated: metrics, realized, alerts };
  });
}
