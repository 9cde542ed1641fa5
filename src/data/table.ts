/**
 * Loading CSV files into one DuckDB table with checked, typed columns.
 *
 * Each file is read with its own header as an explicit, all-VARCHAR schema (no sniffing: the
 * sniffer guesses and can silently misread a bad row as the header), in strict mode so a row
 * with a wrong field count or a broken quote fails with its line number. Files are inserted
 * one after another, so the table's rowid is the global order: file order, then row order.
 * Column types are then decided over all files together and every value is checked.
 */
import { basename } from 'node:path';
import { DataError } from '../errors.js';
import type { Db } from './duck.js';
import { sqlIdent, sqlString } from './duck.js';
import { readCsvHeader, type CsvFile } from './csvfiles.js';

export type ColumnKind = 'integer' | 'float' | 'string';

export interface ColumnInfo {
  name: string;
  kind: ColumnKind;
  /** Number of missing (empty, NA, NaN, null, ...) cells. */
  missing: number;
}

export interface LoadedFile extends CsvFile {
  rows: number;
  /** rowid of the file's first row in the raw table. */
  firstRow: number;
}

export interface LoadedTable {
  /** Name of the typed view: the columns in `columns` order, plus _r (global row order) and _f (file index). */
  view: string;
  columns: ColumnInfo[];
  files: LoadedFile[];
  rows: number;
}

/** Cell texts read as missing values, as pandas does by default. */
export const MISSING_TOKENS = ['', 'NA', 'N/A', 'n/a', 'NaN', 'nan', '-NaN', 'null', 'NULL', 'None', '#N/A'];

export interface LoadOptions {
  /** Table name prefix in the database. */
  name: string;
  /** Columns that must be numeric whatever their values look like (target, configured features). */
  numeric?: readonly string[];
  /** What the data is, for messages ("input", "test data"). */
  what?: string;
}

const dbl = (col: string) => `TRY_CAST(${sqlIdent(col)} AS DOUBLE)`;

export async function loadCsvTable(db: Db, files: readonly CsvFile[], opts: LoadOptions): Promise<LoadedTable> {
  if (files.length === 0) throw new Error('loadCsvTable needs at least one file');
  const headers: string[][] = [];
  for (const f of files) headers.push(await readCsvHeader(f.path));
  const columns = headers[0]!;
  checkSameColumns(files, headers);

  const raw = `${opts.name}_raw`;
  await db.exec(
    `CREATE OR REPLACE TEMP TABLE ${raw} (${columns.map((c) => `${sqlIdent(c)} VARCHAR`).join(', ')}, _f INTEGER)`,
  );
  const loaded: LoadedFile[] = [];
  let total = 0;
  for (const [i, f] of files.entries()) {
    const header = headers[i]!;
    const schema = `{${header.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}`;
    const sql =
      `INSERT INTO ${raw} (${header.map(sqlIdent).join(', ')}, _f) SELECT *, ${i} FROM read_csv(${sqlString(f.path)}, ` +
      `header = true, auto_detect = false, columns = ${schema}, delim = ',', quote = '"', escape = '"', ` +
      `strict_mode = true, nullstr = [${MISSING_TOKENS.map(sqlString).join(', ')}])`;
    try {
      await db.exec(sql);
    } catch (err) {
      throw csvReadError(f.path, err);
    }
    const [{ n }] = (await db.rows<{ n: bigint }>(`SELECT count(*) AS n FROM ${raw} WHERE _f = ${i}`)) as [{ n: bigint }];
    const rows = Number(n);
    if (rows === 0) {
      throw new DataError(`${f.path}: has a header but no data rows`, `add rows or remove ${f.name} from the folder`);
    }
    loaded.push({ ...f, rows, firstRow: total });
    total += rows;
  }

  const infos = await decideColumnKinds(db, raw, columns, new Set(opts.numeric ?? []));
  await checkNumericValues(db, raw, infos, loaded);

  const view = `${opts.name}`;
  const select = infos.map((c) => {
    const id = sqlIdent(c.name);
    if (c.kind === 'string') return id;
    if (c.kind === 'integer') return `CAST(${dbl(c.name)} AS BIGINT) AS ${id}`;
    return `${dbl(c.name)} AS ${id}`;
  });
  await db.exec(`CREATE OR REPLACE TEMP VIEW ${view} AS SELECT ${select.join(', ')}, rowid AS _r, _f FROM ${raw}`);
  return { view, columns: infos, files: loaded, rows: total };
}

function checkSameColumns(files: readonly CsvFile[], headers: string[][]): void {
  const first = new Set(headers[0]);
  for (let i = 1; i < files.length; i++) {
    const h = new Set(headers[i]);
    const missing = [...first].filter((c) => !h.has(c));
    const extra = [...h].filter((c) => !first.has(c));
    if (missing.length || extra.length) {
      const parts = [];
      if (missing.length) parts.push(`lacks column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')}`);
      if (extra.length) parts.push(`has extra column${extra.length > 1 ? 's' : ''} ${extra.map((c) => `"${c}"`).join(', ')}`);
      throw new DataError(
        `${files[i]!.path}: line 1: header ${parts.join(' and ')} compared with ${files[0]!.name}`,
        'every file in the folder must have the same columns (in any order)',
      );
    }
  }
}

/** Turn a DuckDB CSV error into one line naming the file and line. */
function csvReadError(path: string, err: unknown): DataError {
  const msg = err instanceof Error ? err.message : String(err);
  const lines = msg.split('\n').map((l) => l.trim());
  const lineNo = /CSV Error on Line: (\d+)/.exec(msg)?.[1];
  const original = lines.find((l) => l.startsWith('Original Line:'))?.slice('Original Line:'.length).trim();
  const expected = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(msg);
  let detail: string;
  if (expected) detail = `expected ${expected[1]} fields, found ${expected[2]}`;
  else if (/unicode/i.test(msg)) detail = 'the file is not UTF-8 text';
  else if (/quote/i.test(msg)) detail = 'unterminated or misplaced quote';
  else detail = lines.find((l) => l && !l.startsWith('Invalid Input Error') && !l.startsWith('Original Line')) ?? lines[0] ?? msg;
  const where = lineNo ? `line ${lineNo}: ` : '';
  const shown = original && original.length <= 80 && !/[\0-\x08]/.test(original) ? ` (${JSON.stringify(original)})` : '';
  return new DataError(`${path}: ${where}cannot parse CSV: ${detail}${shown}`, `fix or remove that row of ${basename(path)}`);
}

async function decideColumnKinds(db: Db, raw: string, columns: string[], forced: Set<string>): Promise<ColumnInfo[]> {
  const aggs = columns.flatMap((c, i) => [
    `count(${sqlIdent(c)}) AS p${i}`,
    `count(${dbl(c)}) AS n${i}`,
    `count_if(${dbl(c)} <> round(${dbl(c)}) OR abs(${dbl(c)}) > 9007199254740992) AS f${i}`,
  ]);
  const [row] = (await db.rows<Record<string, bigint>>(`SELECT count(*) AS total, ${aggs.join(', ')} FROM ${raw}`)) as [
    Record<string, bigint>,
  ];
  const total = Number(row.total);
  return columns.map((name, i) => {
    const present = Number(row[`p${i}`]);
    const numeric = Number(row[`n${i}`]);
    const fractional = Number(row[`f${i}`]);
    // A column is numeric when it is required to be, or when most of its values are numbers;
    // the values that are not are then reported as bad data rather than silently turning the
    // column into text.
    const isNumeric = forced.has(name) || present === 0 || numeric * 2 >= present;
    const kind: ColumnKind = !isNumeric ? 'string' : fractional > 0 || present === 0 ? 'float' : 'integer';
    return { name, kind, missing: total - present };
  });
}

async function checkNumericValues(db: Db, raw: string, infos: ColumnInfo[], files: LoadedFile[]): Promise<void> {
  const numeric = infos.filter((c) => c.kind !== 'string');
  if (numeric.length === 0) return;
  const bad = (c: string) => `(${sqlIdent(c)} IS NOT NULL AND (${dbl(c)} IS NULL OR NOT isfinite(${dbl(c)})))`;
  const where = numeric.map((c) => bad(c.name)).join(' OR ');
  const cases = numeric.map((c, i) => `CASE WHEN ${bad(c.name)} THEN ${i} END`).join(', ');
  const hits = await db.rows<{ r: bigint; f: number; k: number }>(
    `SELECT rowid AS r, _f AS f, coalesce(${cases}) AS k FROM ${raw} WHERE ${where} ORDER BY rowid LIMIT 1`,
  );
  const hit = hits[0];
  if (!hit) return;
  const col = numeric[hit.k]!;
  const file = files[hit.f]!;
  const [{ v }] = (await db.rows<{ v: string }>(
    `SELECT ${sqlIdent(col.name)} AS v FROM ${raw} WHERE rowid = ${hit.r}`,
  )) as [{ v: string }];
  const line = Number(hit.r) - file.firstRow + 2; // +1 for the header, +1 for 1-based lines
  throw new DataError(
    `${file.path}: line ${line}: column "${col.name}" holds ${JSON.stringify(v)}, not a finite number`,
    `fix the value or leave the cell empty to mark it missing`,
  );
}

/**
 * Read numeric columns of a table or view as Float64Arrays, missing values as NaN, in row order.
 * Reads DuckDB's vectors chunk by chunk and copies their buffers; no row objects are built.
 */
export async function readFloatColumns(db: Db, from: string, columns: readonly string[]): Promise<Float64Array[]> {
  const ncols = columns.length;
  // coalesce to NaN so every slot of the vectors is valid and the raw buffers can be copied.
  const select = columns.map((c) => `coalesce(CAST(${sqlIdent(c)} AS DOUBLE), 'NaN'::DOUBLE)`).join(', ');
  const result = await db.conn.run(`SELECT ${select} FROM ${from}`);
  const chunks: Float64Array[][] = Array.from({ length: ncols }, () => []);
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    for (let c = 0; c < ncols; c++) {
      const vec = chunk.getColumnVector(c);
      const items = (vec as unknown as { items?: unknown }).items;
      let out: Float64Array;
      if (items instanceof Float64Array) out = items.slice(0, n);
      else {
        out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = Number(vec.getItem(i));
      }
      chunks[c]!.push(out);
    }
    rows += n;
  }
  return chunks.map((parts) => {
    const out = new Float64Array(rows);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  });
}
