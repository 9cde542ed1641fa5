/** ROC, PR and calibration against scikit-learn's values for the same inputs. */
import { describe, expect, it } from 'vitest';
import { calibrationBins, prCurve, rocCurve } from '../../../src/stats/curves.js';

const y = Float64Array.of(0, 0, 1, 1);
const p = Float64Array.of(0.1, 0.4, 0.35, 0.8);

describe('curves', () => {
  it('rocCurve: sklearn.metrics.roc_curve / roc_auc_score', () => {
    // roc_curve: fpr [0, 0, .5, .5, 1], tpr [0, .5, .5, 1, 1]; roc_auc_score 0.75
    const r = rocCurve(y, p);
    expect(r.auc).toBeCloseTo(0.75, 12);
    expect(r.points.map((q) => q.fpr)).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(r.points.map((q) => q.tpr)).toEqual([0, 0.5, 0.5, 1, 1]);
  });

  it('rocCurve keeps at most maxPoints points and the exact area', () => {
    const n = 100_000;
    const yy = Float64Array.from({ length: n }, (_, i) => i % 2);
    const pp = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n);
    const r = rocCurve(yy, pp, 200);
    expect(r.points.length).toBeLessThanOrEqual(200);
    expect(r.points[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(r.points.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
  });

  it('prCurve: sklearn.metrics.precision_recall_curve', () => {
    // thresholds .8, .4, .35, .1: precision 1, .5, .6667, .5; recall .5, .5, 1, 1
    const r = prCurve(y, p);
    expect(r.points.map((q) => q.precision)).toEqual([1, 0.5, 2 / 3, 0.5]);
    expect(r.points.map((q) => q.recall)).toEqual([0.5, 0.5, 1, 1]);
    expect(r.base_rate).toBe(0.5);
  });

  it('calibrationBins: sklearn.calibration.calibration_curve(n_bins=2)', () => {
    // prob_true [0.3333, 1], prob_pred [0.2833, 0.8]
    const b = calibrationBins(y, p, 2);
    expect(b.map((x) => x.observed)).toEqual([1 / 3, 1]);
    expect(b[0]!.predicted).toBeCloseTo((0.1 + 0.4 + 0.35) / 3, 12);
    expect(b.map((x) => x.rows)).toEqual([3, 1]);
  });
});
