import { describe, expect, it } from 'vitest';
import { mean, std, variance } from '../../../src/stats/describe.js';
import { powerOfTwoAtLeast } from '../../../src/stats/moments.js';

// References: the doubles nearest the exact values (Python's fractions). k = ((37 i) mod 101 - 50) / 8 for i < 1000: every
// offset + k is exact in binary; the k have mean 1/800, sample variance 13.3171593468468468468...
// and population variance 13.3038421875 exactly. simple-statistics' two-pass variance was off by
// 1.8e-14, 2.0e-14 and 6.5e-11 (relative) at offsets 1e6, 1e9 and 1e12, and Infinity at 1e155.
const ks = Array.from({ length: 1000 }, (_, i) => (((37 * i) % 101) - 50) / 8);
const relErr = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

describe('mean, variance, std', () => {
  it('keep their digits far from zero', () => {
    for (const offset of [0, 1e6, 1e9, 1e12]) {
      const x = ks.map((k) => offset + k);
      expect(relErr(variance(x, 1), 13.317159346846847), `offset ${offset}`).toBeLessThanOrEqual(2.3e-16);
      expect(relErr(variance(x, 0), 13.3038421875), `offset ${offset}`).toBeLessThanOrEqual(2.3e-16);
      // within half an ulp of the largest value (the mean of the k alone is 1/800 of their spread)
      expect(Math.abs(mean(x) - (offset + 0.00125)), `offset ${offset}`).toBeLessThanOrEqual(1.2e-16 * Math.max(offset, 6.25));
    }
  });

  it('do not overflow near the largest doubles', () => {
    expect(relErr(std([1e155, 1], 1), 7.071067811865475e154)).toBeLessThanOrEqual(2.3e-16);
    // the sum of the values overflows
    expect(relErr(mean([1.7e308, 1.7e308, 1.6e308]), 1.6666666666666666e308)).toBeLessThanOrEqual(2.3e-16);
    expect(relErr(std([1.7e308, 1.7e308, 1.6e308], 1), 5.773502691896255e306)).toBeLessThanOrEqual(2.3e-16);
    expect(std([1.7e308, -1.7e308], 0)).toBe(1.7e308);
    // sqrt(2) 1.7e308 is beyond the doubles
    expect(std([1.7e308, -1.7e308], 1)).toBe(Infinity);
  });

  it('edge cases: empty, one value, equal values, non-finite values', () => {
    expect(mean([])).toBeNaN();
    expect(variance([3], 1)).toBeNaN();
    expect(variance([3], 0)).toBe(0);
    expect([mean([1e300, 1e300, 1e300]), std([1e300, 1e300, 1e300], 1)]).toEqual([1e300, 0]);
    expect(mean([1, Number.NaN])).toBeNaN();
    expect(variance([1, Infinity], 1)).toBeNaN();
  });

  it('scale by exact powers of two', () => {
    expect([powerOfTwoAtLeast(1), powerOfTwoAtLeast(1.5), powerOfTwoAtLeast(0.25), powerOfTwoAtLeast(3e-320)]).toEqual([1, 2, 0.25, 2 ** -1022]);
    expect([powerOfTwoAtLeast(1.7e308), powerOfTwoAtLeast(Infinity)]).toEqual([2 ** 1023, 2 ** 1023]);
  });
});
