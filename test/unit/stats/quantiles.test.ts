import { describe, expect, it } from 'vitest';
import { withDb } from '../../../src/data/duck.js';
import { quantilesOf } from '../../../src/stats/describe.js';

let s = 12345;
const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const gens: [string, () => number][] = [
  ['floats of every scale', () => (rnd() - 0.3) * 10 ** Math.floor(rnd() * 12 - 6)],
  ['narrow integers (counting)', () => Math.floor(rnd() * 50) - 20],
  ['wide integers (selection)', () => Math.floor(rnd() * 1e12)],
  ['labels', () => (rnd() < 0.3 ? 1 : 0)],
  ['many ties', () => Math.floor(rnd() * 3) / 2],
  ['tiny', () => rnd() * 1e-300],
];
const QS = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1];

/** quantilesOf (selection, or counting for narrow whole numbers) against a sort and DuckDB's formula. */
describe('quantilesOf', () => {
  for (const [name, gen] of gens) {
    it(name, () => {
      for (const n of [1, 2, 3, 10, 101, 5000]) {
        const col = Float64Array.from({ length: n }, () => (rnd() < 0.1 ? Number.NaN : gen()));
        const sorted = [...col].filter((v) => v === v).sort((a, b) => a - b);
        const want = QS.map((q) => {
          if (!sorted.length) return null;
          const h = (sorted.length - 1) * q;
          const lo = Math.floor(h);
          return lo === Math.ceil(h) ? sorted[lo]! : sorted[lo]! * (1 - (h - lo)) + sorted[lo + 1]! * (h - lo);
        });
        expect(quantilesOf(col, QS)).toEqual(want);
        // with the count, min, max and wholeness given (a table's summaries): the same
        if (sorted.length) {
          const known = { count: sorted.length, min: sorted[0]!, max: sorted.at(-1)!, integral: sorted.every((v) => Number.isInteger(v)) };
          expect(quantilesOf(col, QS, known)).toEqual(want);
        }
      }
    });
  }
  it('all missing: null', () => expect(quantilesOf(Float64Array.from([Number.NaN, Number.NaN]), [0.5])).toEqual([null]));
});

/** diagnose's quartiles came from DuckDB's quantile_cont before the columnar copy: the same doubles. */
describe('quantilesOf against DuckDB quantile_cont', () => {
  it('gives the same bits on floats, wide and narrow integers, with missing values', async () => {
    await withDb(async (db) => {
      for (const [, gen] of gens) {
        for (const n of [1, 2, 7, 1000, 4099]) {
          const col = Float64Array.from({ length: n }, () => (rnd() < 0.05 ? Number.NaN : gen()));
          const list = [...col].map((v) => (v === v ? `'${v}'::DOUBLE` : 'NULL')).join(', ');
          const [row] = (await db.rows<{ q: (number | null)[] | null }>(
            `SELECT quantile_cont(x, [${QS.join(', ')}]) AS q FROM (SELECT unnest([${list}]) AS x)`,
          )) as [{ q: (number | null)[] | null }];
          const want = row.q ? row.q.map((v) => (v === null ? null : Number(v))) : QS.map(() => null);
          expect(quantilesOf(col, QS)).toEqual(want);
        }
      }
    });
  });
});
