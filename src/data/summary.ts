/** Per-column summaries computed by DuckDB in one pass. */
import type { Db } from './duck.js';
import { sqlIdent } from './duck.js';
import type { ColumnInfo } from './table.js';
import type { ColumnSummary } from '../store/records.js';

/** Missing count for every column; mean, sample std (n-1), min and max for numeric ones. */
export async function summariseColumns(db: Db, from: string, columns: readonly ColumnInfo[]): Promise<ColumnSummary[]> {
  const aggs = columns.flatMap((c, i) => {
    const id = sqlIdent(c.name);
    const base = [`count(*) - count(${id}) AS m${i}`];
    if (c.kind === 'string') return base;
    return [...base, `avg(${id}) AS a${i}`, `stddev_samp(${id}) AS s${i}`, `min(${id})::DOUBLE AS lo${i}`, `max(${id})::DOUBLE AS hi${i}`];
  });
  const [row] = (await db.rows<Record<string, number | bigint | null>>(`SELECT ${aggs.join(', ')} FROM ${from}`)) as [
    Record<string, number | bigint | null>,
  ];
  const num = (v: number | bigint | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return columns.map((c, i) => {
    const s: ColumnSummary = { name: c.name, kind: c.kind, missing: Number(row[`m${i}`]) };
    if (c.kind !== 'string') {
      s.mean = num(row[`a${i}`]);
      s.std = num(row[`s${i}`]);
      s.min = num(row[`lo${i}`]);
      s.max = num(row[`hi${i}`]);
    }
    return s;
  });
}
