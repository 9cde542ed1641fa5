/**
 * `mlops ingest` on a ClickHouse engine. With input files: they are read and checked by the
 * DuckDB reader and loaded into engine.table with exact duplicates dropped in the engine (see
 * ../ingest.ts); the table they replace is kept, renamed, when it is the training data of a
 * release (the data drift reference), else dropped. With `source_table`: the table is the data
 * as it stands (nothing is copied); it is described and fingerprinted. Either way the ingestion
 * record, ingestedfiles.txt and the roles are what `mlops ingest` writes on DuckDB, with the
 * table's fingerprint as output_sha256; no finaldata.csv is written.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataError } from '../../../errors.js';
import { phase } from '../../../progress.js';
import { DATA_EXTENSIONS, listCsvFiles } from '../../../data/csvfiles.js';
import { withDb } from '../../../data/duck.js';
import { withPlainCsv } from '../../../data/plaincsv.js';
import { decideRoles } from '../../../model/roles.js';
import type { IngestOptions, IngestResult } from '../../../ops/ingest.js';
import { appendJsonLine, writeFileAtomic } from '../../../store/atomic.js';
import { textColumns, type Config } from '../../../store/config.js';
import { paths, type ColumnSummary, type IngestedFileRecord, type IngestionRecord } from '../../../store/records.js';
import { listReleases, readManifest, releaseName } from '../../../store/releases.js';
import type { ClickHouseEngine } from '../../config.js';
import type { ClickHouse } from '../client.js';
import { describeSourceTable, ingestCsvToClickHouse } from '../ingest.js';
import { chTable } from '../sql.js';
import { describeOnEngine } from '../stats.js';
import { columnStatsOnEngine, dataLabel, dataTable, dataTableName, fingerprint, presentCounts, referenceTableName, tableColumns, tableExists, withClickHouse, type TableColumn } from './project.js';

export async function ingestOnClickHouse(opts: IngestOptions): Promise<IngestResult> {
  const t0 = performance.now();
  const cfg = opts.config;
  const folder = opts.inputFolder ?? cfg.input_folder_path;
  return withClickHouse(cfg, async (ch, engine) => {
    const loaded = engine.source_table ? await describeSource(ch, cfg, engine) : await loadFiles(ch, cfg, engine, folder);
    const step = `ingest ${dataTableName(engine)}`;
    const { from, columns } = await dataTable(ch, engine, step);
    const roles = decideRoles(await columnStatsOnEngine(ch, from, columns, `${step}, column counts`), cfg);
    const record: IngestionRecord = {
      timestamp: new Date().toISOString(),
      input_folder: engine.source_table ? dataLabel(engine) : folder,
      files: loaded.files,
      rows_read: loaded.rowsRead,
      duplicates_dropped: loaded.rowsRead - loaded.rowsWritten,
      rows_written: loaded.rowsWritten,
      columns: loaded.columns,
      output_sha256: loaded.sha256,
      seconds: Math.round(performance.now() - t0) / 1000,
    };
    const out = paths(cfg);
    await writeFileAtomic(out.ingestedFiles, record.files.map((f) => `${f.name}\n`).join(''));
    await appendJsonLine(out.ingestionLog, record);
    phase('ingest: commit', 'saved ingestedfiles.txt and the ingestion record');
    return { ...record, output: dataLabel(engine), ignored: loaded.ignored, skipped: loaded.skipped, roles };
  });
}

interface Loaded {
  files: IngestedFileRecord[];
  rowsRead: number;
  rowsWritten: number;
  columns: ColumnSummary[];
  sha256: string;
  ignored: string[];
  skipped: string[];
}

/** The input folder's files into engine.table, de-duplicated. */
async function loadFiles(ch: ClickHouse, cfg: Config, engine: ClickHouseEngine, folder: string): Promise<Loaded> {
  const { csv, ignored, skipped } = await listCsvFiles(folder);
  if (csv.length === 0) {
    throw new DataError(`${folder}: no data files (${DATA_EXTENSIONS.join(', ')}) to ingest`, 'put the data files in input_folder_path (see config.json)');
  }
  const step = `ingest ${engine.table}`;
  const keepPreviousAs = await previousToKeep(ch, cfg, engine, step);
  const res = await withDb((db) =>
    withPlainCsv(csv, db, (plain) =>
      ingestCsvToClickHouse(ch, db, plain, {
        table: engine.table,
        numeric: [cfg.target],
        text: textColumns(cfg),
        labels: cfg.task === 'classification' ? cfg.target : null,
        keepPreviousAs,
      }),
    ),
  );
  phase('ingest: load', `read ${res.rowsRead} rows, dropped ${res.duplicatesDropped} duplicates in the engine`);
  const columns = await tableColumns(ch, engine.table, step);
  const { sha256 } = await fingerprint(ch, res.from, columns, step);
  return {
    files: res.files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, rows: f.rows })),
    rowsRead: res.rowsRead,
    rowsWritten: res.rowsWritten,
    columns: res.columns,
    sha256,
    ignored,
    skipped,
  };
}

/**
 * The name to keep the table being replaced under: its reference name when its data is some
 * release's training data (drift compares against it), else null (dropped).
 */
async function previousToKeep(ch: ClickHouse, cfg: Config, engine: ClickHouseEngine, step: string): Promise<string | null> {
  const prod = cfg.prod_deployment_path;
  const deployed = new Set<string>();
  for (const r of await listReleases(prod)) {
    const m = await readManifest(join(prod, 'releases', releaseName(r))).catch(() => null);
    if (m?.model?.data_sha256) deployed.add(m.model.data_sha256);
  }
  if (deployed.size === 0 || !(await tableExists(ch, engine.table, step))) return null;
  const { sha256 } = await fingerprint(ch, chTable(ch.database, engine.table), await tableColumns(ch, engine.table, step), `${step}, the table it replaces`);
  return deployed.has(sha256) ? referenceTableName(engine, sha256) : null;
}

/** An existing table as the data: checked, summarised and fingerprinted; one pseudo input file that names it. */
async function describeSource(ch: ClickHouse, cfg: Config, engine: ClickHouseEngine): Promise<Loaded> {
  const table = engine.source_table!;
  const step = `ingest ${table}`;
  const src = await describeSourceTable(ch, table, { target: cfg.target, features: cfg.features, labels: cfg.task === 'classification' });
  const columns = await tableColumns(ch, table, step);
  const { rows, sha256 } = await fingerprint(ch, src.from, columns, step);
  return {
    files: [{ name: `${engine.database}.${table}`, size: 0, sha256, rows }],
    rowsRead: rows,
    rowsWritten: rows,
    columns: await columnSummaries(ch, src.from, columns, step),
    sha256,
    ignored: [],
    skipped: [],
  };
}

/** The ingestion record's column summaries (kind, missing, mean, sd, min, max), from the engine. */
async function columnSummaries(ch: ClickHouse, from: string, columns: readonly TableColumn[], step: string): Promise<ColumnSummary[]> {
  const numeric = columns.filter((c) => c.kind !== 'string');
  const stats = new Map((await describeOnEngine(ch, from, numeric.map((c) => c.name), `${step}, column summaries`)).map((s) => [s.column, s]));
  const { rows, present } = await presentCounts(ch, from, columns, step);
  return columns.map((c, i) => {
    const s = stats.get(c.name);
    if (!s) return { name: c.name, kind: c.kind, missing: rows - present[i]! };
    return { name: c.name, kind: c.kind, missing: s.missing, mean: s.mean, std: s.std, min: s.min, max: s.max };
  });
}

/** Source-table mode in the loop: the table stands for the input folder, as one input named by its fingerprint. */
export async function sourceTableInput(cfg: Config): Promise<{ name: string; path: string; size: number; sha256: string }[]> {
  return withClickHouse(cfg, async (ch, engine) => {
    const table = engine.source_table!;
    const step = `check ${table}`;
    const { sha256 } = await fingerprint(ch, chTable(ch.database, table), await tableColumns(ch, table, step), step);
    return [{ name: `${engine.database}.${table}`, path: dataLabel(engine), size: 0, sha256 }];
  });
}
