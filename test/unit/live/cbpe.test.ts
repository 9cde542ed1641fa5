import { describe, expect, it } from 'vitest';
import {
  estimateChunk, estimateChunks, expectedCalibrationError, fitCalibration, fitCbpe, isotonicFit, isotonicPredict, realizedChunk,
} from '../../../src/live/cbpe.js';
import { rng } from '../../../src/tools/gendata.js';
import { normal, sigmoid } from '../simulation.js';


/**
 * Rows x ~ N(mu, I) in 2-D, labels from a fixed rule P(y=1 | x) = sigmoid(1.5 x1 - x2 - 0.5)
 * (so a shift of mu is pure covariate shift), and a model that ranks right but is
 * miscalibrated: proba = sigmoid(0.6 z + 0.4).
 */
function simulate(seed: number, n: number, mu: [number, number]) {
  const rand = rng(seed);
  const gauss = normal(rand);
  const proba = new Float64Array(n);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = 1.5 * (mu[0] + gauss()) - (mu[1] + gauss()) - 0.5;
    labels[i] = rand() < sigmoid(z) ? 1 : 0;
    proba[i] = sigmoid(0.6 * z + 0.4);
  }
  return { proba, labels };
}

describe('isotonic regression (pool adjacent violators)', () => {
  it('pools violators, averages ties, interpolates between blocks and clips outside', () => {
    // hand-computed: 1, (3, 2) -> 2.5, (4, 3) -> 3.5, 5
    const m = isotonicFit([1, 2, 3, 4, 5, 6], [1, 3, 2, 4, 3, 5]);
    expect(m).toEqual({ x: [1, 2, 3, 4, 5, 6], y: [1, 2.5, 2.5, 3.5, 3.5, 5] });
    expect(isotonicPredict(m, 2.5)).toBe(2.5);
    expect(isotonicPredict(m, 3.5)).toBe(3);
    expect(isotonicPredict(m, 0)).toBe(1);
    expect(isotonicPredict(m, 9)).toBe(5);
    // ties in x are averaged before pooling: (0, 1) at x=1 -> 0.5
    expect(isotonicFit([1, 1, 2], [0, 1, 1])).toEqual({ x: [1, 2], y: [0.5, 1] });
    // a decreasing sequence pools to its mean
    expect(isotonicFit([1, 2, 3], [3, 2, 1])).toEqual({ x: [1, 3], y: [2, 2] });
  });

  it('ECE on equal-count bins', () => {
    expect(expectedCalibrationError([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], 2)).toBeCloseTo((0.5 * 0.15) + (0.5 * 0.15), 12);
  });
});

describe('CBPE', () => {
  const ref = simulate(1, 20_000, [0, 0]);

  it('calibrates a miscalibrated model on the reference data, only where that lowers the held-out calibration error', () => {
    const c = fitCalibration(ref.proba, ref.labels);
    expect(c.isotonic).not.toBeNull();
    expect(c.ece_calibrated).toBeLessThan(c.ece_raw / 3);
    // the rule, on calibrated probabilities too: kept exactly when the held-out error is lower
    const rand = rng(9);
    const p = Float64Array.from({ length: 5000 }, () => rand());
    const y = Float64Array.from(p, (q) => (rand() < q ? 1 : 0));
    for (const k of [c, fitCalibration(p, y)]) expect(k.isotonic !== null).toBe(k.ece_calibrated < k.ece_raw);
  });

  it('estimates F1 within 0.02 of the realized F1 under covariate shift, averaged over chunks', () => {
    // chunks of 5,000 rows: on 2,000 the realized F1 itself strays from the truth by up to 0.07
    const t0 = performance.now();
    const reference = simulate(2, 50_000, [0, 0]);
    const model = fitCbpe(reference.proba, reference.labels, { threshold: 0.5, chunk_size: 5000 });
    const errs: Record<string, number[]> = { f1: [], precision: [], recall: [], accuracy: [], roc_auc: [] };
    const raw: number[] = [];
    const est: number[] = [];
    const real: number[] = [];
    const truth: number[] = [];
    for (let k = 0; k < 10; k++) {
      const mu: [number, number] = [-0.15 * k, 0.1 * k];
      const shift = simulate(100 + k, 5000, mu);
      const [r] = estimateChunks(model, shift.proba, shift.labels);
      for (const m of Object.keys(errs)) errs[m]!.push(Math.abs(r!.estimated[m as 'f1']! - r!.realized![m as 'f1']!));
      est.push(r!.estimated.f1!);
      real.push(r!.realized!.f1!);
      // the chunk's expected F1: realized on 50,000 rows of the same distribution
      const big = simulate(1000 + k, 50_000, mu);
      truth.push(realizedChunk(big.proba, big.labels, 0.5).f1!);
      // without calibration the estimate is far off: the comparison shows what calibration buys
      const uncal = estimateChunk({ isotonic: null, ece_raw: 0, ece_calibrated: 0 }, shift.proba, 0.5);
      raw.push(Math.abs(uncal.metrics.f1! - r!.realized!.f1!));
    }
    const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
    const vsTruth = mean(est.map((e, i) => Math.abs(e - truth[i]!)));
    console.log(`CBPE under covariate shift (realized F1 ${Math.min(...real).toFixed(3)}-${Math.max(...real).toFixed(3)}): mean |estimated - realized| ` +
      Object.entries(errs).map(([m, e]) => `${m} ${mean(e).toFixed(4)}`).join(', ') +
      `; mean estimated F1 ${mean(est).toFixed(4)} vs realized ${mean(real).toFixed(4)}; |estimated - expected F1| ${vsTruth.toFixed(4)}; uncalibrated F1 ${mean(raw).toFixed(4)}; ${(performance.now() - t0).toFixed(0)} ms`);
    expect(Math.max(...real) - Math.min(...real)).toBeGreaterThan(0.1); // the shift does move F1
    expect(Math.abs(mean(est) - mean(real))).toBeLessThan(0.02);
    expect(mean(errs.f1!)).toBeLessThan(0.02);
    expect(mean(errs.accuracy!)).toBeLessThan(0.02);
    expect(mean(errs.roc_auc!)).toBeLessThan(0.02);
    expect(vsTruth).toBeLessThan(0.01);
    expect(mean(raw)).toBeGreaterThan(0.05);
  });

  it('alerts when the estimate leaves the reference band; the band is +-3 std of reference chunks', () => {
    const model = fitCbpe(ref.proba, ref.labels, { threshold: 0.5, chunk_size: 2000 });
    expect(model.reference_chunks).toBe(10);
    const b = model.bands.f1!;
    expect(b.upper - b.mean).toBeCloseTo(3 * b.std, 12);
    const same = simulate(7, 4000, [0, 0]);
    expect(estimateChunks(model, same.proba).flatMap((r) => r.alerts)).toEqual([]);
    const far = simulate(8, 2000, [-1.5, 1]);
    const [r] = estimateChunks(model, far.proba);
    expect(r!.alerts).toContain('f1');
    expect(r!.realized).toBeNull();
    expect(realizedChunk([0.9, 0.2], [1, 0], 0.5).f1).toBe(1);
    expect(() => fitCbpe(ref.proba.subarray(0, 1000), ref.labels.subarray(0, 1000), { threshold: 0.5, chunk_size: 500 })).toThrow(/at least 6 reference chunks/);
  });
});
