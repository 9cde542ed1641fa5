/**
 * A model's inputs (and the target, and id columns) read from data files, the one way score,
 * predict, diagnose and the server's batch route read them: the model's columns are checked to
 * be there, categorical inputs are read as text, numeric ones as numbers, labels by the model's
 * own label map (a value that is neither class is an error naming file and line).
 */
import { DataError } from '../errors.js';
import type { CsvFile } from '../data/csvfiles.js';
import type { Db } from '../data/duck.js';
import type { LoadedTable } from '../data/table.js';
import { filesWhere, withFrame } from '../data/read.js';
import { encodeFrame } from '../model/family.js';
import { phase } from '../progress.js';
import type { ModelFile } from '../model/modelfile.js';

export interface ModelData {
  table: LoadedTable;
  /** Encoded inputs (src/model/family.ts), unlabelled rows dropped when a target was read. */
  X: Float64Array[];
  /** Values of categorical inputs outside the model's levels, per input. */
  unseen: Record<string, number>;
  /** The target (1/0 for classification), or null. */
  y: Float64Array | null;
  /** Id columns present in the data, as text. */
  ids: Record<string, (string | null)[]>;
  rows: number;
  unlabelled: number;
}

export async function readForModel(
  model: ModelFile,
  files: readonly CsvFile[],
  opts: { name: string; target: boolean; ids?: boolean },
  db?: Db,
): Promise<ModelData> {
  const numeric = model.inputs.filter((s) => s.kind === 'numeric').map((s) => s.name);
  // Id columns as text: their values come back exactly as written (see textColumns).
  const text = [...model.inputs.filter((s) => s.kind === 'categorical').map((s) => s.name), ...model.id_columns];
  if (opts.target && model.task === 'regression') numeric.push(model.target);
  const spec = { name: opts.name, numeric, text, labels: opts.target && model.task === 'classification' ? model.target : null };
  return withFrame(files, spec, async (frame) => {
    const where = filesWhere(files);
    const names = new Set(frame.table.columns.map((c) => c.name));
    if (opts.target && !names.has(model.target)) {
      throw new DataError(`${where}: no target column "${model.target}"`, `the data must hold the label column (columns: ${[...names].join(', ')})`);
    }
    const missing = model.features.filter((f) => !names.has(f));
    if (missing.length) {
      throw new DataError(
        `${where}: missing feature column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`,
        'the data must hold every column the model was trained on',
      );
    }
    const enc = await encodeFrame(model.inputs, frame);
    const unseen = enc.unseen;
    let X = enc.X;
    const ids: Record<string, (string | null)[]> = {};
    if (opts.ids) for (const c of model.id_columns) if (names.has(c)) ids[c] = await frame.text(c);
    let y: Float64Array | null = null;
    let unlabelled = 0;
    if (opts.target) {
      const all = model.task === 'classification' ? await frame.labels(model.target, model.labels!) : (await frame.numeric([model.target]))[0]!;
      for (let i = 0; i < all.length; i++) if (all[i] !== all[i]) unlabelled++;
      y = all;
      if (unlabelled > 0) {
        const keep: number[] = [];
        for (let i = 0; i < all.length; i++) if (all[i] === all[i]) keep.push(i);
        const pick = (col: Float64Array) => Float64Array.from(keep, (i) => col[i]!);
        X = X.map(pick);
        y = pick(all);
        for (const c of Object.keys(ids)) ids[c] = keep.map((i) => ids[c]![i]!);
      }
    }
    phase(`read: ${files[0]!.name}${files.length > 1 ? ` and ${files.length - 1} more` : ''}`);
    return { table: frame.table, X, unseen, y, ids, rows: y ? y.length : (X[0]?.length ?? frame.table.rows), unlabelled };
  }, db);
}
