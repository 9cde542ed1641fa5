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
import { duckStats, IntegerDistinct } from '../data/frame.js';
import { withPlainCsv } from '../data/plaincsv.js';
import { checkColumns, loadCsvTable, outputColumns, sampleKinds, streamColumns, type LoadedTable } from '../data/table.js';
import { decideRoles, type ColumnRole } from '../model/roles.js';
import { appendJsonLine, commitTempFile, removeStaleTemps, sha256File, syncPath, tempPathFor, writeFileAtomic } from '../store/atomic.js';
import { isAlive } from '../store/releases.js';
import { warn } from '../warnings.js';
import { textColumns, type Config } from '../store/config.js';
import { paths, type IngestionRecord } from '../store/records.js';

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
  if (opts.config.engine.type === 'clickhouse') return (await import('../engine/clickhouse/ops/ingest.js')).ingestOnClickHouse(opts);
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
  const text = textColumns(cfg);

  const result = await withDb(async (db) => {
    phase('ingest: db open');
    const table = await withPlainCsv(csv, db, (plain) =>
      loadCsvTable(db, plain, { name: 'ingest', numeric, text, labels: cfg.task === 'classification' ? cfg.target : null }),
    );
    phase('ingest: load', `read ${table.rows} rows from ${csv.length} file${csv.length > 1 ? 's' : ''}`);
    for (const c of table.longIntegers ?? []) {
      warn(`column "${c}" holds whole numbers beyond 2^53, which are read as numbers and rounded (two may become one); list it in id_columns or categorical to keep them as written`);
    }
    try {
      return { table, ...(await writeOutputs(db, table, tmp, copyPath)) };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  });

  const files = result.table.files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, rows: f.rows }));
  const outputHash = await result.hashed;
  // The copy's tie to finaldata.csv: the temp file keeps its inode, size and mtime through the
  // rename. A text column that a later read of finaldata.csv would take for numbers (its first
  // 64 KiB look numeric) would read differently from the copy: then no copy. The columns a read
  // with no forced kinds takes for numbers are recorded, so a reader forcing other kinds than
  // this config knows whether the copy still answers as the CSV would (data/read.ts).
  const reread = await readCsvHead(tmp);
  const sampled = sampleKinds(reread.header, [reread], new Set());
  const readsAsNumber = (c: string) => !text.includes(c) && (numeric.includes(c) || sampled.has(c));
  const faithful = result.columns.every((c) => (c.kind === 'string') !== readsAsNumber(c.name));
  const head = {
    csv: { sha256: outputHash, ...(await statTie(tmp)) },
    rows: result.written,
    forced_numeric: numeric,
    forced_text: text,
    sampled_numeric: [...sampled],
    labels: cfg.task === 'classification' ? cfg.target : null,
    stats: result.stats,
  };
  const copyTmp = faithful ? await result.copy.finish(head) : (await result.copy.abort(), null);
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
  return { ...record, output: out.finalData, ignored, skipped, roles: decideRoles(result.stats, cfg) };
}

/**
 * De-duplicate the loaded rows into one table, then write it to finaldata.csv's temp file and to
 * its columnar copy (src/data/columnar.ts) at once, on two connections: DuckDB formats the CSV
 * on its threads while this one streams the columns out. The CSV is hashed and synced as soon
 * as it is written. The roles and the copy's summaries are those of the rows written (as train
 * and diagnose see finaldata.csv): duplicates would count twice towards "every value distinct".
 * The roles' distinct counts of integer columns are counted from the streamed values; their
 * other counts are computed while DuckDB still writes the CSV.
 */
async function writeOutputs(db: Db, table: LoadedTable, tmp: string, copyPath: string) {
  const names = table.columns.map((c) => c.name);
  const cols = names.map(sqlIdent).join(', ');
  // Keep the first occurrence of each distinct row, in file order then row order: group equal
  // rows, keep each group's smallest rowid and sort by it (a hash aggregate: ~20% faster at a
  // million rows than numbering the rows of each group by a window). NULLs compare equal here,
  // as in pandas' drop_duplicates. A plain table (not TEMP): the second connection reads it.
  await db.exec(
    `CREATE OR REPLACE TABLE mlops_written AS SELECT ${cols} FROM ` +
      `(SELECT ${cols}, min(rowid) AS mlops_first FROM ${table.view} GROUP BY ${cols}) ORDER BY mlops_first`,
  );
  // the rows read are no longer needed: their memory goes to writing (at ten million rows they
  // would otherwise spill to disk)
  await db.exec(`DROP TABLE ${table.view}`);
  phase('ingest: dedup');
  const numeric = new Set(table.columns.filter((c) => c.kind !== 'string').map((c) => c.name));
  const columns = await checkColumns(db, 'mlops_written', names, numeric, []);
  const [{ n }] = (await db.rows<{ n: bigint }>('SELECT count(*) AS n FROM mlops_written')) as [{ n: bigint }];
  const written = Number(n);
  phase('ingest: summaries');
  // integer columns of a modest range: their distinct values counted as they stream past
  const counted = new Map<number, IntegerDistinct>();
  columns.forEach((c, j) => {
    if (c.kind === 'integer' && IntegerDistinct.fits(c.min, c.max)) counted.set(j, new IntegerDistinct(c.min!, c.max!));
  });
  const copy = await CopyWriter.create(copyPath, columns, written);
  let csvDone: Promise<void> | null = null;
  try {
    const other = await db.connect();
    csvDone = other.exec(`COPY (SELECT ${outputColumns(columns).join(', ')} FROM mlops_written) TO ${sqlString(tmp)} (FORMAT csv, HEADER true, DELIMITER ',')`);
    // hashed and synced as soon as written, while the columns may still be streaming
    const hashed = csvDone.then(() => sha256File(tmp));
    const synced = csvDone.then(() => syncPath(tmp));
    hashed.catch(() => undefined);
    synced.catch(() => undefined);
    await streamColumns(db, 'mlops_written', columns, copy, (j, values, rows) => counted.get(j)?.add(values, rows));
    phase('ingest: columns');
    const distinct = new Map([...counted].map(([j, d]) => [columns[j]!.name, d.count]));
    const stats = await duckStats(db, { view: 'mlops_written', columns, files: [], rows: written }, distinct);
    phase('ingest: roles');
    await Promise.all([csvDone, synced]);
    phase('ingest: write', `dropped duplicates, wrote ${written} rows`);
    return { written, columns, stats, copy, hashed };
  } catch (err) {
    // the other statement ends before the database closes
    await csvDone?.catch(() => undefined);
    await copy.abort();
    throw err;
  }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
