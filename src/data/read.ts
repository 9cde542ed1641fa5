/**
 * Data files as a Frame for the model code: small inputs read in JavaScript, larger ones by
 * DuckDB (in `db` when given, else in a database opened for the call), with the same rules and
 * messages (src/data/table.ts, src/data/smallcsv.ts). .csv.gz and .parquet files are read as
 * plain CSV copies (src/data/plaincsv.ts); a Parquet file always takes DuckDB (which copies it).
 */
import type { CsvFile } from './csvfiles.js';
import { withDb, type Db } from './duck.js';
import { arrayFrame, duckFrame, type Frame } from './frame.js';
import { needsDb, withPlainCsv } from './plaincsv.js';
import { loadSmallCsv, SMALL_CSV_BYTES } from './smallcsv.js';
import { loadCsvTable } from './table.js';

export interface ReadSpec {
  /** Table name in the database. */
  name: string;
  /** Columns that must be numbers (a regression target, a model's numeric inputs). */
  numeric: readonly string[];
  /** Columns read as text (categorical inputs). */
  text: readonly string[];
  /** A classification target: at most two distinct values, checked with file and line. */
  labels: string | null;
}

export async function withFrame<T>(files: readonly CsvFile[], spec: ReadSpec, fn: (frame: Frame) => Promise<T>, db?: Db): Promise<T> {
  const viaDuckDb = async (d: Db, plain: readonly CsvFile[]) => {
    const table = await loadCsvTable(d, plain, { name: spec.name, numeric: spec.numeric, text: spec.text, labels: spec.labels });
    return fn(duckFrame(d, table));
  };
  if (!db && !needsDb(files)) {
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
