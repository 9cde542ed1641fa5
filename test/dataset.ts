/**
 * The features and 0/1 labels of CSV files through the product's readers (src/data/read.ts), as
 * a model with labels 0/1 and every numeric column as a feature would read them: for the tests
 * that compare the JavaScript and DuckDB readers.
 */
import type { CsvFile } from '../src/data/csvfiles.js';
import type { Db } from '../src/data/duck.js';
import { withFrame } from '../src/data/read.js';
import type { LoadedTable } from '../src/data/table.js';

export interface DatasetSpec {
  target: string;
  /** Feature columns, read as numbers whatever they look like; default every numeric column. */
  features?: string[];
  name: string;
}

export interface Dataset {
  table: LoadedTable;
  features: string[];
  X: Float64Array[];
  y: Float64Array;
  rows: number;
  unlabelled: number;
}

export function readDataset(files: readonly CsvFile[], spec: DatasetSpec, db?: Db): Promise<Dataset> {
  return withFrame(
    files,
    { name: spec.name, numeric: [spec.target, ...(spec.features ?? [])], text: [], labels: spec.target },
    async (frame) => {
      const features = spec.features ?? frame.table.columns.filter((c) => c.kind !== 'string' && c.name !== spec.target).map((c) => c.name);
      const all = await frame.numeric(features);
      const yAll = await frame.labels(spec.target, { negative: 0, positive: 1 });
      const keep: number[] = [];
      for (let i = 0; i < yAll.length; i++) if (yAll[i] === yAll[i]) keep.push(i);
      const pick = (c: Float64Array) => Float64Array.from(keep, (i) => c[i]!);
      return { table: frame.table, features, X: all.map(pick), y: pick(yAll), rows: keep.length, unlabelled: yAll.length - keep.length };
    },
    db,
  );
}
