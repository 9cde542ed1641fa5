/**
 * mlops diagnose: predictions of the deployed model on the test data, summary statistics and
 * missing data of finaldata.csv, timings, dependency status, and stability against the
 * previous ingestion. Writes diagnostics.json to output_model_path.
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TOOLKIT_ROOT, MLOPS_BIN } from '../toolkit.js';
import { StateError, DataError } from '../errors.js';
import { listCsvFiles } from '../data/csvfiles.js';
import { sqlIdent, sqlString, withDb } from '../data/duck.js';
import { duckFrame } from '../data/frame.js';
import { loadCsvTable, outputColumns } from '../data/table.js';
import { outputLabel, predictEncoded } from '../model/family.js';
import { decideRoles, type ColumnRole } from '../model/roles.js';
import { readForModel } from './modeldata.js';
import { dependencyStatus, type DependencyReport } from '../diagnostics/dependencies.js';
import { compareIngestions, type StabilityReport } from '../diagnostics/stability.js';
import { measureTimings, recordedTimings, type Timings } from '../diagnostics/timing.js';
import { appendJsonLine, commitTempFile, tempPathFor, writeFileAtomic } from '../store/atomic.js';
import { readLog } from '../store/statefile.js';
import type { Config } from '../store/config.js';
import { INGESTION_RECORD, paths } from '../store/records.js';
import { currentReleaseDir } from '../store/releases.js';
import { loadModelFrom } from './modelchoice.js';
import { diagnoseDataOnClickHouse } from '../engine/clickhouse/ops/diagnose.js';


export interface DiagnoseOptions {
  config: Config;
  /** Re-run ingest and train on a scratch copy and time them. */
  time?: boolean;
  repeat?: number;
  /** Write a mean-imputed copy of finaldata.csv. */
  impute?: 'mean';
  /** Registry timeout for the dependency table. */
  registryTimeoutMs?: number;
}

export interface ColumnStatistics {
  column: string;
  count: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  q25: number | null;
  median: number | null;
  q75: number | null;
  max: number | null;
}

export interface DiagnoseResult {
  timestamp: string;
  data: string;
  predictions: {
    model: string;
    release: string;
    data_files: string[];
    predictions: (number | string)[];
    probabilities: number[] | null;
    /** Categorical values of the test data outside the model's levels (predicted as "other"), per feature. */
    unseen_levels: Record<string, number>;
  } | null;
  /** Every column's role in finaldata.csv (as train decides it) and why. */
  roles: ColumnRole[];
  summary: ColumnStatistics[];
  missing: { column: string; missing: number; percent: number }[];
  rows: number;
  timings: Timings;
  dependencies: DependencyReport;
  stability: StabilityReport;
  imputed: { output: string; columns: { column: string; filled: number; value: number }[] } | null;
  notes: string[];
  output: string;
}

export const IMPUTED_DATA = 'finaldata_imputed.csv';
const DIAGNOSTICS = 'diagnostics.json';

export async function diagnose(opts: DiagnoseOptions): Promise<DiagnoseResult> {
  const cfg = opts.config;
  const p = paths(cfg);
  const notes: string[] = [];
  // on ClickHouse the data is the engine's table: its summaries are aggregates of the engine
  const onEngine = cfg.engine.type === 'clickhouse';
  const st = onEngine ? null : await stat(p.finalData).catch(() => null);
  if (!onEngine && !st) throw new StateError(`${p.finalData}: no ingested data to diagnose`, 'run `mlops ingest` first');
  const deps = dependencyStatus(TOOLKIT_ROOT, opts.registryTimeoutMs);

  const { summary, missing, rows, imputed, roles, data } = onEngine ? await diagnoseDataOnClickHouse(cfg, opts) : await withDb(async (db) => {
    const table = await loadCsvTable(db, [{ path: p.finalData, name: basename(p.finalData), size: st!.size }], {
      name: 'final',
      numeric: cfg.task === 'regression' ? [cfg.target] : [],
      text: cfg.categorical,
    });
    const roles = decideRoles(await duckFrame(db, table).stats(), cfg);
    const numeric = table.columns.filter((c) => c.kind !== 'string');
    // count, mean, std, min and max come with the loaded table (stable two-pass, see
    // data/table.ts); the quartiles take one aggregate state per column (each holds the values)
    const quartiles = numeric.map((c, i) => `quantile_cont(${sqlIdent(c.name)}, [0.25, 0.5, 0.75]) AS q${i}`);
    type Cell = (number | null)[] | null;
    const [row] = quartiles.length
      ? ((await db.rows<Record<string, Cell>>(`SELECT ${quartiles.join(', ')} FROM ${table.view}`)) as [Record<string, Cell>])
      : [{} as Record<string, Cell>];
    const quart = (i: number, k: number) => {
      const q = row[`q${i}`];
      return Array.isArray(q) && q[k] !== null && q[k] !== undefined ? Number(q[k]) : null;
    };
    const summary: ColumnStatistics[] = numeric.map((c, i) => ({
      column: c.name,
      count: table.rows - c.missing,
      mean: c.mean ?? null,
      std: c.std ?? null,
      min: c.min ?? null,
      q25: quart(i, 0),
      median: quart(i, 1),
      q75: quart(i, 2),
      max: c.max ?? null,
    }));
    const missing = table.columns.map((c) => ({
      column: c.name,
      missing: c.missing,
      percent: table.rows === 0 ? 0 : (100 * c.missing) / table.rows,
    }));
    let imputed: DiagnoseResult['imputed'] = null;
    if (opts.impute === 'mean') {
      const target = join(cfg.output_folder_path, IMPUTED_DATA);
      const tmp = tempPathFor(target);
      const fills = numeric
        .map((c) => ({ column: c.name, filled: c.missing, value: c.mean ?? null }))
        .filter((f) => f.filled > 0);
      const unfillable = fills.find((f) => f.value === null);
      if (unfillable) throw new DataError(`${p.finalData}: column "${unfillable.column}" has no values to take a mean of`, 'drop the column');
      const fillOf = new Map(fills.map((f) => [f.column, f.value!]));
      const cols = outputColumns(table.columns).map((expr, j) => {
          const c = table.columns[j]!;
          const v = fillOf.get(c.name);
          return v === undefined ? expr : `coalesce(${sqlIdent(c.name)}, ${v}) AS ${sqlIdent(c.name)}`;
        });
      await db.exec(`COPY (SELECT ${cols.join(', ')} FROM ${table.view}) TO ${sqlString(tmp)} (FORMAT csv, HEADER true)`);
      await commitTempFile(tmp, target);
      imputed = { output: target, columns: fills.map((f) => ({ column: f.column, filled: f.filled, value: f.value! })) };
    }
    return { summary, missing, rows: table.rows, imputed, roles, data: p.finalData };
  });

  let predictions: DiagnoseResult['predictions'] = null;
  const release = await currentReleaseDir(cfg.prod_deployment_path);
  if (release) {
    const { model, path } = await loadModelFrom(cfg, 'production');
    const { csv } = await listCsvFiles(cfg.test_data_path);
    if (csv.length) {
      const ds = await readForModel(model, csv, { name: 'test', target: false });
      const out = Array.from(predictEncoded(model, ds.X));
      predictions = {
        model: path,
        release: basename(release),
        data_files: csv.map((f) => f.name),
        predictions: out.map((q) => outputLabel(model, q)),
        probabilities: model.task === 'classification' ? out : null,
        unseen_levels: ds.unseen,
      };
    } else notes.push(`no test data in ${cfg.test_data_path}: no predictions`);
  } else notes.push('nothing deployed yet: no predictions of the deployed model (run `mlops deploy`)');

  const timings = opts.time
    ? await measureTimings(cfg, MLOPS_BIN, opts.repeat ?? 3)
    : await recordedTimings(cfg);
  const ingestions = await readLog(p.ingestionLog, INGESTION_RECORD);
  const stability = compareIngestions(ingestions.at(-2), ingestions.at(-1));
  if (ingestions.length < 2) notes.push('stability: only one ingestion recorded, nothing to compare with yet');

  const output = join(cfg.output_model_path, DIAGNOSTICS);
  const result: DiagnoseResult = {
    timestamp: new Date().toISOString(),
    data,
    predictions,
    roles,
    summary,
    missing,
    rows,
    timings,
    dependencies: await deps,
    stability,
    imputed,
    notes,
    output,
  };
  await writeFileAtomic(output, JSON.stringify(result, null, 2) + '\n');
  if (imputed) {
    await appendJsonLine(join(cfg.output_folder_path, 'imputation_log.jsonl'), { timestamp: result.timestamp, ...imputed });
  }
  return result;
}
