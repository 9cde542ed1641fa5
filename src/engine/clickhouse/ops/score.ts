/**
 * `mlops score` and `mlops predict` on a ClickHouse engine. The data is the engine's table (the
 * loop's new data: `score --data` given dataLabel) or local files uploaded to a scratch table for
 * the command (the test set, a file to predict). Metrics are aggregates of the model's SQL
 * (../score.ts); predictions come back one row each because they are the output.
 */
import { DataError } from '../../../errors.js';
import { csvFilesAt, type CsvFile } from '../../../data/csvfiles.js';
import { outputLabel } from '../../../model/family.js';
import type { ModelFile } from '../../../model/modelfile.js';
import type { Config } from '../../../store/config.js';
import { dataHash } from '../../../store/evaluations.js';
import type { Evaluated } from '../../../ops/score.js';
import type { ClickHouse } from '../client.js';
import { ROW_COLUMN } from '../ingest.js';
import { linearDefs, probabilityDefs, regressionScoreOnEngine, scoreOnEngine, type LinearForm } from '../score.js';
import { chIdent, withSql } from '../sql.js';
import { checkModelColumns, dataLabel, dataTable, fingerprint, linearFormOf, withClickHouse, withUploaded } from './project.js';

/** Metrics of the model on the labelled rows of `from`, in the order of the score history. */
async function metricsOnEngine(ch: ClickHouse, from: string, model: ModelFile, form: LinearForm): Promise<Pick<Evaluated, 'rows' | 'metrics' | 'confusion'>> {
  if (model.task === 'classification') {
    const s = await scoreOnEngine(ch, from, model.target, { ...form, threshold: model.threshold });
    return { rows: s.rows, metrics: { f1: s.f1, precision: s.precision, recall: s.recall, accuracy: s.accuracy, roc_auc: s.roc_auc, log_loss: s.log_loss }, confusion: s.confusion };
  }
  const r = await regressionScoreOnEngine(ch, from, model.target, form);
  return { rows: r.rows, metrics: { r2: r.r2, sse: r.sse, rmse: r.rmse, mae: r.mae, mape: r.mape }, confusion: null };
}

/** The numeric columns a model reads from a file: its inputs, and the target when scoring. */
const numericOf = (model: ModelFile, target: boolean) => [...model.features, ...(target ? [model.target] : [])];

/** The model's metrics on `folder` (files, or dataLabel for the engine's table). */
export async function evaluateOnClickHouse(cfg: Config, model: ModelFile, folder: string): Promise<Evaluated> {
  return withClickHouse(cfg, async (ch, engine) => {
    const form = linearFormOf(model, folder);
    if (folder === dataLabel(engine)) {
      const { table, from, columns } = await dataTable(ch, engine, 'score');
      checkModelColumns(model, new Set(columns.map((c) => c.name)), folder, true);
      const m = await metricsOnEngine(ch, from, model, form);
      if (m.rows === 0) throw new DataError(`${folder}: no rows with a label in "${model.target}"`, 'add labelled rows');
      const { sha256 } = await fingerprint(ch, from, columns, 'score');
      return { ...m, dataFiles: [{ name: `${engine.database}.${table}`, sha256, rows: m.rows }], data_sha256: sha256 };
    }
    const files = await csvFilesAt(folder);
    const labels = model.task === 'classification' ? model.target : null;
    return withUploaded(ch, engine, files, { numeric: numericOf(model, true), labels, step: 'score' }, async (up) => {
      checkModelColumns(model, new Set(up.columns.map((c) => c.name)), folder, true);
      const m = await metricsOnEngine(ch, up.from, model, form);
      if (m.rows === 0) throw new DataError(`${folder}: no test rows with a label in "${model.target}"`, 'add labelled rows');
      const dataFiles = up.files.map((f) => ({ name: f.name, sha256: f.sha256, rows: f.rows }));
      return { ...m, dataFiles, data_sha256: dataHash(dataFiles) };
    });
  });
}

export interface EnginePredictions {
  /** Probability of class 1, or the predicted value, per row in file order. */
  values: number[];
  ids: Record<string, (string | null)[]>;
}

/** The model's predictions for a file, computed by the engine, in file order. */
export async function predictOnClickHouse(cfg: Config, model: ModelFile, file: CsvFile): Promise<EnginePredictions> {
  return withClickHouse(cfg, async (ch, engine) => {
    const form = linearFormOf(model, file.path);
    return withUploaded(ch, engine, [file], { numeric: numericOf(model, false), labels: null, step: 'predict' }, async (up) => {
      const names = new Set(up.columns.map((c) => c.name));
      checkModelColumns(model, names, file.path, false);
      const ids = model.id_columns.filter((c) => names.has(c));
      const defs = model.task === 'classification' ? probabilityDefs(form) : [...linearDefs(form), ['p', 'z'] as [string, string]];
      const keep = ids.map((c, k) => `toString(${chIdent(c)}) AS id${k}, `).join('');
      const rows = await ch.query<Record<string, string | number | null>>(
        `${withSql(defs)}SELECT ${keep}p FROM ${up.from} ORDER BY ${chIdent(ROW_COLUMN)}`,
        'predict',
      );
      return {
        values: rows.map((r) => Number(r.p)),
        ids: Object.fromEntries(ids.map((c, k) => [c, rows.map((r) => (r[`id${k}`] === null || r[`id${k}`] === undefined ? null : String(r[`id${k}`])))])),
      };
    });
  });
}

/** Predictions as `mlops predict` returns them: labels (or values) and probabilities. */
export function predictionsOf(model: ModelFile, values: readonly number[]): { predictions: (number | string)[]; probabilities: number[] | null } {
  return { predictions: values.map((p) => outputLabel(model, p)), probabilities: model.task === 'classification' ? [...values] : null };
}
