/**
 * Data files as a Frame for the model code: small inputs read in JavaScript, larger ones by
 * DuckDB (in `db` when given, else in a database opened for the call), with the same rules and
 * messages (src/data/table.ts, src/data/smallcsv.ts). .csv.gz and .parquet files are read as
 * plain CSV copies (src/data/plaincsv.ts); a Parquet file always takes DuckDB (which copies it).
 */
import type { CsvFile } from './csvfiles.js';
import { withDb, type Db } from './duck.js';
import { openCopy, type ColumnarHeader } from './columnar.js';
import { arrayFrame, duckFrame, lazyFrame, type Frame } from './frame.js';
import { phase } from '../progress.js';
import { needsDb, withPlainCsv } from './plaincsv.js';
import { loadSmallCsv, SMALL_CSV_BYTES } from './smallcsv.js';
import { loadCsvTable, type ColumnInfo, type LoadedTable } from './table.js';

export interface ReadSpec {
  /** Table name in the database. */
  name: string;
  /** Columns that must be numbers (a regression target, a model's numeric inputs). */
  numeric: readonly string[];
  /** Columns read as text (categorical inputs). */
  text: readonly string[];
  /** A classification target: at most two distinct values, checked with file and line. */
  labels: string | null;
  /**
   * The numeric columns must come with their summaries (mean, std, min, max: ColumnInfo), as
   * the columnar copy and DuckDB give them; the small-file reader does not compute them.
   */
  summaries?: boolean;
}

/** Thrown by a copy frame that cannot answer as the CSV would (a damaged block); the CSV is read then. */
class NotFromCopy extends Error {}

/**
 * A frame over the columnar copy beside an ingested CSV (src/data/columnar.ts) when it holds
 * that file's content now and can answer this request as the CSV reader would: every column
 * must have the kind a read of the CSV with this request's forced kinds would give it, and the
 * labels must be the ones ingest checked. Null otherwise.
 */
async function copyFrame(file: CsvFile, spec: ReadSpec): Promise<Frame | null> {
  const copy = await openCopy(file.path);
  if (!copy || copy.header.rows === 0) return null;
  const h = copy.header;
  if (!h.columns.every((c) => (c.kind === 'string') === readsAsText(h, spec, c.name))) return null;
  if (spec.labels !== null && h.columns.some((c) => c.name === spec.labels) && spec.labels !== h.labels) return null;
  const columns: ColumnInfo[] = h.columns.map(({ blocks: _blocks, ...info }) => info);
  const table: LoadedTable = { view: '', columns, files: [{ ...file, rows: h.rows, sha256: h.csv.sha256, firstRow: 0 }], rows: h.rows };
  return lazyFrame(
    table,
    async (c) => {
      const [v] = (await copy.readNumbers([c])) ?? [];
      if (!v) throw new NotFromCopy();
      return v;
    },
    async (c) => {
      const t = await copy.readStrings(c);
      if (!t) throw new NotFromCopy();
      return t;
    },
    h.stats && h.stats.length === columns.length ? h.stats : undefined,
  );
}

/**
 * Whether a read of the CSV with this request's forced kinds takes a column for text (as
 * data/table.ts sampleKinds decides); undefined when the copy cannot tell (a copy from before
 * the sampled kinds were recorded, and a column forced there but not here).
 */
function readsAsText(h: ColumnarHeader, spec: ReadSpec, name: string): boolean | undefined {
  if (spec.text.includes(name)) return true;
  if (spec.numeric.includes(name)) return false;
  if (h.sampled_numeric) return !h.sampled_numeric.includes(name);
  const forced = h.forced_numeric.includes(name) || (h.forced_text ?? []).includes(name);
  return forced ? undefined : h.columns.find((c) => c.name === name)!.kind === 'string';
}

export async function withFrame<T>(files: readonly CsvFile[], spec: ReadSpec, fn: (frame: Frame) => Promise<T>, db?: Db): Promise<T> {
  // (for MLOPS_TIMING: what came before is the verb's own, what follows is reading)
  phase(`${spec.name}: before reading`);
  // the columnar copy of an ingested file: no parsing; a damaged block falls back to the CSV
  if (files.length === 1 && /\.csv$/i.test(files[0]!.path)) {
    const frame = await copyFrame(files[0]!, spec);
    if (frame) {
      try {
        phase(`read: columnar copy of ${files[0]!.name}`);
        return await fn(frame);
      } catch (err) {
        if (!(err instanceof NotFromCopy)) throw err;
        phase('read: columnar copy unusable, reading the CSV');
      }
    }
  }
  const viaDuckDb = async (d: Db, plain: readonly CsvFile[]) => {
    const table = await loadCsvTable(d, plain, { name: spec.name, numeric: spec.numeric, text: spec.text, labels: spec.labels });
    return fn(duckFrame(d, table));
  };
  if (!db && !needsDb(files) && !spec.summaries) {
    return withPlainCsv(files, null, async (plain, bytes) => {
      if (bytes > SMALL_CSV_BYTES) return withDb((d) => viaDuckDb(d, plain));
      const { table, values, text } = await loadSmallCsv(plain, spec.numeric, spec.labels, spec.text);
      return fn(arrayFrame(table, values, text));
    });
  }
  const inDb = (d: Db) => withPlainCsv(files, d, (plain) => viaDuckDb(d, plain));
  return db ? inDb(db) : withDb(inDb);
}

/** Where a set of files is, for messages: the one file, or the first and how many more. */
export const filesWhere = (files: readonly CsvFile[]): string =>
  files.length === 1 ? files[0]!.path : `${files[0]!.path} (and ${files.length - 1} more)`;
