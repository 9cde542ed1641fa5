import { describe, expect, it } from 'vitest';
import { withDb } from '../../src/data/duck.js';
import { checkColumns } from '../../src/data/table.js';

describe('column summaries', () => {
  it('are the same doubles at every run on a table of several row groups', async () => {
    await withDb(async (db) => {
      // 600,000 rows (five row groups, read by both threads), values whose sums round
      await db.exec('CREATE TEMP TABLE t AS SELECT (i * 7919 % 1000003) / 7.0 + 1e6 AS x, (i % 977) * 0.001 AS y FROM range(600000) r(i)');
      const threads = async () => Number((await db.rows<{ t: bigint }>("SELECT current_setting('threads') AS t"))[0]!.t);
      const before = await threads();
      const runs = new Set<string>();
      for (let k = 0; k < 6; k++) runs.add(JSON.stringify(await checkColumns(db, 't', ['x', 'y'], new Set(['x', 'y']), [])));
      expect(runs.size).toBe(1);
      // (on one thread while summarising, then back to the database's default)
      expect(await threads()).toBe(before);
    });
  });
});
