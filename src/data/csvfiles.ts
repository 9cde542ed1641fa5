/** Finding the data files of a folder (.csv, .csv.gz, .parquet) and reading CSV header lines. */
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ConfigError, DataError } from '../errors.js';

export interface CsvFile {
  /** The input file: what messages and records name. */
  path: string;
  name: string;
  /** Bytes of the input file. */
  size: number;
  /**
   * A .csv.gz or .parquet file's plain CSV copy while it exists (src/data/plaincsv.ts): the
   * readers read it and name it in their errors, which withPlainCsv turns back into the input
   * file's name.
   */
  plain?: string;
  /** SHA-256 of the input file's bytes, when already known (the readers then do not hash the copy). */
  sha256?: string;
}

/** The kinds of data file an input folder may hold. */
export type DataKind = 'csv' | 'csv.gz' | 'parquet';
export const DATA_EXTENSIONS = ['.csv', '.csv.gz', '.parquet'] as const;

/** A file's kind by its name (case-insensitive extension), or null when it is not a data file. */
export function dataKind(name: string): DataKind | null {
  const n = name.toLowerCase();
  return n.endsWith('.csv') ? 'csv' : n.endsWith('.csv.gz') ? 'csv.gz' : n.endsWith('.parquet') ? 'parquet' : null;
}

/** The path the readers read: the plain copy of a .csv.gz or .parquet file, else the file. */
export const readPath = (f: CsvFile): string => f.plain ?? f.path;

export interface FolderListing {
  csv: CsvFile[];
  /** Every entry that was not read (hidden files, folders, other files). */
  ignored: string[];
  /** The entries of `ignored` worth naming: not hidden (e.g. notes.txt, "Icon\r", a folder/). */
  skipped: string[];
}

/**
 * Every data file of a folder (`.csv`, `.csv.gz`, `.parquet`, case-insensitive), sorted by name
 * with a plain code point comparison so the order does not depend on the locale. Names are
 * taken literally (the DuckDB reader escapes glob characters, see table.ts). Hidden entries (a
 * leading ".") are ignored like other files, even when named *.csv: editors, Finder and rsync
 * leave them; other entries are listed in `skipped` for the caller to name.
 *
 * A .csv entry that cannot be opened is an error naming it, not a silent skip: a dangling
 * symbolic link or a link loop (exit 3: the folder holds a broken entry where data was meant
 * to be; skipping it would train on less data without anyone noticing), a file without read
 * permission (exit 2: the environment, see fsError).
 */
export async function listCsvFiles(folder: string): Promise<FolderListing> {
  const entries = await readdir(folder, { withFileTypes: true }).catch((err: unknown) => {
    throw fsError(folder, err);
  });
  const csv: CsvFile[] = [];
  const ignored: string[] = [];
  const skipped: string[] = [];
  const skip = (name: string, shown = name) => {
    ignored.push(name);
    if (!name.startsWith('.')) skipped.push(shown);
  };
  for (const e of entries) {
    if (e.name.startsWith('.') || !dataKind(e.name)) {
      skip(e.name, e.isDirectory() ? `${e.name}/` : e.name);
      continue;
    }
    const path = join(folder, e.name);
    const st = await stat(path).catch(async (err: unknown) => {
      throw await brokenEntryError(path, err);
    });
    if (!st.isFile()) {
      skip(e.name, st.isDirectory() ? `${e.name}/` : e.name);
      continue;
    }
    csv.push({ path, name: e.name, size: st.size });
  }
  csv.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  ignored.sort();
  skipped.sort();
  return { csv, ignored, skipped };
}

/** "skipped 2 files that are not data (.csv, .csv.gz, .parquet): "notes.txt", "x.json"", or null. */
export function skippedNote(skipped: readonly string[]): string | null {
  if (skipped.length === 0) return null;
  const n = skipped.length;
  return `skipped ${n} file${n > 1 ? 's' : ''} that ${n > 1 ? 'are' : 'is'} not data (${DATA_EXTENSIONS.join(', ')}): ${skipped.map((s) => JSON.stringify(s)).join(', ')}`;
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;

/**
 * A file-system error on an input path as a typed error: permission problems are the
 * environment (ConfigError, exit 2), a missing or looping path the data (DataError, exit 3).
 * Anything else stays as it is (an internal error: a bug or a case to add here).
 */
export function fsError(path: string, err: unknown): unknown {
  const code = errCode(err);
  const name = basename(path);
  if (code === 'EACCES' || code === 'EPERM') {
    return new ConfigError(`${path}: cannot read (permission denied)`, `make it readable (chmod u+r) or move ${name} out of the folder`);
  }
  if (code === 'ENOENT') return new DataError(`${path}: no such file (was it moved or deleted?)`, `restore ${name} or remove it from the folder`);
  if (code === 'ELOOP') return new DataError(`${path}: a symbolic link loop`, `point the link ${name} at a real file or remove it`);
  if (code === 'EISDIR') return new DataError(`${path}: is a folder, not a CSV file`, 'name a .csv file');
  return err;
}

/** The error for a listed entry that stat cannot follow, naming a dangling link's target. */
async function brokenEntryError(path: string, err: unknown): Promise<unknown> {
  if (errCode(err) === 'ENOENT' && (await lstat(path).catch(() => null))?.isSymbolicLink()) {
    const target = await readlink(path).catch(() => '?');
    return new DataError(
      `${path}: a symbolic link to ${JSON.stringify(target)}, which does not exist`,
      `restore the file it points to or remove the link ${basename(path)}`,
    );
  }
  return fsError(path, err);
}

/** Cell texts read as missing values, as pandas does by default. */
export const MISSING_TOKENS = ['', 'NA', 'N/A', 'n/a', 'NaN', 'nan', '-NaN', 'null', 'NULL', 'None', '#N/A'];
const MISSING = new Set(MISSING_TOKENS);

/**
 * A decimal number as DuckDB's DOUBLE cast reads it: ASCII spaces, tabs and line breaks around
 * it allowed (not U+00A0 or other Unicode spaces), ASCII digits only, an underscore allowed
 * between two digits as a digit-group separator ("1_000", as DuckDB and Python read it: it is
 * never a decimal mark, unlike the comma of "1,000", which is refused). No hex, no "1e".
 * The shared cell table in test/unit/cells.test.ts holds both readers to this.
 */
export const NUMBER = /^[ \t\n\v\f\r]*[-+]?(\d+(?:_\d+)*\.?(?:\d+(?:_\d+)*)?|\.\d+(?:_\d+)*)([eE][-+]?\d+(?:_\d+)*)?[ \t\n\v\f\r]*$/;

const ASCII_SPACE = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;

/** Unicode spaces and invisible marks that look like nothing in a terminal. */
const INVISIBLE = /[\u0080-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f\u2060\u3000\ufeff]/g;
const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** A cell as shown in messages: quoted, with invisible characters spelled \uXXXX. */
export function showCell(cell: string): string {
  return JSON.stringify(cell).replace(INVISIBLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The error for a cell of a numeric column that is not a number, the same from both readers
 * (smallcsv.ts and table.ts), with a hint for the usual causes.
 */
export function notANumberError(path: string, line: number | undefined, column: string, cell: string): DataError {
  let hint = 'fix the value or leave the cell empty to mark it missing';
  const invisible = cell.match(INVISIBLE);
  if (invisible) hint = `remove the invisible ${codePoint(invisible[0])} character from the cell (only ASCII spaces may surround a number)`;
  else if (/^\s*[-+]?\d{1,3}(,\d{3})+(\.\d*)?\s*$/.test(cell)) hint = 'write numbers without thousands separators (1000, not 1,000)';
  else if (/[^\P{Nd}0-9]/u.test(cell)) hint = 'write numbers with the ASCII digits 0-9';
  return new DataError(`${at(path, line)}column "${column}" holds ${showCell(cell)}, not a number`, hint);
}

/** The error for an infinite or NaN value in a numeric column, the same from both readers. */
export function notFiniteError(path: string, line: number | undefined, column: string, value: number): DataError {
  return new DataError(`${at(path, line)}column "${column}" holds ${value}, not a finite number`, 'fix the value or leave the cell empty to mark it missing');
}

/** "path: line N: " (without the line when it is not known), the start of a cell's error. */
export const at = (path: string, line: number | undefined): string => `${path}: ${line === undefined ? '' : `line ${line}: `}`;

const quoteError = (path: string, line: number) =>
  new DataError(`${path}: line ${line}: cannot parse CSV: unterminated or misplaced quote`, `fix or remove that row of ${basename(path)}`);

export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
  /** The record's text spans [start, end) of the input (for error messages). */
  start: number;
  end: number;
}

/**
 * Split CSV text into records (RFC 4180; a quote opens a field only at its start, elsewhere it
 * is a character; blank lines are skipped). Throws a DataError naming `path` and the line for a
 * quote that is never closed or misplaced; with `lenient`, stops there and returns the records
 * before it (for a sample cut off mid-record).
 */
export function parseCsvRecords(text: string, path: string, lenient = false): CsvRecord[] {
  const out: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = i;
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let quotedAny = false;
    for (;;) {
      if (text[i] === '"') {
        // quoted field
        quotedAny = true;
        i++;
        for (;;) {
          if (i >= n) {
            if (lenient) return out;
            throw quoteError(path, startLine);
          }
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        const next = text[i];
        if (next !== ',' && next !== '\n' && next !== '\r' && next !== undefined) {
          if (lenient) return out;
          throw quoteError(path, startLine);
        }
      } else {
        let j = i;
        for (; j < n; j++) {
          const c = text.charCodeAt(j);
          if (c === 44 || c === 10) break; // ',' or '\n'
        }
        field = text.charCodeAt(j - 1) === 13 && j > i ? text.slice(i, j - 1) : text.slice(i, j);
        i = j;
      }
      if (text[i] === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      field = '';
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      // newline: end of record
      i++;
      line++;
      break;
    }
    const blank = fields.length === 1 && fields[0] === '' && !quotedAny;
    if (!blank) out.push({ fields, line: startLine, start, end: i });
  }
  return out;
}

/**
 * Whether a cell is a plain decimal: an optional sign, digits with at most one point, at least
 * one digit, nothing else (no spaces, underscores or exponent). NUMBER accepts every such cell
 * and Number() reads it as is.
 */
export function plainDecimal(cell: string): boolean {
  let digits = 0;
  let points = 0;
  for (let i = 0; i < cell.length; i++) {
    const c = cell.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46) points++;
    else if (!(i === 0 && (c === 45 || c === 43))) return false;
  }
  return digits > 0 && points <= 1;
}

/** The value of a numeric cell: NaN when missing; DataError naming file, line and column when not a finite number. */
export function numericCell(cell: string, path: string, line: number, column: string): number {
  if (plainDecimal(cell)) {
    // what the rules below give such a cell, without three regular expressions per cell
    const v = Number(cell);
    if (!Number.isFinite(v)) throw notFiniteError(path, line, column, v);
    return v;
  }
  if (MISSING.has(cell)) return Number.NaN;
  const t = cell.replace(ASCII_SPACE, '');
  let v: number;
  if (NUMBER.test(t)) v = Number(t.replace(/_/g, ''));
  else if (/^[-+]?(inf|infinity)$/i.test(t)) v = t.startsWith('-') ? -Infinity : Infinity;
  else if (/^[-+]?nan$/i.test(t)) v = Number.NaN;
  else throw notANumberError(path, line, column, cell);
  if (!Number.isFinite(v)) throw notFiniteError(path, line, column, v);
  return v;
}

/**
 * The 1-based line where data row `row` (0-based, header excluded) of a CSV file starts, by
 * the splitting rules of parseCsvRecords (quoted line breaks, blank lines skipped), streamed so
 * a large file is not held in memory. For messages about a row found by DuckDB, which knows
 * rows but not lines. Undefined past the end.
 */
export async function lineOfRow(path: string, row: number): Promise<number | undefined> {
  const want = row + 1; // record 0 is the header
  return scanRecords(path, (record, line) => (record === want ? line : undefined));
}

/**
 * The 1-based data row (header excluded) of the record that starts at or spans `line` of a CSV
 * file: lineOfRow's inverse, for messages about a copy whose lines are not the input's rows.
 */
export async function rowOfLine(path: string, line: number): Promise<number | undefined> {
  let last: number | undefined;
  const hit = await scanRecords(path, (record, start) => {
    if (start > line) return last;
    last = record;
    return start === line ? record : undefined;
  });
  return hit ?? last;
}

/**
 * The line where DuckDB's "CSV Error on Line: N" is: DuckDB numbers records (header 1), blank
 * lines included, and does not count the line breaks inside quoted fields.
 */
export async function lineOfDuckDbLine(path: string, n: number): Promise<number | undefined> {
  return scanRecords(path, (record, line) => (record === n - 1 ? line : undefined), true);
}

/**
 * Visit each record of a CSV file (0 is the header) with the line where it starts, until
 * `visit` returns a value; that value, or after the last record undefined. Blank lines are no
 * records unless `blanks` (as DuckDB counts them).
 */
async function scanRecords<T>(path: string, visit: (record: number, startLine: number) => T | undefined, blanks = false): Promise<T | undefined> {
  let record = 0;
  let line = 1;
  let startLine = 1;
  let content = false; // the current record has a character other than \r
  let fieldStart = true;
  let quoted = false;
  let quotePending = false; // a quote inside a quoted field: its end or the first of ""
  let first = true;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    let i = first && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0; // BOM
    first = false;
    for (; i < buf.length; i++) {
      const b = buf[i]!;
      if (quoted) {
        if (quotePending) {
          quotePending = false;
          if (b === 34) continue; // "" inside quotes
          quoted = false; // the quote closed the field; b is read below
        } else {
          if (b === 34) quotePending = true;
          else if (b === 10) line++;
          continue;
        }
      }
      if (b === 34 && fieldStart) {
        quoted = true;
        content = true;
        fieldStart = false;
      } else if (b === 44) {
        content = true;
        fieldStart = true;
      } else if (b === 10) {
        if (content || blanks) {
          const hit = visit(record, startLine);
          if (hit !== undefined) return hit;
          record++;
        }
        line++;
        startLine = line;
        content = false;
        fieldStart = true;
      } else if (b !== 13) {
        content = true;
        fieldStart = false;
      }
    }
  }
  return content ? visit(record, startLine) : undefined;
}

/**
 * Read and check the header line of a CSV file: non-empty, text, unique non-empty names.
 * Names are trimmed of surrounding spaces (a common artefact of hand-edited files).
 */
export async function readCsvHeader(path: string): Promise<string[]> {
  return (await readCsvHead(path)).header;
}

export interface CsvHead {
  header: string[];
  /** Complete data lines from the first 64 KiB, split into fields (a sample for type decisions). */
  sample: string[][];
}

/** The header line and a sample of the first rows of a CSV file. */
export async function readCsvHead(path: string): Promise<CsvHead> {
  const name = basename(path);
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw fsError(path, err);
  });
  let text: string;
  let truncated = false;
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const bytes = buf.subarray(0, bytesRead);
    if (bytes.includes(0)) {
      throw new DataError(`${path}: not a text CSV file (it contains binary data)`, `remove ${name} from the folder`);
    }
    truncated = bytesRead === buf.length;
    text = bytes.toString('utf8');
  } finally {
    await fh.close();
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') {
    throw new DataError(`${path}: file is empty`, `add a header line and rows, or remove ${name}`);
  }
  const nl = text.indexOf('\n');
  if (nl < 0 && truncated) {
    throw new DataError(`${path}: line 1 (the header) is longer than 64 KiB`, 'is this a CSV file?');
  }
  const line = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, '');
  const names = (parseCsvRecords(line, path)[0]?.fields ?? ['']).map((s) => s.trim());
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (n === '') {
      throw new DataError(
        `${path}: line 1: column ${i + 1} of the header has no name`,
        'name every column (a pandas index column? write the file with to_csv(index=False))',
      );
    }
    if (seen.has(n)) throw new DataError(`${path}: line 1: column "${n}" appears twice in the header`, 'rename one of them');
    seen.add(n);
  });
  if (names.length < 2) {
    throw new DataError(
      `${path}: line 1: the header has a single column "${names[0]}"`,
      'files must be comma-separated with a header line (is it separated by ";" or tabs?)',
    );
  }
  let body = nl < 0 ? '' : text.slice(nl + 1);
  if (truncated) body = body.slice(0, body.lastIndexOf('\n') + 1); // the last line may be cut
  // Lenient: the sample only informs column kinds; the full read reports a broken row with its line.
  const sample = parseCsvRecords(body, path, true).map((r) => r.fields);
  return { header: names, sample };
}

/** The data files a path names: the file itself, or every data file of a folder. */
export async function csvFilesAt(path: string): Promise<CsvFile[]> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new ConfigError(`${path}: no such file or folder`, 'check the path');
  if (st.isFile()) return [{ path, name: basename(path), size: st.size }];
  const { csv } = await listCsvFiles(path);
  if (csv.length === 0) throw new DataError(`${path}: no data files (${DATA_EXTENSIONS.join(', ')})`, 'put the data files there');
  return csv;
}
