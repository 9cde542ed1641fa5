/**
 * What the verbs share on a ClickHouse engine: the connection from config.json (credentials
 * from the environment), the table that holds the data (`source_table`, else the table `ingest`
 * loads), its columns and kinds, its fingerprint (the data's identity in records and model
 * files), the column counts the roles are decided from, and local files uploaded to a scratch
 * table for one command (test data, a file to predict).
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, DataError, StateError } from '../../../errors.js';
import type { CsvFile } from '../../../data/csvfiles.js';
import { withDb } from '../../../data/duck.js';
import { withPlainCsv } from '../../../data/plaincsv.js';
import type { ColumnStats } from '../../../model/roles.js';
import type { InputSpec, ModelFile } from '../../../model/modelfile.js';
import { sha256Text } from '../../../store/atomic.js';
import type { Config } from '../../../store/config.js';
import type { ClickHouseEngine } from '../../config.js';
import { clickHouseSettingsOf } from '../../config.js';
import { connectClickHouse, type ClickHouse } from '../client.js';
import { ingestCsvToClickHouse, ROW_COLUMN, type CsvIngestResult } from '../ingest.js';
import type { LinearForm } from '../score.js';
import { chIdent, chString, chTable } from '../sql.js';

/** The engine settings of a config that runs on ClickHouse. */
export function clickHouseOf(cfg: Config): ClickHouseEngine {
  if (cfg.engine.type !== 'clickhouse') throw new Error('clickHouseOf: the config does not use the ClickHouse engine');
  return cfg.engine;
}

/** Run `fn` with a connection to the configured server; closed afterwards. */
export async function withClickHouse<T>(cfg: Config, fn: (ch: ClickHouse, engine: ClickHouseEngine) => Promise<T>): Promise<T> {
  const engine = clickHouseOf(cfg);
  const ch = connectClickHouse(clickHouseSettingsOf(engine));
  try {
    return await fn(ch, engine);
  } finally {
    await ch.close();
  }
}

/** The table the verbs read: `source_table`, else the table `ingest` loads. */
export const dataTableName = (e: ClickHouseEngine): string => e.source_table ?? e.table;

/**
 * How the data is named where a file path would be (ingest's output, the loop's new data):
 * `score --data` with this text scores the table itself.
 */
export const dataLabel = (e: ClickHouseEngine): string => `clickhouse ${e.url.replace(/\/+$/, '')} ${e.database}.${dataTableName(e)}`;

/** The table that keeps a deployed model's training data once ingest replaced it (ingested tables only). */
export const referenceTableName = (e: ClickHouseEngine, sha256: string): string => `${e.table}__mlops_ref_${sha256.slice(0, 16)}`;

export type ColumnKind = ColumnStats['kind'];

export interface TableColumn {
  name: string;
  type: string;
  kind: ColumnKind;
}

const INTEGER = /^(Nullable\()?(U?Int(8|16|32|64))\)?$/;
const FLOAT = /^(Nullable\()?(Float(32|64)|Decimal.*)\)?$/;

/** The kind a column type reads as: integer and float columns are numbers, anything else text. */
const kindOf = (type: string): ColumnKind => (INTEGER.test(type) ? 'integer' : FLOAT.test(type) ? 'float' : 'string');

/** Whether a table exists in the engine's database. */
export async function tableExists(ch: ClickHouse, table: string, step: string): Promise<boolean> {
  const [row] = await ch.query<{ n: string }>(`SELECT count() AS n FROM system.tables WHERE database = ${chString(ch.database)} AND name = ${chString(table)}`, step);
  return Number(row?.n ?? 0) > 0;
}

/** A table's columns in table order (the row number ingest adds is not data), or a StateError when there is no such table. */
export async function tableColumns(ch: ClickHouse, table: string, step: string): Promise<TableColumn[]> {
  if (!(await tableExists(ch, table, step))) {
    throw new StateError(`clickhouse ${ch.url}: no table ${ch.database}.${table}`, 'run `mlops ingest` first, or set engine.source_table to an existing table');
  }
  // DESCRIBE keeps the table's column order (18.16's system.columns has no position)
  const rows = await ch.query<{ name: string; type: string }>(`DESCRIBE TABLE ${chTable(ch.database, table)}`, step);
  return rows.filter((r) => r.name !== ROW_COLUMN).map((r) => ({ name: r.name, type: r.type, kind: kindOf(r.type) }));
}

/** The data table's columns and its FROM expression. */
export async function dataTable(ch: ClickHouse, e: ClickHouseEngine, step: string): Promise<{ table: string; from: string; columns: TableColumn[] }> {
  const table = dataTableName(e);
  return { table, from: chTable(ch.database, table), columns: await tableColumns(ch, table, step) };
}

/**
 * The data's identity: SHA-256 of the column names and types, the row count and two 64-bit
 * sums of per-row hashes (cityHash64 and sipHash64 of every cell, NULL told from any value).
 * The sums do not depend on row order or on how the rows are spread over shards, so the same
 * rows give the same fingerprint in a plain or a Distributed table. One pass.
 */
export async function fingerprint(ch: ClickHouse, from: string, columns: readonly TableColumn[], step: string): Promise<{ rows: number; sha256: string }> {
  const cells = columns.flatMap((c) => [`isNull(${chIdent(c.name)})`, `ifNull(toString(${chIdent(c.name)}), '')`]).join(', ');
  const [row] = await ch.query<{ n: string; a: string; b: string }>(
    `SELECT count() AS n, sum(cityHash64(${cells})) AS a, sum(sipHash64(${cells})) AS b FROM ${from}`,
    `${step}, fingerprint`,
  );
  const rows = Number(row?.n ?? 0);
  const head = columns.map((c) => `${c.name}\t${c.type}`).join('\n');
  return { rows, sha256: sha256Text(`mlops-clickhouse-data/1\n${head}\n${rows}\t${row?.a ?? 0}\t${row?.b ?? 0}\n`) };
}

/**
 * The counts the roles are decided from (model/roles.ts), as duckFrame's stats() gives them:
 * non-missing values, distinct values of integer and text columns, and the values themselves
 * when there are at most two. One query.
 */
export async function columnStatsOnEngine(ch: ClickHouse, from: string, columns: readonly TableColumn[], step: string): Promise<ColumnStats[]> {
  if (columns.length === 0) return [];
  const aggs = columns.flatMap((c, i) => {
    const id = chIdent(c.name);
    const base = [`count(${id}) AS p${i}`, `toString(min(${id})) AS a${i}`, `toString(max(${id})) AS b${i}`];
    return c.kind === 'float' ? base : [...base, `uniqExact(${id}) AS d${i}`];
  });
  const [row] = await ch.query<Record<string, string | number | null>>(`SELECT ${aggs.join(', ')} FROM ${from}`, step);
  return columns.map((c, i): ColumnStats => {
    const present = Number(row?.[`p${i}`] ?? 0);
    const lo = present > 0 ? String(row?.[`a${i}`]) : null;
    const hi = present > 0 ? String(row?.[`b${i}`]) : null;
    let distinct: number | null = c.kind === 'float' ? null : Number(row?.[`d${i}`] ?? 0);
    if (c.kind === 'float' && lo !== null && Number(lo) === Number(hi)) distinct = 1;
    const few = distinct !== null && distinct <= 2 && lo !== null && hi !== null;
    const values = few ? [...new Set([lo, hi])].map((v) => (c.kind === 'string' ? v : String(Number(v)))) : null;
    return { name: c.name, kind: c.kind, present, distinct, values };
  });
}

/** The row count and each column's non-missing values. One query. */
export async function presentCounts(ch: ClickHouse, from: string, columns: readonly TableColumn[], step: string): Promise<{ rows: number; present: number[] }> {
  const [row] = await ch.query<Record<string, string>>(`SELECT count() AS n${columns.map((c, i) => `, count(${chIdent(c.name)}) AS p${i}`).join('')} FROM ${from}`, step);
  return { rows: Number(row?.n ?? 0), present: columns.map((_, i) => Number(row?.[`p${i}`] ?? 0)) };
}

/**
 * What the engine's queries need of a model: a linear type over numeric (or numeric 0/1)
 * inputs, labels 0 and 1. Boosted trees, text inputs and other label values are refused here
 * rather than scored wrongly.
 */
export function linearFormOf(model: ModelFile, where: string): LinearForm {
  const hint = 'train it with the ClickHouse engine (linear and logistic regression on numeric features), or use the DuckDB engine for it';
  if (!model.linear) throw new ConfigError(`${where}: a ${model.type} model cannot run on the ClickHouse engine (its queries hold linear models only)`, hint);
  const text = model.inputs.find((s) => s.kind === 'categorical' || (s.kind === 'boolean' && s.text));
  if (text) throw new ConfigError(`${where}: input "${text.name}" of the model is text (${text.kind}); the ClickHouse engine's queries take numeric inputs only`, hint);
  if (model.labels && !(model.labels.negative === 0 && model.labels.positive === 1)) {
    throw new ConfigError(`${where}: the model's labels are ${JSON.stringify(model.labels)}; the ClickHouse engine takes labels 0 and 1`, hint);
  }
  const l = model.linear;
  const fill = (s: InputSpec) => (s.kind === 'categorical' ? 0 : s.fill);
  return {
    features: l.terms.map((t) => model.inputs[t.input]!.name),
    coefficients: l.coefficients,
    intercept: l.intercept,
    feature_means: l.terms.map((t) => fill(model.inputs[t.input]!)),
  };
}

/** The model's columns missing from a table: a DataError naming the data. */
export function checkModelColumns(model: Pick<ModelFile, 'target' | 'features'>, names: ReadonlySet<string>, where: string, target: boolean): void {
  if (target && !names.has(model.target)) {
    throw new DataError(`${where}: no target column "${model.target}"`, `the data must hold the label column (columns: ${[...names].join(', ')})`);
  }
  const missing = model.features.filter((f) => !names.has(f));
  if (missing.length) {
    throw new DataError(`${where}: missing feature column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`, 'the data must hold every column the model was trained on');
  }
}

/**
 * Local data files in a scratch table of the engine for the duration of `fn` (every row, in
 * file order; dropped afterwards, also when `fn` fails). The files are read and checked by the
 * same reader as the DuckDB path, so their errors name file, line and column alike.
 */
export async function withUploaded<T>(
  ch: ClickHouse,
  e: ClickHouseEngine,
  files: readonly CsvFile[],
  opts: { numeric: readonly string[]; labels: string | null; step: string },
  fn: (up: CsvIngestResult) => Promise<T>,
): Promise<T> {
  const table = `${e.table}__mlops_upload_${randomBytes(6).toString('hex')}`;
  const up = await withDb((db) => withPlainCsv(files, db, (plain) => ingestCsvToClickHouse(ch, db, plain, { table, numeric: opts.numeric, labels: opts.labels, dedup: false, step: `${opts.step}, uploading ${files.length === 1 ? files[0]!.name : `${files.length} files`}` })));
  try {
    return await fn(up);
  } finally {
    await ch.command(`DROP TABLE IF EXISTS ${chTable(ch.database, table)}`, `${opts.step}, dropping the scratch table`).catch(() => undefined);
  }
}
