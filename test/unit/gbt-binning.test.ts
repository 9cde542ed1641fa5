import { describe, expect, it } from 'vitest';
import { binNumeric, binThresholds } from '../../src/model/gbt/binning.js';
import { rng } from '../../src/tools/gendata.js';

/** The definition: the number of thresholds strictly below v (missing values to missingBin). */
function naive(x: Float64Array, t: Float64Array, missingBin: number): Uint8Array {
  return Uint8Array.from(x, (v) => (Number.isNaN(v) ? missingBin : t.filter((th) => th < v).length));
}

describe('binNumeric', () => {
  it('gives every value the count of thresholds below it, at every threshold count, ties and infinities included', () => {
    const random = rng(11);
    for (const nt of [0, 1, 2, 3, 7, 64, 127, 128, 200, 253, 254, 255]) {
      // Thresholds with repeats (as percentiles of tied data give), values on and around them.
      const t = Float64Array.from({ length: nt }, () => Math.round(random() * 40) / 4).sort();
      const x = new Float64Array(4000);
      for (let i = 0; i < x.length; i++) {
        const r = random();
        x[i] = r < 0.3 && nt > 0 ? t[Math.floor(random() * nt)]! : r < 0.35 ? NaN : r < 0.37 ? Infinity : r < 0.39 ? -Infinity : r < 0.4 ? -0 : random() * 12 - 1;
      }
      expect(Array.from(binNumeric(x, null, t, 255)), `${nt} thresholds`).toEqual(Array.from(naive(x, t, 255)));
      const rows = Uint32Array.from({ length: 500 }, () => Math.floor(random() * x.length));
      expect(Array.from(binNumeric(x, rows, t, 255))).toEqual(Array.from(naive(Float64Array.from(rows, (i) => x[i]!), t, 255)));
    }
  });

  it('refuses more thresholds than codes', () => {
    expect(() => binNumeric(new Float64Array(1), null, new Float64Array(256), 255)).toThrow(/256 thresholds/);
  });
});

describe('binThresholds', () => {
  it('takes midpoints of the distinct values when they fit in the bins, -0 and 0 as one', () => {
    expect(Array.from(binThresholds(Float64Array.of(3, 1, NaN, 2, 1, -0, 0, 3), 255))).toEqual([0.5, 1.5, 2.5]);
    expect(Array.from(binThresholds(Float64Array.of(5, 5, NaN), 255))).toEqual([]);
  });

  it("takes numpy's midpoint percentiles when there are more distinct values than bins", () => {
    // 0..9 into 4 bins: the 25th, 50th, 75th percentiles of 0..9 with numpy's "midpoint" method.
    const t = binThresholds(Float64Array.from({ length: 10 }, (_, i) => 9 - i), 4);
    expect(Array.from(t)).toEqual([2.5, 4.5, 6.5]);
  });
});
