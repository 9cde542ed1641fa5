/**
 * One aggregate query whose sums are compensated (sumKahan) and correct on Distributed tables
 * too. ClickHouse 18.16's server crashes (segmentation fault on the shard) when a sumKahan state
 * is sent from a shard to the initiator, so the query runs with distributed_group_by_no_merge:
 * every shard returns its own final row (a plain table: one row) and Node combines them, sums
 * with a compensated addition, minima and maxima over the shards that had rows.
 */
import type { ClickHouse } from './client.js';
import { withSql } from './sql.js';

export type Combine = 'sum' | 'min' | 'max';

/** An output column: how shard rows combine and its SQL aggregate, e.g. ['sum', 'sumKahan(x)']. */
export type Aggregate = readonly [Combine, string];

const ROWS = '__mlops_rows';

/** Neumaier-compensated sum of the shard values (nulls skipped). */
function compensated(values: readonly number[]): number {
  let sum = 0;
  let comp = 0;
  for (const v of values) {
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + comp;
}

/**
 * SELECT the aggregates FROM `from` [WHERE where], with `defs` as a WITH clause, combined over
 * the shards. Sums of counts come back as numbers; a min or max over no rows is null.
 */
export async function aggregate(
  ch: ClickHouse,
  from: string,
  aggs: Readonly<Record<string, Aggregate>>,
  step: string,
  opts: { where?: string; defs?: readonly (readonly [string, string])[] } = {},
): Promise<Record<string, number | null>> {
  const names = Object.keys(aggs);
  const select = [`count() AS ${ROWS}`, ...names.map((n) => `${aggs[n]![1]} AS ${n}`)].join(', ');
  const sql = `${withSql(opts.defs ?? [])}SELECT ${select} FROM ${from}${opts.where ? ` WHERE ${opts.where}` : ''} SETTINGS distributed_group_by_no_merge = 1`;
  const rows = await ch.query<Record<string, number | string | null>>(sql, step);
  const withRows = rows.filter((r) => Number(r[ROWS]) > 0);
  const out: Record<string, number | null> = {};
  for (const n of names) {
    const [combine] = aggs[n]!;
    const values = (combine === 'sum' ? rows : withRows).map((r) => r[n]).filter((v) => v !== null && v !== undefined).map(Number);
    if (combine === 'sum') out[n] = compensated(values);
    else out[n] = values.length === 0 ? null : combine === 'min' ? Math.min(...values) : Math.max(...values);
  }
  return out;
}
