/**
 * mlops ingest: merge every data file of the input folder (.csv, .csv.gz, .parquet), drop exact
 * duplicates, record what was read, and say each column's role (derived, never recorded).
 */
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { DataError } from '../errors.js';
import { phase } from '../progress.js';
import { commitCopy, copyPathFor, CopyWriter, statTie } from '../data/columnar.js';
import { DATA_EXTENSIONS, listCsvFiles, readCsvHead } from '../data/csvfiles.js';
import { sqlIdent, sqlString, withDb, type Db } from '../data/duck.js';
import { duckFrame } from '../data/frame.js';
import { withPlainCsv } from '../data/plaincsv.js';
import { checkColumns, loadCsvTable, outputColumns, sampleKinds, streamColumns, type ColumnInfo } from '../data/table.js';
import { decideRoles, type ColumnRole, type ColumnStats } from '../model/roles.js';
import { appendJsonLine, commitTempFile, removeStaleTemps, sha256File, tempPathFor, writeFileAtomic } from '../store/atomic.js';
import { isAlive } from '../store/releases.js';
import type { Config } from '../store/config.js';
import { paths, type IngestionRecord } from '../store/records.js';
import { ingestOnClickHouse } from '../engine/clickhouse/ops/ingest.js';

export interface IngestOptions {
  config: Config;
  /** Read this folder instead of config.input_folder_path. */
  inputFolder?: string;
}

export interface IngestResult extends IngestionRecord {
  output: string;
  ignored: string[];
  /** Entries of the folder that are not data and not hidden, to be named (listCsvFiles). */
  skipped: string[];
  /** Every column's role in the ingested data and why (src/model/roles.ts), as train decides it. */
  roles: ColumnRole[];
}

export async function ingest(opts: IngestOptions): Promise<IngestResult> {
  if (opts.config.engine.type === 'clickhouse') return ingestOnClickHouse(opts);
  const t0 = performance.now();
  const cfg = opts.config;
  const folder = opts.inputFolder ?? cfg.input_folder_path;
  const { csv, ignored, skipped } = await listCsvFiles(folder);
  if (csv.length === 0) {
    throw new DataError(`${folder}: no data files (${DATA_EXTENSIONS.join(', ')}) to ingest`, 'put the data files in input_folder_path (see config.json)');
  }
  const out = paths(cfg);
  // temp files of an ingest that was killed (a COPY cut short can be large)
  await removeStaleTemps(cfg.output_folder_path, isAlive);
  const tmp = tempPathFor(out.finalData);
  const copyPath = copyPathFor(out.finalData)!;
  // a regression target must be numbers; a classification target any two values (data/labels.ts)
  const numeric = cfg.task === 'regression' ? [cfg.target] : [];

  const result = await withDb(async (db) => {
    phase('ingest: db open');
    const table = await withPlainCsv(csv, db, (plain) =>
      loadCsvTable(db, plain, { name: 'ingest', numeric, text: cfg.categorical, labels: cfg.task === 'classification' ? cfg.target : null }),
    );
    phase('ingest: load', `read ${table.rows} rows from ${csv.length} file${csv.length > 1 ? 's' : ''}`);
    const cols = table.columns.map((c) => sqlIdent(c.name)).join(', ');
    // Keep the first occurrence of each distinct row, in file order then row order: the row
    // numbered 1 within its group of equal rows, then sorted back into rowid order. (A semi-join
    // on min(rowid) is faster but does not keep the order under parallel execution.) NULLs
    // compare equal here, as in pandas' drop_duplicates.
    // One statement from the loaded table to the file: no intermediate table.
    let written: number;
    try {
      const [res] = (await db.rows<{ Count: bigint }>(
        `COPY (SELECT ${outputColumns(table.columns).join(', ')} FROM ${table.view} ` +
          `QUALIFY ${firstOfEqualRows(cols)} ORDER BY rowid) ` +
          `TO ${sqlString(tmp)} (FORMAT csv, HEADER true, DELIMITER ',')`,
      )) as [{ Count: bigint }];
      written = Number(res.Count);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    phase('ingest: dedup + copy', `dropped duplicates, wrote ${written} rows`);
    // Roles of the rows written (as train and diagnose see them): duplicates would count twice
    // towards "every value distinct"; without any, the loaded table is those rows.
    const kept = written === table.rows ? table : { ...table, view: `(SELECT * FROM ${table.view} QUALIFY ${firstOfEqualRows(cols)})` };
    const roles = decideRoles(await duckFrame(db, kept).stats(), cfg);
    phase('ingest: roles');
    const copy = await writeCopy(db, table.view, written === table.rows ? '' : `QUALIFY ${firstOfEqualRows(cols)}`, table.columns.map((c) => c.name), new Set(table.columns.filter((c) => c.kind !== 'string').map((c) => c.name)), written, copyPath);
    phase('ingest: columnar copy');
    return { table, written, roles, copy };
  });

  const files = result.table.files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, rows: f.rows }));
  const outputHash = await sha256File(tmp);
  // The copy's tie to finaldata.csv: the temp file keeps its inode, size and mtime through the
  // rename. A text column that a later read of finaldata.csv would take for numbers (its first
  // 64 KiB look numeric) would read differently from the copy: then no copy.
  let copyTmp: string | null = null;
  if (result.copy) {
    const reread = await readCsvHead(tmp);
    const rereadNumeric = sampleKinds(reread.header, [reread], new Set(numeric), new Set(cfg.categorical));
    const faithful = result.copy.columns.every((c) => (c.kind === 'string') !== rereadNumeric.has(c.name));
    const head = { csv: { sha256: outputHash, ...(await statTie(tmp)) }, rows: result.written, forced_numeric: numeric, forced_text: cfg.categorical, labels: cfg.task === 'classification' ? cfg.target : null, stats: result.copy.stats };
    copyTmp = faithful ? await result.copy.writer.finish(head) : (await result.copy.writer.abort(), null);
  }
  // Commit: finaldata.csv first, then its columnar copy, the list of files it holds, the log record.
  await commitTempFile(tmp, out.finalData);
  await commitCopy(copyTmp, copyPath);
  await writeFileAtomic(out.ingestedFiles, files.map((f) => f.name).join('\n') + '\n');
  const record: IngestionRecord = {
    timestamp: new Date().toISOString(),
    input_folder: folder,
    files,
    rows_read: result.table.rows,
    duplicates_dropped: result.table.rows - result.written,
    rows_written: result.written,
    columns: result.table.columns,
    output_sha256: outputHash,
    seconds: round((performance.now() - t0) / 1000),
  };
  await appendJsonLine(out.ingestionLog, record);
  phase('ingest: commit', 'saved finaldata.csv, ingestedfiles.txt and the ingestion record');
  return { ...record, output: out.finalData, ignored, skipped, roles: result.roles };
}

/**
 * The written rows into a columnar copy (src/data/columnar.ts) beside finaldata.csv, with the
 * column summaries the CSV reader would give them; null when it cannot be made (then the verbs
 * read the CSV, as without a copy).
 */
async function writeCopy(db: Db, from: string, dedup: string, names: string[], numeric: Set<string>, rows: number, target: string): Promise<{ writer: CopyWriter; columns: ColumnInfo[]; stats: ColumnStats[] } | null> {
  await db.exec(`CREATE OR REPLACE TEMP TABLE mlops_written AS SELECT ${names.map(sqlIdent).join(', ')} FROM ${from} ${dedup} ORDER BY rowid`);
  const columns = await checkColumns(db, 'mlops_written', names, numeric, []);
  const stats = await duckFrame(db, { view: 'mlops_written', columns, files: [], rows }).stats();
  const writer = await CopyWriter.create(target, columns, rows);
  try {
    await streamColumns(db, 'mlops_written', columns, writer);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return { writer, columns, stats };
}

/** The first row (by rowid) of each group of equal rows. */
const firstOfEqualRows = (cols: string) => `row_number() OVER (PARTITION BY ${cols} ORDER BY rowid) = 1`;

const round = (x: number) => Math.round(x * 1e4) / 1e4;
