/** Feature matrix and labels from CSV files, checked against what the model needs. */
import { DataError } from '../errors.js';
import { phase } from '../progress.js';
import type { CsvFile } from './csvfiles.js';
import type { Db } from './duck.js';
import { loadCsvTable, readFloatColumns, type LoadedTable } from './table.js';
import { loadSmallCsv, SMALL_CSV_BYTES } from './smallcsv.js';

export interface DatasetSpec {
  /** Label column; null when the data need not have one (prediction). */
  target: string | null;
  /** Feature columns; null for "every numeric column except the target". */
  features: readonly string[] | null;
  /** Table name in the database. */
  name: string;
}

export interface Dataset {
  table: LoadedTable;
  features: string[];
  /** One column per feature, NaN where missing. */
  X: Float64Array[];
  /** Labels (0/1), or null without a target. Rows with a missing label are already dropped. */
  y: Float64Array | null;
  rows: number;
  /** Rows dropped for a missing label. */
  unlabelled: number;
}

/**
 * Read the features (and labels) of CSV files. Small inputs are read in JavaScript, larger ones
 * by DuckDB (in `db` when given, else in a database opened for the call).
 */
export async function readDataset(files: readonly CsvFile[], spec: DatasetSpec, db?: Db): Promise<Dataset> {
  const numeric = [...(spec.target ? [spec.target] : []), ...(spec.features ?? [])];
  if (!db && files.reduce((sum, f) => sum + f.size, 0) <= SMALL_CSV_BYTES) {
    const { table, values } = await loadSmallCsv(files, numeric, spec.target);
    return assemble(files, spec, table, async (cols) => cols.map((c) => values.get(c)!));
  }
  const viaDuckDb = async (d: Db) => {
    const table = await loadCsvTable(d, files, { name: spec.name, numeric, numericOnly: true, labels: spec.target });
    return assemble(files, spec, table, (cols) => readFloatColumns(d, table.view, cols, table.rows));
  };
  if (db) return viaDuckDb(db);
  const { withDb } = await import('./duck.js');
  return withDb(viaDuckDb);
}

/** Check target and features against the loaded table, read their columns, check the labels. */
async function assemble(
  files: readonly CsvFile[],
  spec: DatasetSpec,
  table: LoadedTable,
  read: (cols: string[]) => Promise<Float64Array[]>,
): Promise<Dataset> {
  const where = files.length === 1 ? files[0]!.path : `${files[0]!.path} (and ${files.length - 1} more)`;
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  if (spec.target && !byName.has(spec.target)) {
    throw new DataError(
      `${where}: no target column "${spec.target}"`,
      `set "target" in config.json to the label column (columns: ${table.columns.map((c) => c.name).join(', ')})`,
    );
  }
  let features: string[];
  if (spec.features) {
    const missing = spec.features.filter((f) => !byName.has(f));
    if (missing.length) {
      throw new DataError(
        `${where}: missing feature column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`,
        'the data must hold every column the model was trained on',
      );
    }
    features = [...spec.features];
  } else {
    features = table.columns.filter((c) => c.kind !== 'string' && c.name !== spec.target).map((c) => c.name);
    if (features.length === 0) {
      throw new DataError(`${where}: no numeric feature columns besides the target`, 'set "features" in config.json');
    }
  }
  const cols = spec.target ? [...features, spec.target] : features;
  phase('dataset: table loaded');
  const data = await read(cols);
  phase('dataset: columns read');
  let X = data.slice(0, features.length);
  let y: Float64Array | null = null;
  let unlabelled = 0;
  if (spec.target) {
    const yAll = data[features.length]!;
    // the loaders refused values other than 0, 1 and missing (src/data/labels.ts), with file and line
    let unlabelledSeen = 0;
    for (let i = 0; i < yAll.length; i++) if (Number.isNaN(yAll[i]!)) unlabelledSeen++;
    unlabelled = unlabelledSeen;
    y = yAll;
    if (unlabelled > 0) {
      const keep = new Int32Array(yAll.length - unlabelled);
      let k = 0;
      for (let i = 0; i < yAll.length; i++) if (!Number.isNaN(yAll[i]!)) keep[k++] = i;
      const pick = (col: Float64Array) => Float64Array.from(keep, (i) => col[i]!);
      X = X.map(pick);
      y = pick(yAll);
    }
  }
  return { table, features, X, y, rows: y ? y.length : (X[0]?.length ?? 0), unlabelled };
}

/** Replace NaN in each column by the given value (in place). */
export function imputeInPlace(X: Float64Array[], fill: readonly number[]): void {
  X.forEach((col, j) => {
    const v = fill[j]!;
    for (let i = 0; i < col.length; i++) if (col[i] !== col[i]) col[i] = v;
  });
}

/** Mean of the non-missing values of a column (NaN when all are missing). */
export function nanMean(col: Float64Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < col.length; i++) {
    const v = col[i]!;
    if (v === v) {
      s += v;
      n++;
    }
  }
  return n === 0 ? Number.NaN : s / n;
}
