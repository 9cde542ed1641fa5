/**
 * .csv.gz and .parquet inputs as plain CSV: each is copied to a CSV file in a temp folder
 * (gunzipped as a stream; a Parquet file written by DuckDB with a header, columns in file
 * order), and the copies go through the CSV readers, so every check and message of those
 * holds for them too. The copies live only inside `withPlainCsv`; errors raised there name
 * the input file (a .csv.gz's lines are its real lines; a Parquet file's are said as rows).
 *
 * Never written in the input folder: a killed process's copy must not become input.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DataError, MlopsError } from '../errors.js';
import { phase } from '../progress.js';
import { dataKind, fsError, rowOfLine, type CsvFile } from './csvfiles.js';
import { sqlIdent, sqlString, type Db } from './duck.js';
import { literalGlob } from './table.js';
import { sha256File } from '../store/atomic.js';
import { isAlive } from '../store/releases.js';

const copied = (f: CsvFile) => dataKind(f.name) === 'csv.gz' || dataKind(f.name) === 'parquet';

/** Whether reading `files` takes DuckDB (to copy a Parquet file). */
export const needsDb = (files: readonly CsvFile[]): boolean => files.some((f) => dataKind(f.name) === 'parquet');

/**
 * Run `fn` on `files` with every .csv.gz and .parquet file given a plain CSV copy (`plain`,
 * `sha256` of the input's bytes set); `bytes` is what the readers will read in all. A Parquet
 * file needs `db`. The copies are removed when `fn` ends; its errors are told in the input
 * files' terms. Plain .csv files pass through untouched (no copy, no cost).
 */
export async function withPlainCsv<T>(
  files: readonly CsvFile[],
  db: Db | null,
  fn: (plain: CsvFile[], bytes: number) => Promise<T>,
): Promise<T> {
  if (!files.some(copied)) return fn([...files], files.reduce((s, f) => s + f.size, 0));
  await removeStaleCopies();
  const dir = await mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
  const copies: CsvFile[] = [];
  try {
    let bytes = 0;
    for (const [i, f] of files.entries()) {
      if (!copied(f)) {
        copies.push(f);
        bytes += f.size;
        continue;
      }
      // One folder per file, the copy named as the input: hints that say "remove a.parquet" stay right.
      const sub = join(dir, String(i));
      await mkdir(sub);
      const plain = join(sub, f.name);
      const sha256 = dataKind(f.name) === 'csv.gz' ? await gunzipCopy(f, plain) : await parquetCopy(f, plain, db);
      copies.push({ ...f, plain, sha256 });
      bytes += (await stat(plain)).size;
    }
    phase('read: plain copies', `copied ${copies.filter((c) => c.plain).length} .csv.gz/.parquet file(s) to plain CSV`);
    return await fn(copies, bytes);
  } catch (err) {
    if (err instanceof MlopsError) await inInputTerms(err, copies);
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const PREFIX = 'mlops-inputs-';

/** Copies left in the temp folder by a process that was killed (its pid no longer runs). */
async function removeStaleCopies(): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const pid = name.startsWith(PREFIX) ? Number(name.slice(PREFIX.length).split('-')[0]) : NaN;
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Gunzip a file to `to`, hashing the compressed bytes on the way; a broken stream is a DataError naming the file. */
async function gunzipCopy(f: CsvFile, to: string): Promise<string> {
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(f.path, { highWaterMark: 1 << 20 }), tee, createGunzip(), createWriteStream(to));
  } catch (err) {
    // zlib's codes are Z_*; others are the file system's (permission: exit 2, as for a .csv)
    const code = (err as NodeJS.ErrnoException).code;
    throw code && !code.startsWith('Z_') ? fsError(f.path, err) : unreadable(f, 'gzip', err);
  }
  return hash.digest('hex');
}

/**
 * A Parquet file as CSV, by DuckDB: columns in file order, FLOAT widened to DOUBLE first (its
 * shortest text would read back as another double); DuckDB writes doubles in the shortest form
 * that reads back as the same double, so every number is the one the Parquet file holds.
 */
async function parquetCopy(f: CsvFile, to: string, db: Db | null): Promise<string> {
  if (!db) throw new Error('withPlainCsv: a Parquet file needs a database');
  // hashed first: a file that cannot be read is the file system's error, as for a .csv
  const sha256 = await sha256File(f.path).catch((err: unknown) => {
    throw fsError(f.path, err);
  });
  const src = `read_parquet(${sqlString(literalGlob(f.path))})`;
  try {
    const cols = await db.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${src}`);
    const select = cols.map((c) => (c.column_type === 'FLOAT' ? `CAST(${sqlIdent(c.column_name)} AS DOUBLE) AS ${sqlIdent(c.column_name)}` : sqlIdent(c.column_name)));
    await db.exec(`COPY (SELECT ${select.join(', ')} FROM ${src}) TO ${sqlString(to)} (FORMAT csv, HEADER true, DELIMITER ',')`);
  } catch (err) {
    throw unreadable(f, 'Parquet', err);
  }
  return sha256;
}

function unreadable(f: CsvFile, what: string, err: unknown): DataError {
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  const detail = first.replace(/^[\w ]*Error: /, '').replaceAll(` '${f.path}'`, '').replaceAll(f.path, f.name);
  return new DataError(`${f.path}: not a readable ${what} file (${detail})`, `replace ${f.name} with a complete ${what} file or remove it from the folder`);
}

/**
 * Rewrite an error raised on a copy to name the input file: the copy's path becomes the input's;
 * for a Parquet file "line N" becomes "row M" (the header line: no position).
 */
async function inInputTerms(err: MlopsError, copies: readonly CsvFile[]): Promise<void> {
  let { message } = err;
  let hint = err.hint;
  for (const c of copies) {
    if (!c.plain || !(message.includes(c.plain) || hint?.includes(c.plain))) continue;
    if (dataKind(c.name) === 'parquet') {
      const m = new RegExp(`${escapeRegExp(c.plain)}: line (\\d+): `).exec(message);
      if (m) {
        const line = Number(m[1]);
        const row = line === 1 ? undefined : await rowOfLine(c.plain, line).catch(() => undefined);
        message = message.replace(m[0], `${c.path}: ${row === undefined ? '' : `row ${row}: `}`);
      }
    }
    message = message.replaceAll(c.plain, c.path);
    hint = hint?.replaceAll(c.plain, c.path);
  }
  err.message = message;
  Object.assign(err, { hint });
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
