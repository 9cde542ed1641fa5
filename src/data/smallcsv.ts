/**
 * Small files (test data, prediction inputs, the classic data set) read in JavaScript, so a
 * command on them does not pay ~0.15 s to load and open DuckDB. Same rules and messages as the
 * DuckDB path (src/data/table.ts): the header checks of csvfiles.ts, column kinds from the same
 * sample, RFC 4180 quoting with a quote opening a field only at its start (elsewhere it is a
 * character), blank lines skipped, a wrong field count, a broken quote, a non-numeric or
 * infinite value an error naming file, line and column. Parity with DuckDB is tested.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DataError } from '../errors.js';
import { MISSING_TOKENS, numericCell, parseCsvRecords, readCsvHead, readPath, type CsvFile } from './csvfiles.js';

const MISSING = new Set(MISSING_TOKENS);
import { thirdLabelError, type LabelValue } from './labels.js';
import { assertPlain, checkSameColumns, inputSha256, sampleKinds, type ColumnInfo, type LoadedFile, type LoadedTable } from './table.js';

/** Inputs up to this size in all are read here; larger ones by DuckDB. */
export const SMALL_CSV_BYTES = Number(process.env.MLOPS_SMALL_CSV_BYTES ?? 1 << 20);

/**
 * Load small CSV files into numeric columns: the table description the DuckDB path gives
 * (numeric columns only) and every numeric column's values, NaN where missing. With `labels`,
 * that column's values must be labels (src/data/labels.ts), as in loadCsvTable.
 */
export async function loadSmallCsv(
  files: readonly CsvFile[],
  forcedNumeric: readonly string[],
  labels: string | null = null,
  forcedText: readonly string[] = [],
): Promise<{ table: LoadedTable; values: Map<string, Float64Array>; text: Map<string, (string | null)[]> }> {
  assertPlain(files);
  const heads = [];
  for (const f of files) heads.push(await readCsvHead(readPath(f)));
  checkSameColumns(files, heads.map((h) => h.header));
  const numeric = sampleKinds(heads[0]!.header, heads, new Set(forcedNumeric), new Set(forcedText));
  const columns = heads[0]!.header.filter((c) => numeric.has(c));
  const textColumns = heads[0]!.header.filter((c) => !numeric.has(c));
  const parts: number[][] = columns.map(() => []);
  const textParts: (string | null)[][] = textColumns.map(() => []);
  const loaded: LoadedFile[] = [];
  let total = 0;
  // the label rule of loadCsvTable: a third distinct value is an error at its line
  const labelsSeen: LabelValue[] = [];
  const seeLabel = (v: LabelValue, path: string, line: number) => {
    if (labelsSeen.includes(v)) return;
    if (labelsSeen.length === 2) throw thirdLabelError(path, line, labels!, labelsSeen, v);
    labelsSeen.push(v);
  };
  for (const [k, f] of files.entries()) {
    // messages name the path read (a plain copy's: withPlainCsv names the input instead)
    const path = readPath(f);
    const buf = await readFile(path);
    const text = buf.toString('utf8');
    const header = heads[k]!.header;
    const records = parseCsvRecords(text, path).slice(1);
    if (records.length === 0) throw new DataError(`${f.path}: has a header but no data rows`, `add rows or remove ${f.name} from the folder`);
    const pos = columns.map((c) => header.indexOf(c));
    const textPos = textColumns.map((c) => header.indexOf(c));
    const labelAt = labels === null ? -1 : columns.indexOf(labels);
    const textLabelAt = labels === null ? -1 : textColumns.indexOf(labels);
    for (const r of records) {
      if (r.fields.length !== header.length) {
        const raw = text.slice(r.start, r.end).replace(/\r?\n$/, '');
        const shown = raw.length <= 80 ? ` (${JSON.stringify(raw)})` : '';
        throw new DataError(
          `${path}: line ${r.line}: cannot parse CSV: expected ${header.length} fields, found ${r.fields.length}${shown}`,
          `fix or remove that row of ${f.name}`,
        );
      }
      for (let j = 0; j < columns.length; j++) {
        const v = numericCell(r.fields[pos[j]!]!, path, r.line, columns[j]!);
        if (j === labelAt && v === v) seeLabel(v, path, r.line);
        parts[j]!.push(v);
      }
      for (let j = 0; j < textColumns.length; j++) {
        const cell = r.fields[textPos[j]!]!;
        textParts[j]!.push(MISSING.has(cell) ? null : cell);
        if (j === textLabelAt && !MISSING.has(cell)) seeLabel(cell, path, r.line);
      }
    }
    loaded.push({ ...f, rows: records.length, sha256: inputSha256(f, createHash('sha256').update(buf).digest('hex')), firstRow: total });
    total += records.length;
  }
  const text = new Map(textColumns.map((c, j) => [c, textParts[j]!]));
  const values = new Map<string, Float64Array>();
  const infos: ColumnInfo[] = columns.map((c, j) => {
    const col = Float64Array.from(parts[j]!);
    values.set(c, col);
    let missing = 0;
    let integral = true;
    for (let i = 0; i < col.length; i++) {
      const v = col[i]!;
      if (v !== v) missing++;
      else if (integral && (v !== Math.trunc(v) || Math.abs(v) > 2 ** 53)) integral = false;
    }
    return { name: c, kind: integral && missing < col.length ? 'integer' : 'float', missing };
  });
  const textInfos: ColumnInfo[] = textColumns.map((c, j) => ({ name: c, kind: 'string', missing: textParts[j]!.filter((v) => v === null).length }));
  const order = heads[0]!.header;
  const all = [...infos, ...textInfos].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return { table: { view: '', columns: all, files: loaded, rows: total }, values, text };
}
