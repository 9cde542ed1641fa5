import { describe, expect, it } from 'vitest';
import { IntegerDistinct } from '../../src/data/frame.js';

describe('IntegerDistinct', () => {
  it('counts the distinct values of integer batches as a set does, missing values (NaN) left out and -0 as 0', () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const values = Float64Array.from({ length: 50_000 }, (_, i) => (i % 17 === 0 ? Number.NaN : i % 19 === 0 ? -0 : Math.floor(rand() * 3000) - 1000));
    const present = [...values].filter((v) => v === v);
    const d = new IntegerDistinct(Math.min(...present), Math.max(...present));
    for (let at = 0; at < values.length; at += 2048) {
      const batch = values.slice(at, at + 2048);
      d.add(batch, batch.length);
    }
    expect(d.count).toBe(new Set(present.map((v) => v + 0)).size);
    expect(IntegerDistinct.fits(0, 2 ** 26 - 1)).toBe(true);
    expect(IntegerDistinct.fits(-1, 2 ** 26)).toBe(false);
    expect(IntegerDistinct.fits(null, 5)).toBe(false);
  });
});
