import { describe, expect, it } from 'vitest';
import { classificationMetrics, confusion, f1Score, higherIsBetter, logLoss, rocAucScore } from '../../src/model/metrics.js';

// Reference values: numpy 2.4.6 and scipy 1.17.1 (scipy.stats.mannwhitneyu(...).statistic /
// (n1*n0) for the AUC; -mean(y log p + (1-y) log(1-p)) with p clipped to machine epsilon).
const y = [0, 0, 1, 1, 1, 0, 1, 0, 1, 1];
const p = [0.1, 0.4, 0.35, 0.8, 0.8, 0.8, 0.6, 0.2, 0.5, 0.9];

describe('classification metrics', () => {
  it('agree with independent reference values', () => {
    const m = classificationMetrics(y, p, 0.5);
    expect(m.confusion).toEqual({ tp: 4, fp: 1, fn: 2, tn: 3 });
    expect(m.precision).toBeCloseTo(4 / 5, 15);
    expect(m.recall).toBeCloseTo(4 / 6, 15);
    expect(m.f1).toBeCloseTo(8 / 11, 15);
    expect(m.accuracy).toBeCloseTo(0.7, 15);
    expect(m.roc_auc).toBeCloseTo(0.7916666666666666, 15);
    expect(m.log_loss).toBeCloseTo(0.5254210150282986, 14);
  });

  it('label a row positive when its probability is above the given threshold', () => {
    // p > 0.3: rows 1..9 except 0.1 and 0.2 -> tp 6, fp 2, fn 0, tn 2
    const m = classificationMetrics(y, p, 0.3);
    expect(m.confusion).toEqual({ tp: 6, fp: 2, fn: 0, tn: 2 });
    expect(m.f1).toBeCloseTo(12 / 14, 15);
    // a probability equal to the threshold is negative (as predict: p > threshold)
    expect(classificationMetrics([1], [0.5], 0.5).confusion).toEqual({ tp: 0, fp: 0, fn: 1, tn: 0 });
    // ROC AUC and log loss do not depend on the threshold
    expect(m.roc_auc).toBe(classificationMetrics(y, p, 0.5).roc_auc);
  });

  it('follow the zero-division conventions', () => {
    const c = confusion([0, 0], [0, 0]);
    expect(f1Score(c)).toBe(0);
    expect(rocAucScore([1, 1, 1], [0.2, 0.5, 0.9])).toBeNull();
    expect(logLoss([1, 0], [1, 0])).toBeLessThan(1e-14);
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(Number.EPSILON), 10);
  });

  it('AUC gives ties half credit', () => {
    expect(rocAucScore([0, 1], [0.5, 0.5])).toBe(0.5);
  });

  it('AUC by the radix sort equals the comparison sort exactly, ties, signs and infinities included', () => {
    // the comparison-sort AUC the linear one replaced, as the reference
    const bySort = (yt: ArrayLike<number>, sc: ArrayLike<number>) => {
      const n = yt.length;
      const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => sc[a]! - sc[b]!);
      let pos = 0;
      let rankSumPos = 0;
      for (let i = 0; i < n; ) {
        let j = i;
        while (j + 1 < n && sc[idx[j + 1]!] === sc[idx[i]!]) j++;
        for (let k = i; k <= j; k++) {
          if (yt[idx[k]!] !== 1) continue;
          pos++;
          rankSumPos += (i + j) / 2 + 1;
        }
        i = j + 1;
      }
      return pos === 0 || pos === n ? null : (rankSumPos - (pos * (pos + 1)) / 2) / (pos * (n - pos));
    };
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const n of [5000, 2 ** 18 - 1, 2 ** 18]) {
      const yt = Float64Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
      // probabilities with many ties (rounded), and scores of both signs with -0, 0 and infinities
      const probs = Float64Array.from(yt, (v) => Math.round((1 / (1 + Math.exp(-(v * 2 - 1 + rand() * 3 - 1.5)))) * 500) / 500);
      const mixed = Float64Array.from(yt, (v, i) => (i % 97 === 0 ? -0 : i % 89 === 0 ? 0 : i % 101 === 0 ? Infinity : i % 103 === 0 ? -Infinity : (rand() - 0.5 + v * 0.3) * 1e6 * (i % 2 ? 1e-300 : 1)));
      const distinct = Float64Array.from(yt, (v) => v * 0.1 + rand());
      for (const sc of [probs, mixed, distinct]) expect(rocAucScore(yt, sc)).toBe(bySort(yt, sc));
    }
    // every score equal: one group, AUC 0.5
    expect(rocAucScore(Float64Array.from({ length: 2 ** 18 }, (_, i) => i % 2), new Float64Array(2 ** 18).fill(0.25))).toBe(0.5);
  });

  it('AUC is null (undefined) when a score is NaN, whatever the rows\' order, on both sorts', () => {
    // before: [0.9, NaN, 0.1, 0.2] gave 0.25 and the same rows reordered 0.75; two NaNs gave 0
    expect(rocAucScore([1, 0, 1, 0], [0.9, NaN, 0.1, 0.2])).toBeNull();
    expect(rocAucScore([0, 1, 1, 0], [NaN, 0.9, 0.1, 0.2])).toBeNull();
    expect(rocAucScore([1, 0], [NaN, NaN])).toBeNull();
    const n = 2 ** 18;
    const sc = Float64Array.from({ length: n }, (_, i) => (i === n - 1 ? NaN : i / n));
    expect(rocAucScore(Float64Array.from({ length: n }, (_, i) => i % 2), sc)).toBeNull();
  });

  it('know which direction is better', () => {
    expect(higherIsBetter('f1')).toBe(true);
    expect(higherIsBetter('roc_auc')).toBe(true);
    expect(higherIsBetter('log_loss')).toBe(false);
    expect(higherIsBetter('mse')).toBe(false);
  });
});
