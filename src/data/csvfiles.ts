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

/** Split one CSV line into fields (RFC 4180 quoting). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
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
  const names = splitCsvLine(line).map((s) => s.trim());
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
  const body = nl < 0 ? '' : text.slice(nl + 1);
  const lines = body.split('\n');
  if (truncated) lines.pop(); // the last line may be cut
  const sample = lines.filter((l) => l.trim() !== '').map((l) => splitCsvLine(l.replace(/\r$/, '')));
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
