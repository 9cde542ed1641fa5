/** Finding the CSV files of a folder and reading their header lines. */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ConfigError, DataError } from '../errors.js';

export interface CsvFile {
  path: string;
  name: string;
  size: number;
}

export interface FolderListing {
  csv: CsvFile[];
  /** Other entries (e.g. .DS_Store, "Icon\r", README) that were not read. */
  ignored: string[];
}

/**
 * Every `.csv` file of a folder (case-insensitive extension), sorted by name with a plain code
 * point comparison so the order does not depend on the locale.
 */
export async function listCsvFiles(folder: string): Promise<FolderListing> {
  const entries = await readdir(folder, { withFileTypes: true });
  const csv: CsvFile[] = [];
  const ignored: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || !e.name.toLowerCase().endsWith('.csv')) {
      ignored.push(e.name);
      continue;
    }
    const path = join(folder, e.name);
    const st = await stat(path);
    if (!st.isFile()) {
      ignored.push(e.name);
      continue;
    }
    csv.push({ path, name: e.name, size: st.size });
  }
  csv.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  ignored.sort();
  return { csv, ignored };
}

/** Cell texts read as missing values, as pandas does by default. */
export const MISSING_TOKENS = ['', 'NA', 'N/A', 'n/a', 'NaN', 'nan', '-NaN', 'null', 'NULL', 'None', '#N/A'];
const MISSING = new Set(MISSING_TOKENS);

/** A decimal number as DuckDB's DOUBLE cast reads it (spaces around allowed). */
export const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

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

/** The value of a numeric cell: NaN when missing; DataError naming file, line and column when not a finite number. */
export function numericCell(cell: string, path: string, line: number, column: string): number {
  if (MISSING.has(cell)) return Number.NaN;
  const t = cell.trim();
  let v: number;
  if (NUMBER.test(t)) v = Number(t);
  else if (/^[-+]?(inf|infinity)$/i.test(t)) v = t.startsWith('-') ? -Infinity : Infinity;
  else if (/^[-+]?nan$/i.test(t)) v = Number.NaN;
  else {
    throw new DataError(`${path}: line ${line}: column "${column}" holds ${JSON.stringify(cell)}, not a number`, 'fix the value or leave the cell empty to mark it missing');
  }
  if (!Number.isFinite(v)) {
    throw new DataError(`${path}: line ${line}: column "${column}" holds ${v}, not a finite number`, 'fix the value or leave the cell empty to mark it missing');
  }
  return v;
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
  const fh = await open(path, 'r');
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

/** The CSV files a path names: the file itself, or every .csv of a folder. */
export async function csvFilesAt(path: string): Promise<CsvFile[]> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new ConfigError(`${path}: no such file or folder`, 'check the path');
  if (st.isFile()) return [{ path, name: basename(path), size: st.size }];
  const { csv } = await listCsvFiles(path);
  if (csv.length === 0) throw new DataError(`${path}: no .csv files`, 'put CSV data files there');
  return csv;
}
