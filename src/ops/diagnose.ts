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
import { sqlIdent, sqlString, withDb, type Db } from '../data/duck.js';
import { duckFrame, type Frame } from '../data/frame.js';
import { withFrame } from '../data/read.js';
import { loadCsvTable, outputColumns, type LoadedTable } from '../data/table.js';
import { phase } from '../progress.js';
import { quantilesOf } from '../stats/describe.js';
import { outputLabel, predictEncoded } from '../model/family.js';
import { decideRoles, type ColumnRole } from '../model/roles.js';
import { readForModel } from './modeldata.js';
import { dependencyStatus, type DependencyReport } from '../diagnostics/dependencies.js';
import { compareIngestions, type StabilityReport } from '../diagnostics/stability.js';
import { measureTimings, recordedTimings, type Timings } from '../diagnostics/timing.js';
import { appendJsonLine, commitTempFile, tempPathFor, writeFileAtomic } from '../store/atomic.js';
import { readLog } from '../store/statefile.js';
import { textColumns, type Config } from '../store/config.js';
import { INGESTION_RECORD, paths } from '../store/records.js';
import { currentReleaseDir } from '../store/releases.js';
import { loadModelFrom } from './modelchoice.js';


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

/**
 * Summary statistics and missing data of every column, and the roles, from any frame: each
 * numeric column read once for its quartiles (count, mean, std, min and max come with the
 * table: the stable two-pass summaries of data/table.ts).
 */
async function statistics(frame: Frame, cfg: Config): Promise<Pick<DiagnoseResult, 'summary' | 'missing' | 'rows' | 'roles'>> {
  const table = frame.table;
  const roles = decideRoles(await frame.stats(), cfg);
  const summary: ColumnStatistics[] = [];
  for (const c of table.columns) {
    if (c.kind === 'string') continue;
    const [values] = await frame.numeric([c.name]);
    phase(`read: ${table.files[0]!.name} column ${c.name}`);
    const count = table.rows - c.missing;
    const known = c.min == null || c.max == null ? undefined : { count, min: c.min, max: c.max, integral: c.kind === 'integer' };
    const [q25, median, q75] = quantilesOf(values!, [0.25, 0.5, 0.75], known);
    phase(`diagnose: quartiles of ${c.name}`);
    summary.push({ column: c.name, count, mean: c.mean ?? null, std: c.std ?? null, min: c.min ?? null, q25: q25!, median: median!, q75: q75!, max: c.max ?? null });
  }
  const missing = table.columns.map((c) => ({
    column: c.name,
    missing: c.missing,
    percent: table.rows === 0 ? 0 : (100 * c.missing) / table.rows,
  }));
  return { summary, missing, rows: table.rows, roles };
}

/** finaldata.csv with every numeric column's missing values replaced by its mean (--impute mean). */
async function writeImputed(db: Db, table: LoadedTable, cfg: Config, finalData: string): Promise<NonNullable<DiagnoseResult['imputed']>> {
  const target = join(cfg.output_folder_path, IMPUTED_DATA);
  const tmp = tempPathFor(target);
  const fills = table.columns
    .filter((c) => c.kind !== 'string')
    .map((c) => ({ column: c.name, filled: c.missing, value: c.mean ?? null }))
    .filter((f) => f.filled > 0);
  const unfillable = fills.find((f) => f.value === null);
  if (unfillable) throw new DataError(`${finalData}: column "${unfillable.column}" has no values to take a mean of`, 'drop the column');
  const fillOf = new Map(fills.map((f) => [f.column, f.value!]));
  const cols = outputColumns(table.columns).map((expr, j) => {
    const c = table.columns[j]!;
    const v = fillOf.get(c.name);
    return v === undefined ? expr : `coalesce(${sqlIdent(c.name)}, ${v}) AS ${sqlIdent(c.name)}`;
  });
  await db.exec(`COPY (SELECT ${cols.join(', ')} FROM ${table.view}) TO ${sqlString(tmp)} (FORMAT csv, HEADER true)`);
  await commitTempFile(tmp, target);
  return { output: target, columns: fills.map((f) => ({ column: f.column, filled: f.filled, value: f.value! })) };
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

  // The statistics in one pass over each numeric column: from the columnar copy of
  // finaldata.csv when it can answer as the CSV would (data/read.ts; count, mean, std, min and
  // max recorded by ingest, the quartiles by selection), else from DuckDB's read of the CSV. The
  // imputed copy is written by DuckDB, from its read of the CSV.
  const file = { path: p.finalData, name: basename(p.finalData), size: st?.size ?? 0 };
  const spec = { name: 'final', numeric: cfg.task === 'regression' ? [cfg.target] : [], text: textColumns(cfg), labels: null, summaries: true };
  const { summary, missing, rows, imputed, roles, data } = onEngine
    ? await (await import('../engine/clickhouse/ops/diagnose.js')).diagnoseDataOnClickHouse(cfg, opts)
    : opts.impute
    ? await withDb(async (db) => {
        const table = await loadCsvTable(db, [file], spec);
        const stats = await statistics(duckFrame(db, table), cfg);
        return { ...stats, imputed: await writeImputed(db, table, cfg, p.finalData), data: p.finalData };
      })
    : { ...(await withFrame([file], spec, (frame) => statistics(frame, cfg))), imputed: null, data: p.finalData };

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
