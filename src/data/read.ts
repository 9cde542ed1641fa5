/**
 * Data files as a Frame for the model code: small inputs read in JavaScript, larger ones by
 * DuckDB (in `db` when given, else in a database opened for the call), with the same rules and
 * messages (src/data/table.ts, src/data/smallcsv.ts).
 */
import type { CsvFile } from './csvfiles.js';
import type { Db } from './duck.js';
import { arrayFrame, duckFrame, type Frame } from './frame.js';
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
  if (!db && files.reduce((sum, f) => sum + f.size, 0) <= SMALL_CSV_BYTES) {
    const { table, values, text } = await loadSmallCsv(files, spec.numeric, spec.labels, spec.text);
    return fn(arrayFrame(table, values, text));
  }
  const viaDuckDb = async (d: Db) => {
    const table = await loadCsvTable(d, files, { name: spec.name, numeric: spec.numeric, text: spec.text, labels: spec.labels });
    return fn(duckFrame(d, table));
  };
  if (db) return viaDuckDb(db);
  const { withDb } = await import('./duck.js');
  return withDb(viaDuckDb);
}

/** Where a set of files is, for messages: the one file, or the first and how many more. */
export const filesWhere = (files: readonly CsvFile[]): string =>
  files.length === 1 ? files[0]!.path : `${files[0]!.path} (and ${files.length - 1} more)`;
