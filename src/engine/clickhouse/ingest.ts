/**
 * The data of a ClickHouse engine: CSV files loaded into a MergeTree table with exact duplicate
 * rows dropped (the first occurrence kept, in file order then row order, as `mlops ingest`
 * does), or an existing table used as it is.
 *
 * The files are read and checked by the DuckDB reader every command uses (src/data/table.ts:
 * the same column kinds, the same errors naming file, line and column), and the rows go to the
 * server as RowBinary, doubles as their 8 bytes (ClickHouse 18.16 parses numbers in text
 * formats up to one unit in the last place off, see sql.ts), integral columns as Int64 so the
 * table keeps the kinds the roles are decided from. They land in a staging table with
 * their global row number; the de-duplication runs in the engine (GROUP BY every column, the
 * smallest row number kept; NULLs are equal there, as in pandas' drop_duplicates) into a table
 * ordered by that row number, `_mlops_row`, which then replaces the table of that name in one
 * RENAME: a cut-short ingest leaves the previous table as it was, and a rerun completes.
 */
import { Readable } from 'node:stream';
import { DataError } from '../../errors.js';
import type { CsvFile } from '../../data/csvfiles.js';
import type { Db } from '../../data/duck.js';
import { sqlIdent } from '../../data/duck.js';
import { at } from '../../data/csvfiles.js';
import { loadCsvTable, rowLocation, type ColumnInfo, type LoadedFile } from '../../data/table.js';
import type { ClickHouse } from './client.js';
import { chIdent, chString, chTable } from './sql.js';

/** Column holding each row's position in the input (file order, then row order). */
export const ROW_COLUMN = '_mlops_row';

export interface CsvIngestOptions {
  /** Table to create (replaced when it exists, only once the new one is complete), in ch.database. */
  table: string;
  /** Columns that must be numeric (target, configured features). */
  numeric?: readonly string[];
  /** Columns read as text whatever they hold (config `categorical` and `id_columns`: textColumns). */
  text?: readonly string[];
  /** The label column: numbers 0, 1 or missing (the engine's solver and metrics take y as it is). */
  labels?: string | null;
  /** Drop exact duplicate rows (default true; false: every row, as score and predict read a file). */
  dedup?: boolean;
  /** Names the step in errors (default "ingest <table>"). */
  step?: string;
  /** Rename the table being replaced to this name instead of dropping it (a deployed model's training data). */
  keepPreviousAs?: string | null;
}

export interface CsvIngestResult {
  /** chTable(database, table) */
  from: string;
  files: LoadedFile[];
  columns: ColumnInfo[];
  rowsRead: number;
  rowsWritten: number;
  duplicatesDropped: number;
}

const ROWS_PER_CHUNK = 1 << 16;

/** Bytes of a LEB128 length prefix. */
const varintSize = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

type CellKind = 'num' | 'int' | 'str';

/**
 * RowBinary of one chunk, written into one buffer: Nullable(Float64) and Nullable(Int64) cells
 * (a NaN is NULL; an integral column's doubles are integers within 2^53, so exact) and
 * Nullable(String) cells, then the UInt64 row number.
 */
function encodeChunk(cols: readonly ((number | string | null)[] | Float64Array)[], kinds: readonly CellKind[], firstRow: number, n: number): Buffer {
  const strings = cols.map((col, c) => (kinds[c] === 'str' ? Array.from({ length: n }, (_, i) => (col[i] === null || col[i] === undefined ? null : Buffer.from(String(col[i]), 'utf8'))) : null));
  let size = 8 * n;
  for (let c = 0; c < cols.length; c++) {
    for (let i = 0; i < n; i++) {
      const b = strings[c]?.[i];
      if (kinds[c] !== 'str') size += (cols[c]![i] as number) === (cols[c]![i] as number) ? 9 : 1;
      else size += b ? 1 + varintSize(b.length) + b.length : 1;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < cols.length; c++) {
      if (kinds[c] !== 'str') {
        const x = cols[c]![i] as number;
        if (x !== x) out[at++] = 1;
        else {
          out[at++] = 0;
          at = kinds[c] === 'int' ? out.writeBigInt64LE(BigInt(x), at) : out.writeDoubleLE(x, at);
        }
        continue;
      }
      const b = strings[c]![i];
      if (!b) {
        out[at++] = 1;
        continue;
      }
      out[at++] = 0;
      for (let len = b.length; ; ) {
        const low = len & 0x7f;
        len >>>= 7;
        out[at++] = len ? low | 0x80 : low;
        if (!len) break;
      }
      at += b.copy(out, at);
    }
    at = out.writeBigUInt64LE(BigInt(firstRow + i), at);
  }
  return out;
}

/** The rows of a DuckDB table in rowid order as RowBinary chunks. */
async function* rowBinary(db: Db, view: string, columns: readonly ColumnInfo[]): AsyncGenerator<Buffer> {
  const kinds = columns.map((c): CellKind => (c.kind === 'string' ? 'str' : c.kind === 'integer' ? 'int' : 'num'));
  const select = columns.map((c, j) => (kinds[j] !== 'str' ? `coalesce(${sqlIdent(c.name)}, 'NaN'::DOUBLE)` : sqlIdent(c.name))).join(', ');
  const result = await db.conn.run(`SELECT ${select} FROM ${view} ORDER BY rowid`);
  let row = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    const cols = columns.map((_, c) => {
      const vec = chunk.getColumnVector(c);
      const items = (vec as unknown as { items?: unknown }).items;
      if (kinds[c] !== 'str' && items instanceof Float64Array) return items.subarray(0, n);
      return Array.from({ length: n }, (_, i) => vec.getItem(i) as number | string | null);
    });
    for (let s = 0; s < n; s += ROWS_PER_CHUNK) {
      const m = Math.min(ROWS_PER_CHUNK, n - s);
      yield encodeChunk(
        cols.map((col) => col.slice(s, s + m)),
        kinds,
        row + s,
        m,
      );
    }
    row += n;
  }
}

/** Integral columns (as the CSV reader decides: every value integral, within 2^53) as Int64, so the table keeps the kinds. */
const columnType = (c: ColumnInfo) => (c.kind === 'string' ? 'Nullable(String)' : c.kind === 'integer' ? 'Nullable(Int64)' : 'Nullable(Float64)');

/**
 * Load CSV files into `opts.table` with duplicates dropped. DuckDB (db) reads and checks them;
 * the engine de-duplicates. The staging table is dropped in every case.
 */
export async function ingestCsvToClickHouse(ch: ClickHouse, db: Db, files: readonly CsvFile[], opts: CsvIngestOptions): Promise<CsvIngestResult> {
  const loaded = await loadCsvTable(db, files, { name: 'ingest_ch', numeric: opts.numeric, text: opts.text, labels: opts.labels ?? null });
  if (opts.labels && loaded.columns.some((c) => c.name === opts.labels)) await checkZeroOne(db, loaded, opts.labels);
  const target = chTable(ch.database, opts.table);
  const staging = chTable(ch.database, `${opts.table}__mlops_staging`);
  const defs = [...loaded.columns.map((c) => `${chIdent(c.name)} ${columnType(c)}`), `${chIdent(ROW_COLUMN)} UInt64`].join(', ');
  const step = opts.step ?? `ingest ${opts.table}`;
  const fresh = chTable(ch.database, `${opts.table}__mlops_new`);
  const old = chTable(ch.database, `${opts.table}__mlops_old`);
  const create = (t: string) => ch.command(`CREATE TABLE ${t} (${defs}) ENGINE = MergeTree ORDER BY ${chIdent(ROW_COLUMN)}`, step);
  // leftovers of an ingest that was cut short
  for (const t of [staging, fresh, old]) await ch.command(`DROP TABLE IF EXISTS ${t}`, step);
  await create(staging);
  try {
    await ch.insertStream(`INSERT INTO ${staging} FORMAT RowBinary`, Readable.from(rowBinary(db, loaded.view, loaded.columns)), `${step}, sending rows`);
    const cols = loaded.columns.map((c) => chIdent(c.name)).join(', ');
    await create(fresh);
    if (opts.dedup === false) await ch.command(`INSERT INTO ${fresh} SELECT * FROM ${staging}`, `${step}, copying rows`);
    else {
      await ch.command(
        `INSERT INTO ${fresh} SELECT ${cols}, min(${chIdent(ROW_COLUMN)}) AS ${chIdent(ROW_COLUMN)} FROM ${staging} GROUP BY ${cols}`,
        `${step}, dropping duplicates`,
      );
    }
    // the finished table replaces the old one in one RENAME (both names under one lock), so a
    // reader sees the old data or the new, never a half-filled table
    const [exists] = await ch.query<{ n: string }>(`SELECT count() AS n FROM system.tables WHERE database = ${chString(ch.database)} AND name = ${chString(opts.table)}`, step);
    if (Number(exists?.n ?? 0) > 0) {
      const keep = opts.keepPreviousAs ? chTable(ch.database, opts.keepPreviousAs) : null;
      // a kept table of that name holds the same data (the name carries its hash)
      if (keep) await ch.command(`DROP TABLE IF EXISTS ${keep}`, step);
      await ch.command(`RENAME TABLE ${target} TO ${keep ?? old}, ${fresh} TO ${target}`, `${step}, replacing the table`);
      if (!keep) await ch.command(`DROP TABLE IF EXISTS ${old}`, step);
    } else await ch.command(`RENAME TABLE ${fresh} TO ${target}`, `${step}, replacing the table`);
  } finally {
    for (const t of [staging, fresh]) await ch.command(`DROP TABLE IF EXISTS ${t}`, step).catch(() => undefined);
  }
  const [res] = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${target}`, step);
  const written = Number(res?.n ?? 0);
  return {
    from: target,
    files: loaded.files,
    columns: loaded.columns,
    rowsRead: loaded.rows,
    rowsWritten: written,
    duplicatesDropped: loaded.rows - written,
  };
}

/** The label column holds numbers 0 and 1 only (besides missing): else an error naming file and line. */
async function checkZeroOne(db: Db, loaded: Awaited<ReturnType<typeof loadCsvTable>>, target: string): Promise<void> {
  const y = sqlIdent(target);
  const info = loaded.columns.find((c) => c.name === target)!;
  const bad =
    info.kind === 'string'
      ? await db.rows<{ r: bigint; v: unknown }>(`SELECT rowid AS r, ${y} AS v FROM ${loaded.view} WHERE ${y} IS NOT NULL ORDER BY rowid LIMIT 1`)
      : await db.rows<{ r: bigint; v: unknown }>(`SELECT rowid AS r, ${y} AS v FROM ${loaded.view} WHERE ${y} IS NOT NULL AND ${y} NOT IN (0, 1) ORDER BY rowid LIMIT 1`);
  if (!bad.length) return;
  const where = await rowLocation(loaded.files, Number(bad[0]!.r));
  throw new DataError(
    `${at(where.path, where.line)}target column "${target}" holds ${JSON.stringify(bad[0]!.v)}; on the ClickHouse engine labels are the numbers 0 and 1 (empty for an unlabelled row)`,
    'recode the labels to 0/1, or use the DuckDB engine (positive_label) for other label values',
  );
}

export interface SourceColumn {
  name: string;
  type: string;
  numeric: boolean;
}

const NUMERIC_TYPE = /^(Nullable\()?(U?Int(8|16|32|64)|Float(32|64)|Decimal.*)\)?$/;

/**
 * An existing table as the data: its columns, checked to hold the target and the features as
 * numbers and the target to hold labels (0, 1 or NULL). Nothing is copied or changed.
 */
export async function describeSourceTable(
  ch: ClickHouse,
  table: string,
  need: { target: string; features?: readonly string[] | null; /** The target holds labels (default true); false for a regression target. */ labels?: boolean },
): Promise<{ from: string; columns: SourceColumn[]; rows: number }> {
  const from = chTable(ch.database, table);
  const step = `source table ${table}`;
  const rows = await ch.query<{ name: string; type: string }>(
    `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = ${chString(table)}`,
    step,
  );
  if (rows.length === 0) {
    throw new DataError(`clickhouse ${ch.url}: no table ${ch.database}.${table}`, 'set engine.source_table to an existing table, or ingest the files first');
  }
  const columns = rows.map((r) => ({ name: r.name, type: r.type, numeric: NUMERIC_TYPE.test(r.type) }));
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const name of [need.target, ...(need.features ?? [])]) {
    const c = byName.get(name);
    if (!c) throw new DataError(`clickhouse ${ch.url}: ${ch.database}.${table} has no column "${name}"`, `columns: ${columns.map((x) => x.name).join(', ')}`);
    if (!c.numeric) throw new DataError(`clickhouse ${ch.url}: ${ch.database}.${table}: column "${name}" is ${c.type}, not a number`, 'use a numeric column');
  }
  // the label rule of src/data/labels.ts: 0, 1 or missing
  const y = chIdent(need.target);
  const [count] = await ch.query<{ n: string; bad: string; example: number | null }>(
    need.labels === false
      ? `SELECT count() AS n, 0 AS bad, NULL AS example FROM ${from}`
      : `SELECT count() AS n, countIf(isNotNull(${y}) AND ${y} NOT IN (0, 1)) AS bad, anyIf(toFloat64(${y}), isNotNull(${y}) AND ${y} NOT IN (0, 1)) AS example FROM ${from}`,
    step,
  );
  if (Number(count?.bad ?? 0) > 0) {
    throw new DataError(
      `clickhouse ${ch.url}: ${ch.database}.${table}: target column "${need.target}" holds ${count!.example} in ${count!.bad} rows; labels must be 0 or 1 (or NULL for an unlabelled row)`,
      'recode the label column to 0/1 (binary classification)',
    );
  }
  return { from, columns, rows: Number(count?.n ?? 0) };
}
