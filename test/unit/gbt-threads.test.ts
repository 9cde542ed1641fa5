import { describe, expect, it } from 'vitest';
import { fitGbt, predictGbt, predictProbaGbt, predictRowGbt } from '../../src/model/gbt/index.js';
import { Team, workerUrl } from '../../src/model/gbt/threads.js';
import { makeDataset } from './gbt-data.js';

describe('fitGbt with worker threads', () => {
  it('finds the built worker (dist/model/gbt/worker.js; run npm run build first)', () => {
    expect(workerUrl()?.pathname).toMatch(/dist\/model\/gbt\/worker\.js$/);
    const team = Team.open(2);
    expect(team?.size).toBe(2);
    team?.close();
    expect(Team.open(1)).toBeNull();
  });

  // 80,000 rows: early stopping holds out 8,000, the root and the first levels are cut into two
  // chunks (8,192 rows and up), the worker takes the second one.
  for (const name of ['clf-cat', 'reg-interact'] as const) {
    it(`${name}: one thread and two give the same model, JSON for JSON`, () => {
      const d = makeDataset(name, 9, 80_000);
      const fit = (threads: number) => JSON.stringify(fitGbt(d.X, d.y, { task: d.task, categorical: d.categorical, max_iter: 12, seed: 4, threads }));
      const one = fit(1);
      expect(fit(2)).toBe(one);
      expect(fit(2)).toBe(one);
    });
  }
});

describe('predictRowGbt', () => {
  it('gives predictGbt raw score for every row, missing values and unseen codes included', () => {
    const d = makeDataset('clf-cat', 2, 3000);
    const m = fitGbt(d.X, d.y, { task: d.task, categorical: d.categorical, max_iter: 25, seed: 1 });
    const X = d.X.map((x, f) => x.map((v, i) => (i % 9 === f ? NaN : d.categorical[f] && i % 13 === 0 ? 200 + f : v)));
    const all = predictGbt(m, X);
    for (let i = 0; i < 3000; i++) {
      const row = X.map((x) => x[i]!);
      expect(predictRowGbt(m, row)).toBe(all[i]);
      expect(predictRowGbt(m, Float64Array.from(row))).toBe(all[i]);
    }
    // The probability is the sigmoid of the raw score, for one row as for many.
    const p = predictProbaGbt(
      m,
      X.map((x) => x.subarray(5, 6)),
    )[0]!;
    expect(p).toBeCloseTo(1 / (1 + Math.exp(-all[5]!)), 15);
    expect(() => predictRowGbt(m, [1, 2])).toThrow(/5 features, the row 2/);
  });
});
