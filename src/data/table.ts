/**
 * Loading CSV files into one DuckDB table with checked, typed columns.
 *
 * Column types are decided from a sample (the first 64 KiB of every file): a column is numeric
 * when it must be (target, configured features) or when most sampled values are numbers. The
 * files are then read in one typed pass: explicit schema, no sniffing (the sniffer guesses and
 * can silently misread a bad row as the header), strict mode, so a row with a wrong field count,
 * a broken quote or a non-numeric value in a numeric column fails with its file, line and
 * column. Numbers are read as DOUBLE (a BIGINT read would silently round 4.5 to 5); columns whose
 * values are all integral are written back as integers. With insertion order preserved, the
 * table's rowid is the global order: file order, then row order.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataError } from '../errors.js';
import { phase } from '../progress.js';
import type { CopyWriter } from './columnar.js';
import type { Db } from './duck.js';
import { sqlIdent, sqlString } from './duck.js';
import {
  dataKind,
  lineOfDuckDbLine,
  lineOfRow,
  MISSING_TOKENS,
  notANumberError,
  notFiniteError,
  NUMBER,
  plainDecimal,
  readCsvHead,
  readPath,
  type CsvFile,
  type CsvHead,
} from './csvfiles.js';
import { thirdLabelError } from './labels.js';
import { scanFile } from '../store/atomic.js';
import type { ColumnSummary } from '../store/records.js';
import { centring, finishMoments, momentsStd } from '../stats/moments.js';

export type ColumnKind = ColumnSummary['kind'];

/** A column's kind, missing count and (numeric) summary over the rows read. */
export type ColumnInfo = ColumnSummary;

export interface LoadedFile extends CsvFile {
  rows: number;
  sha256: string;
  /** rowid of the file's first row in the table. */
  firstRow: number;
}

export interface LoadedTable {
  /** Table name: the columns in `columns` order, numeric ones as DOUBLE; rowid is the row order. */
  view: string;
  columns: ColumnInfo[];
  files: LoadedFile[];
  rows: number;
  /**
   * Numeric columns whose sampled cells include whole numbers beyond 2^53 (more digits than a
   * double holds): read as numbers, they are rounded.
   */
  longIntegers?: string[];
}

const MISSING = new Set(MISSING_TOKENS);
/** A whole number of 16 digits or more (2^53 has 16). */
const LONG_INTEGER = /^[+-]?0*[1-9]\d{15,}$/;

/** The numeric columns with a sampled whole number beyond 2^53 (see LoadedTable.longIntegers). */
function longIntegerColumns(columns: readonly string[], heads: readonly CsvHead[], numeric: ReadonlySet<string>): string[] {
  return columns.filter((name) => {
    if (!numeric.has(name)) return false;
    return heads.some((h) => {
      const j = h.header.indexOf(name);
      return h.sample.some((row) => {
        const v = row[j]?.trim();
        return v !== undefined && LONG_INTEGER.test(v) && Math.abs(Number(v)) > Number.MAX_SAFE_INTEGER;
      });
    });
  });
}

export interface LoadOptions {
  /** Table name in the database. */
  name: string;
  /** Columns that must be numeric whatever their values look like (target, configured features). */
  numeric?: readonly string[];
  /**
   * Keep only the numeric columns in the table (the string ones are still parsed, so a broken
   * row is still an error, but not stored): for readers of features and labels.
   */
  numericOnly?: boolean;
  /** The label column: at most two distinct values (src/data/labels.ts), checked when present. */
  labels?: string | null;
  /** Columns read as text whatever their values look like (categorical ones). */
  text?: readonly string[];
}

export async function loadCsvTable(db: Db, files: readonly CsvFile[], opts: LoadOptions): Promise<LoadedTable> {
  if (files.length === 0) throw new Error('loadCsvTable needs at least one file');
  assertPlain(files);
  const heads: CsvHead[] = [];
  for (const f of files) heads.push(await readCsvHead(readPath(f)));
  checkSameColumns(files, heads.map((h) => h.header));
  const numeric = sampleKinds(heads[0]!.header, heads, new Set(opts.numeric ?? []), new Set(opts.text ?? []));
  const columns = opts.numericOnly ? heads[0]!.header.filter((c) => numeric.has(c)) : heads[0]!.header;

  // Hash and count lines of every file while DuckDB parses them (the main thread is idle then),
  // one file after the other: the hashing is this thread's anyway, and one read buffer is live.
  const scans = (async () => {
    const out = [];
    for (const f of files) out.push(await scanFile(readPath(f)));
    return out;
  })();
  scans.catch(() => undefined);
  const table = opts.name;
  const sqlType = (c: string) => (numeric.has(c) ? 'DOUBLE' : 'VARCHAR');
  await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} (${columns.map((c) => `${sqlIdent(c)} ${sqlType(c)}`).join(', ')})`);
  const copies = new LfCopies();
  try {
    // Files with the same header order are read in one call (DuckDB reads them in parallel and
    // in order); a file with another order starts a new run.
    for (let start = 0; start < files.length; ) {
      let end = start + 1;
      const order = heads[start]!.header.join('\u0000');
      while (end < files.length && heads[end]!.header.join('\u0000') === order) end++;
      const run = files.slice(start, end);
      const kept = heads[start]!.header.filter((c) => !opts.numericOnly || numeric.has(c)).map(sqlIdent).join(', ');
      const insert = () => db.exec(`INSERT INTO ${table} (${kept}) SELECT ${kept} FROM ${copies.readCsvSql(run, heads[start]!.header, sqlType)}`);
      try {
        await insert();
      } catch (err) {
        // DuckDB's strict parser takes one line ending per file: a file mixing CRLF and LF is
        // read from a copy with LF endings (same lines, so messages keep their line numbers).
        if (!(await copies.addMixed(run))) throw await csvReadError(run, err, copies);
        // (a failed INSERT is rolled back as a whole: no rows of the run are left to remove)
        try {
          await insert();
        } catch (err2) {
          throw await csvReadError(run, err2, copies);
        }
      }
      start = end;
    }
    phase('load: read csv');

    const [{ n }] = (await db.rows<{ n: bigint }>(`SELECT count(*) AS n FROM ${table}`)) as [{ n: bigint }];
    const total = Number(n);
    const scanned = await scans;
    // Rows per file from the line counts (header excluded). Quoted newlines or blank lines make
    // those disagree with DuckDB's total; then count each file with DuckDB instead.
    let rows = scanned.map((s) => Math.max(0, s.lines - 1));
    if (rows.reduce((a, b) => a + b, 0) !== total) {
      rows = [];
      for (const [i, f] of files.entries()) {
        const [{ c }] = (await db.rows<{ c: bigint }>(
          `SELECT count(*) AS c FROM ${copies.readCsvSql([f], heads[i]!.header, sqlType)}`,
        )) as [{ c: bigint }];
        rows.push(Number(c));
      }
    }
    const loaded: LoadedFile[] = [];
    let first = 0;
    files.forEach((f, i) => {
      if (rows[i] === 0) throw new DataError(`${f.path}: has a header but no data rows`, `add rows or remove ${f.name} from the folder`);
      loaded.push({ ...f, rows: rows[i]!, sha256: inputSha256(f, scanned[i]!.sha256), firstRow: first });
      first += rows[i]!;
    });
    phase('load: counts');

    const infos = await checkColumns(db, table, columns, numeric, loaded);
    if (opts.labels && columns.includes(opts.labels)) await checkLabels(db, table, opts.labels, loaded);
    return { view: table, columns: infos, files: loaded, rows: total, longIntegers: longIntegerColumns(columns, heads, numeric) };
  } finally {
    await copies.remove();
  }
}

/**
 * How DuckDB is pointed at the input files. read_csv takes globs, so a file literally named
 * "*.csv", "[a].csv" or "a?.csv" would read other files of the folder (hidden ones too):
 * glob characters are escaped as one-character classes ("[*]"), which DuckDB matches
 * literally. A file mixing CRLF and LF line endings is read from an LF copy in a temp folder.
 */
class LfCopies {
  private dir: string | null = null;
  /** Original path -> path DuckDB reads, and back. */
  private readonly copyOf = new Map<string, string>();
  private readonly originalOf = new Map<string, string>();

  /** read_csv(...) of files that share one header order, with an explicit typed schema. */
  readCsvSql(files: readonly CsvFile[], header: readonly string[], sqlType: (c: string) => string): string {
    const schema = `{${header.map((c) => `${sqlString(c)}: '${sqlType(c)}'`).join(', ')}}`;
    const paths = files.map((f) => sqlString(literalGlob(this.copyOf.get(f.path) ?? readPath(f))));
    // compression none: a .csv.gz file's plain copy keeps the input's name
    return (
      `read_csv([${paths.join(', ')}], header = true, auto_detect = false, compression = 'none', ` +
      `columns = ${schema}, delim = ',', quote = '"', escape = '"', strict_mode = true, ` +
      `nullstr = [${MISSING_TOKENS.map(sqlString).join(', ')}])`
    );
  }

  /** The input path of a path DuckDB names in an error. */
  original(path: string): string {
    return this.originalOf.get(path) ?? path;
  }

  /** Make LF copies of the files of `run` that mix line endings; false when none does. */
  async addMixed(run: readonly CsvFile[]): Promise<boolean> {
    let added = false;
    for (const f of run) {
      if (this.copyOf.has(f.path) || !(await mixesLineEndings(readPath(f)))) continue;
      this.dir ??= await mkdtemp(join(tmpdir(), 'mlops-lf-'));
      const copy = join(this.dir, `${this.copyOf.size}.csv`);
      await pipeline(createReadStream(readPath(f)), crlfToLf(), createWriteStream(copy));
      this.copyOf.set(f.path, copy);
      this.originalOf.set(copy, readPath(f));
      added = true;
    }
    return added;
  }

  async remove(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** A path for DuckDB's read_csv that matches only itself: glob characters as [c]. */
export const literalGlob = (path: string): string => path.replace(/[*?[]/g, '[$&]');

/** Whether a file has both CRLF and bare LF line endings. */
async function mixesLineEndings(path: string): Promise<boolean> {
  let crlf = false;
  let lf = false;
  let prev = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) {
      if ((i > 0 ? buf[i - 1] : prev) === 13) crlf = true;
      else lf = true;
      if (crlf && lf) return true;
    }
    if (buf.length) prev = buf[buf.length - 1]!;
  }
  return false;
}

/** A stream transform replacing CRLF by LF (a CR at a chunk's end is held for the next one). */
function crlfToLf(): Transform {
  let held = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let text = held ? Buffer.concat([Buffer.from([13]), chunk]) : chunk;
      held = text.length > 0 && text[text.length - 1] === 13;
      if (held) text = text.subarray(0, text.length - 1);
      done(null, Buffer.from(text.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'));
    },
    flush(done) {
      done(null, held ? Buffer.from([13]) : null);
    },
  });
}

/** Throw the label error at the first row holding a third distinct target value. */
async function checkLabels(db: Db, table: string, target: string, files: LoadedFile[]): Promise<void> {
  const id = sqlIdent(target);
  const firsts = await db.rows<{ r: bigint; v: number | string }>(
    `SELECT min(rowid) AS r, ${id} AS v FROM ${table} WHERE ${id} IS NOT NULL GROUP BY ${id} ORDER BY r LIMIT 3`,
  );
  if (firsts.length < 3) return;
  const hit = firsts[2]!;
  const { path, line } = await rowLocation(files, Number(hit.r));
  throw thirdLabelError(path, line, target, [firsts[0]!.v, firsts[1]!.v], hit.v);
}

/**
 * The file and line of a table row (rowid), as the readers name it: the path read (a plain
 * copy's, which withPlainCsv turns back into the input's).
 */
export async function rowLocation(files: readonly LoadedFile[], rowid: number): Promise<{ path: string; line: number | undefined }> {
  const file = files.findLast((f) => f.firstRow <= rowid) ?? files[0]!;
  return { path: readPath(file), line: await lineOfRow(readPath(file), rowid - file.firstRow) };
}

/** The input's SHA-256: known for a plain copy (of the input's bytes), else the hash of the file read. */
export const inputSha256 = (f: CsvFile, read: string): string => (f.plain && f.sha256 ? f.sha256 : read);

/** A .csv.gz or .parquet file reaches the readers only as a plain copy (src/data/plaincsv.ts). */
export function assertPlain(files: readonly CsvFile[]): void {
  const raw = files.find((f) => !f.plain && (dataKind(f.name) === 'csv.gz' || dataKind(f.name) === 'parquet'));
  if (raw) throw new Error(`${raw.path}: read through withPlainCsv (src/data/plaincsv.ts)`);
}

export function checkSameColumns(files: readonly CsvFile[], headers: string[][]): void {
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
        `${readPath(files[i]!)}: line 1: header ${parts.join(' and ')} compared with ${files[0]!.name}`,
        'every file in the folder must have the same columns (in any order)',
      );
    }
  }
}


/**
 * Numeric columns: those that must be, and those where at least half of the sampled non-missing
 * values are numbers (the rest are then reported as bad values, not turned into text). A column
 * with no sampled values is numeric: empty cells are how numeric data usually goes missing.
 */
export function sampleKinds(columns: string[], heads: CsvHead[], forced: Set<string>, forcedText: Set<string> = new Set()): Set<string> {
  const out = new Set<string>();
  columns.forEach((name) => {
    if (forcedText.has(name)) return;
    if (forced.has(name)) {
      out.add(name);
      return;
    }
    let present = 0;
    let numbers = 0;
    for (const h of heads) {
      const j = h.header.indexOf(name);
      for (const row of h.sample) {
        const v = row[j];
        if (v === undefined || MISSING.has(v)) continue;
        present++;
        if (plainDecimal(v) || NUMBER.test(v)) numbers++;
      }
    }
    if (present === 0 || numbers * 2 >= present) out.add(name);
  });
  return out;
}

/** Turn a DuckDB CSV error into one line naming the file, line and column. */
async function csvReadError(run: readonly CsvFile[], err: unknown, copies: LfCopies): Promise<DataError> {
  const msg = err instanceof Error ? err.message : String(err);
  const lines = msg.split('\n').map((l) => l.trim());
  const named = lines.find((l) => l.startsWith('file = '))?.slice('file = '.length);
  const fileName = named === undefined ? undefined : copies.original(named);
  const file = run.find((f) => readPath(f) === fileName) ?? (run.length === 1 ? run[0] : undefined);
  const path = (file && readPath(file)) ?? fileName ?? run.map(readPath).join(', ');
  const duckLine = /CSV Error on Line: (\d+)/.exec(msg)?.[1];
  // DuckDB's line is a record number: the file's own line, for messages (and a plain copy's rows)
  const scanned = duckLine === undefined ? undefined : await lineOfDuckDbLine(named ?? path, Number(duckLine)).catch(() => undefined);
  const lineNo = scanned ?? (duckLine === undefined ? undefined : Number(duckLine));
  const where = lineNo ? `line ${lineNo}: ` : '';
  const hint = `fix or remove that row of ${basename(path)}`;
  const conv = /Error when converting column "(.*?)"\. Could not convert string "(.*?)" to '/s.exec(msg);
  if (conv) return notANumberError(path, lineNo, conv[1]!, conv[2]!);
  const original = lines.find((l) => l.startsWith('Original Line:'))?.slice('Original Line:'.length).trim();
  const expected = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(msg);
  let detail: string;
  if (expected) detail = `expected ${expected[1]} fields, found ${expected[2]}`;
  else if (/unicode/i.test(msg)) detail = 'the file is not UTF-8 text';
  else if (/quote/i.test(msg)) detail = 'unterminated or misplaced quote';
  else detail = lines.find((l) => l && !/Error:/.test(l) && !l.startsWith('Original Line')) ?? lines[0] ?? msg;
  const shown = original && original.length <= 80 && !hasControlChars(original) ? ` (${JSON.stringify(original)})` : '';
  return new DataError(`${path}: ${where}cannot parse CSV: ${detail}${shown}`, hint);
}

const hasControlChars = (s: string) => [...s].some((ch) => ch.charCodeAt(0) < 9);

/**
 * Column summaries in two aggregates over the table, on one thread: compensated sums added in
 * row order give the same double at every run and for the same rows in any table (on two
 * threads the partial sums met in either order, and a std at a million rows changed in its last
 * digit from run to run, and between the columnar copy and the CSV); and one thread was also
 * quicker (22 against 50 ms per aggregate at a million rows, 2 cores). The first: missing counts, whether numeric
 * columns are all integral, min, max, a compensated sum, and so whether any value is infinite
 * (which DOUBLE parsing accepts but no model can use). The second: mean and standard deviation
 * by the corrected two-pass algorithm on scaled data (stats/moments.ts), which keeps its digits
 * far from zero and cannot overflow; DuckDB's stddev_samp loses half of them at 1e12 and fails on
 * 1e155.
 */
export async function checkColumns(
  db: Db,
  table: string,
  columns: readonly string[],
  numeric: ReadonlySet<string>,
  files: LoadedFile[],
): Promise<ColumnInfo[]> {
  return db.serially(() => summarise(db, table, columns, numeric, files));
}

/** checkColumns' aggregates, on one thread (see Db.serially). */
async function summarise(
  db: Db,
  table: string,
  columns: readonly string[],
  numeric: ReadonlySet<string>,
  files: LoadedFile[],
): Promise<ColumnInfo[]> {
  const aggs = columns.flatMap((c, i) => {
    const id = sqlIdent(c);
    const base = [`count(${id}) AS p${i}`];
    if (!numeric.has(c)) return base;
    return [
      ...base,
      `count_if(${id} <> trunc(${id})) AS f${i}`,
      `fsum(${id}) AS s${i}`,
      `min(${id}) AS lo${i}`,
      `max(${id}) AS hi${i}`,
    ];
  });
  type Cell = bigint | boolean | number | null;
  const [row] = (await db.rows<Record<string, Cell>>(`SELECT count(*) AS total, ${aggs.join(', ')} FROM ${table}`)) as [Record<string, Cell>];
  const total = Number(row.total);
  const num = (v: Cell | undefined) => (v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Number(v));
  const infos = columns.map((name, i): ColumnInfo => {
    const present = Number(row[`p${i}`]);
    if (!numeric.has(name)) return { name, kind: 'string', missing: total - present };
    const lo = num(row[`lo${i}`]);
    const hi = num(row[`hi${i}`]);
    const integral = present > 0 && Number(row[`f${i}`]) === 0 && Math.max(Math.abs(lo ?? 0), Math.abs(hi ?? 0)) <= 2 ** 53;
    return { name, kind: integral ? 'integer' : 'float', missing: total - present, mean: null, std: null, min: lo, max: hi };
  });
  // min and max are not finite exactly when some value is infinite or NaN
  const bad = infos.some((c, i) => c.kind !== 'string' && Number(row[`p${i}`]) > 0 && (c.min === null || c.max === null));
  if (bad) await reportNonFinite(db, table, columns.filter((c) => numeric.has(c)), files);

  // pass 2; a double goes into the SQL as text: a bare literal would be read as DECIMAL
  const dbl = (v: number) => `'${v}'::DOUBLE`;
  const plans = infos.flatMap((c, i) => {
    if (c.kind === 'string' || c.min == null || c.max == null) return [];
    const count = total - c.missing;
    const at = centring(count, c.min, c.max, Number(row[`s${i}`]));
    return [{ c, count, at, i, d: `${sqlIdent(c.name)} * ${dbl(at.inverse)} - ${dbl(at.centre * at.inverse)} AS d${i}` }];
  });
  if (plans.length) {
    const sums = plans.map(({ i }) => `fsum(d${i}) AS d${i}, fsum(d${i} * d${i}) AS q${i}`);
    const [m] = (await db.rows<Record<string, number | null>>(
      `SELECT ${sums.join(', ')} FROM (SELECT ${plans.map((p) => p.d).join(', ')} FROM ${table})`,
    )) as [Record<string, number | null>];
    for (const { c, count, at, i } of plans) {
      const mo = finishMoments(count, c.min!, c.max!, at, Number(m[`d${i}`]), Number(m[`q${i}`]));
      const sd = momentsStd(mo, 1);
      c.mean = Number.isFinite(mo.mean) ? mo.mean : null;
      c.std = Number.isFinite(sd) ? sd : null;
    }
  }
  return infos;
}

/** Throw a DataError naming the file, line and column of the first infinite or NaN value. */
async function reportNonFinite(db: Db, table: string, numeric: readonly string[], files: LoadedFile[]): Promise<void> {
  for (const col of numeric) {
    const [hit] = await db.rows<{ r: bigint; v: number }>(
      `SELECT rowid AS r, ${sqlIdent(col)} AS v FROM ${table} WHERE NOT isfinite(${sqlIdent(col)}) ORDER BY rowid LIMIT 1`,
    );
    if (!hit) continue;
    const { path, line } = await rowLocation(files, Number(hit.r));
    throw notFiniteError(path, line, col, hit.v);
  }
}

/** SQL select expressions that write a loaded table back with integral columns as integers. */
export function outputColumns(columns: readonly ColumnInfo[]): string[] {
  return columns.map((c) => (c.kind === 'integer' ? `CAST(${sqlIdent(c.name)} AS BIGINT) AS ${sqlIdent(c.name)}` : sqlIdent(c.name)));
}

/**
 * Read numeric columns of a table or view as Float64Arrays, missing values as NaN, in row order.
 * Reads DuckDB's vectors chunk by chunk and copies their buffers; no row objects are built.
 */
export async function readFloatColumns(db: Db, from: string, columns: readonly string[], rows?: number): Promise<Float64Array[]> {
  const ncols = columns.length;
  // coalesce to NaN so every slot of the vectors is valid and the raw buffers can be copied.
  const select = columns.map((c) => `coalesce(CAST(${sqlIdent(c)} AS DOUBLE), 'NaN'::DOUBLE)`).join(', ');
  const result = await db.conn.stream(`SELECT ${select} FROM ${from}`);
  // With the row count known, copy each vector straight into its place; otherwise grow.
  let out = Array.from({ length: ncols }, () => new Float64Array(rows ?? 1 << 16));
  let off = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    if (off + n > out[0]!.length) {
      out = out.map((col) => {
        const bigger = new Float64Array(Math.max(off + n, col.length * 2));
        bigger.set(col.subarray(0, off));
        return bigger;
      });
    }
    for (let c = 0; c < ncols; c++) {
      const vec = chunk.getColumnVector(c);
      const items = (vec as unknown as { items?: unknown }).items;
      const col = out[c]!;
      if (items instanceof Float64Array) col.set(items.subarray(0, n), off);
      else for (let i = 0; i < n; i++) col[off + i] = Number(vec.getItem(i));
    }
    off += n;
  }
  return out.map((col) => (col.length === off ? col : col.slice(0, off)));
}

/**
 * Stream every column of a table, in row order, into a columnar copy (data/columnar.ts):
 * numeric ones as the CSV reader reads them back (integral columns through BIGINT, as
 * outputColumns writes them, so -0 becomes 0), string ones as text. One scan. `seen` is shown
 * each batch of a numeric column's values too.
 */
export async function streamColumns(
  db: Db,
  from: string,
  columns: readonly ColumnInfo[],
  out: CopyWriter,
  seen?: (j: number, values: Float64Array, n: number) => void,
): Promise<void> {
  const select = columns.map((c) => {
    const id = sqlIdent(c.name);
    if (c.kind === 'string') return id;
    const v = c.kind === 'integer' ? `CAST(CAST(${id} AS BIGINT) AS DOUBLE)` : id;
    return `coalesce(${v}, 'NaN'::DOUBLE)`;
  });
  const result = await db.conn.stream(`SELECT ${select.join(', ')} FROM ${from}`);
  const scratch = new Float64Array(2048);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    for (const [j, c] of columns.entries()) {
      const vec = chunk.getColumnVector(j);
      if (c.kind === 'string') {
        const { valid, lengths, bytes } = stringBytes(vec, n);
        await out.strings(j, valid, lengths, bytes, n);
        continue;
      }
      const items = (vec as unknown as { items?: unknown }).items;
      let values: Float64Array;
      if (items instanceof Float64Array) values = items;
      else {
        values = n <= scratch.length ? scratch : new Float64Array(n);
        for (let i = 0; i < n; i++) values[i] = Number(vec.getItem(i));
      }
      seen?.(j, values, n);
      await out.numbers(j, values, n);
    }
    out.endBatch(n);
  }
}

interface RawVarChar {
  dataView?: unknown;
  validity?: { itemValid?: (i: number) => boolean };
  getItem(i: number): unknown;
}

const encoder = new TextEncoder();

/**
 * The UTF-8 bytes of a VARCHAR vector's first `n` values, with validity and lengths. DuckDB keeps
 * a string of up to 12 bytes inside the vector's 16-byte entry (a uint32 length, then the
 * bytes): those are copied as they are, longer ones decoded by the vector; no JavaScript string
 * is made for the short ones (identifiers, codes, categories).
 */
function stringBytes(vector: unknown, n: number): { valid: Uint8Array; lengths: Uint32Array; bytes: Uint8Array } {
  const vec = vector as RawVarChar;
  const valid = new Uint8Array(n);
  const lengths = new Uint32Array(n);
  const dv = vec.dataView instanceof DataView && typeof vec.validity?.itemValid === 'function' ? vec.dataView : null;
  if (!dv) {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const v = vec.getItem(i) as string | null;
      if (v === null) continue;
      const b = encoder.encode(v);
      valid[i] = 1;
      lengths[i] = b.length;
      parts.push(b);
    }
    return { valid, lengths, bytes: Buffer.concat(parts) };
  }
  // pass 1: validity and lengths, decoding only the long strings; pass 2: copy the bytes
  const long = new Map<number, Uint8Array>();
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (!vec.validity!.itemValid!(i)) continue;
    let len = dv.getUint32(i * 16, true);
    if (len > 12) {
      const b = encoder.encode(vec.getItem(i) as string);
      long.set(i, b);
      len = b.length;
    }
    valid[i] = 1;
    lengths[i] = len;
    size += len;
  }
  const raw = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
  const bytes = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const len = lengths[i]!;
    if (len === 0) continue;
    if (len > 12 || long.has(i)) {
      bytes.set(long.get(i)!, at);
    } else {
      const from = i * 16 + 4;
      for (let k = 0; k < len; k++) bytes[at + k] = raw[from + k]!;
    }
    at += len;
  }
  return { valid, lengths, bytes };
}
