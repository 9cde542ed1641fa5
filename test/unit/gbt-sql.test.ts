import { describe, expect, it } from 'vitest';
import { withDb } from '../../src/data/duck.js';
import { fitGbt, gbtToSqlCase, predictGbt } from '../../src/model/gbt/index.js';
import { makeDataset } from './gbt-data.js';

describe('gbtToSqlCase', () => {
  it('gives the raw scores of predictGbt in DuckDB, NULLs and unseen codes included', async () => {
    for (const name of ['clf-cat', 'reg-interact'] as const) {
      const d = makeDataset(name, 5, 3000);
      const m = fitGbt(d.X, d.y, { task: d.task, categorical: d.categorical, max_iter: 30, seed: 1 });
      // 300 rows: every 7th value of each column NULL, and in categorical columns every 11th
      // code one the model never saw.
      const n = 300;
      const X = d.X.map((x, f) =>
        Float64Array.from({ length: n }, (_, i) => (i % 7 === f ? NaN : d.categorical[f] && i % 11 === 0 ? 40 + f : x[i]!)),
      );
      const cols = X.map((_, f) => `x${f}`);
      const values = Array.from({ length: n }, (_, i) => `(${i}, ${X.map((x) => (Number.isNaN(x[i]!) ? 'NULL' : x[i]!.toExponential())).join(', ')})`);
      const sql = gbtToSqlCase(m, cols);
      const got = await withDb(async (db) => {
        await db.exec(`CREATE TABLE t (i INTEGER, ${cols.map((c) => `${c} DOUBLE`).join(', ')})`);
        await db.exec(`INSERT INTO t VALUES ${values.join(', ')}`);
        return db.rows<{ s: number }>(`SELECT ${sql} AS s FROM t ORDER BY i`);
      });
      const want = predictGbt(m, X);
      expect(got).toHaveLength(n);
      got.forEach((r, i) => expect(Math.abs(r.s - want[i]!)).toBeLessThanOrEqual(1e-12));
    }
  });
});
