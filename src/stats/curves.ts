/**
 * Curves of a binary classifier's probabilities, aggregated for charts: at most `maxPoints`
 * points whatever the number of rows (a 1M-row test set still gives a small chart).
 * O(n log n) for the sort.
 *
 *   rocCurve(Float64Array.of(0, 1), Float64Array.of(0.2, 0.9)).auc === 1
 */

export interface RocPoint { fpr: number; tpr: number; threshold: number }
export interface PrPoint { recall: number; precision: number; threshold: number }
export interface CalibrationBin { bin: number; predicted: number; observed: number; rows: number }

/** Cumulative true/false positives at each distinct threshold, highest threshold first. */
function sweep(y: Float64Array, p: Float64Array): { tp: number[]; fp: number[]; t: number[]; pos: number; neg: number } {
  const order = Array.from(p, (_, i) => i).sort((a, b) => p[b]! - p[a]!);
  const tp: number[] = [0];
  const fp: number[] = [0];
  const t: number[] = [Infinity];
  let a = 0;
  let b = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (y[i] === 1) a++;
    else b++;
    const next = order[k + 1];
    if (next === undefined || p[next] !== p[i]) {
      tp.push(a);
      fp.push(b);
      t.push(p[i]!);
    }
  }
  return { tp, fp, t, pos: a, neg: b };
}

/** Keep about `max` of n indices, evenly spaced, always the first and the last. */
function thin(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)));
  return [...new Set(out)];
}

/** The ROC curve and its area (trapezoids over every threshold, not only the points kept). */
export function rocCurve(y: Float64Array, p: Float64Array, maxPoints = 200): { points: RocPoint[]; auc: number } {
  const s = sweep(y, p);
  const fpr = s.fp.map((v) => (s.neg ? v / s.neg : 0));
  const tpr = s.tp.map((v) => (s.pos ? v / s.pos : 0));
  let auc = 0;
  for (let k = 1; k < fpr.length; k++) auc += ((fpr[k]! - fpr[k - 1]!) * (tpr[k]! + tpr[k - 1]!)) / 2;
  const points = thin(fpr.length, maxPoints).map((k) => ({ fpr: fpr[k]!, tpr: tpr[k]!, threshold: Number.isFinite(s.t[k]!) ? s.t[k]! : 1 }));
  return { points, auc };
}

/** Precision against recall at each threshold (the highest-threshold point, recall 0, left out). */
export function prCurve(y: Float64Array, p: Float64Array, maxPoints = 200): { points: PrPoint[]; base_rate: number } {
  const s = sweep(y, p);
  const pts: PrPoint[] = [];
  for (let k = 1; k < s.tp.length; k++) {
    pts.push({ recall: s.pos ? s.tp[k]! / s.pos : 0, precision: s.tp[k]! / (s.tp[k]! + s.fp[k]!), threshold: s.t[k]! });
  }
  return { points: thin(pts.length, maxPoints).map((k) => pts[k]!), base_rate: y.length ? s.pos / y.length : 0 };
}

/** Reliability diagram: `bins` equal-width probability bins, mean predicted vs observed rate. */
export function calibrationBins(y: Float64Array, p: Float64Array, bins = 10): CalibrationBin[] {
  const n = new Array<number>(bins).fill(0);
  const sp = new Array<number>(bins).fill(0);
  const sy = new Array<number>(bins).fill(0);
  for (let i = 0; i < p.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p[i]! * bins)));
    n[b]!++;
    sp[b]! += p[i]!;
    sy[b]! += y[i]!;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) if (n[b]) out.push({ bin: b, predicted: sp[b]! / n[b]!, observed: sy[b]! / n[b]!, rows: n[b]! });
  return out;
}
