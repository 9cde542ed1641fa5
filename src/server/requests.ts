/**
 * Turning a prediction request into rows of feature values, in the model's feature order.
 * Accepted: {"rows": [{...}]}, {"dataframe_split": {"columns": [...], "data": [[...]]}},
 * {"dataframe_records": [{...}]}, and text/csv. A value is a number or null (missing, imputed
 * with the training mean). Anything else is the client's mistake: HttpError 400 naming it.
 */
import { DataError, quote, quoteList } from '../errors.js';
import { numericCell, parseCsvRecords } from '../data/csvfiles.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

function checkColumns(columns: readonly string[], features: readonly string[], where: string): void {
  const have = new Set(columns);
  if (have.size !== columns.length) {
    const twice = columns.find((c, i) => columns.indexOf(c) !== i);
    throw new HttpError(400, `${where}: column ${quote(twice)} is listed twice`, 'send each feature column once');
  }
  const missing = features.filter((f) => !have.has(f));
  const want = new Set(features);
  const extra = columns.filter((c) => !want.has(c));
  if (missing.length || extra.length) {
    const parts = [];
    if (missing.length) parts.push(`missing feature column${missing.length > 1 ? 's' : ''} ${quoteList(missing)}`);
    if (extra.length) parts.push(`unknown column${extra.length > 1 ? 's' : ''} ${quoteList(extra)}`);
    throw new HttpError(400, `${where}: ${parts.join('; ')}`, `send exactly the model's features: ${quoteList(features, 20)}`);
  }
}

const value = (v: unknown, row: number, col: string): number => {
  if (v === null) return Number.NaN;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new HttpError(400, `row ${row}: column ${quote(col)} holds ${quote(v)}, not a finite number`, 'send numbers, or null for a missing value');
};

function fromRecords(records: unknown, features: readonly string[], key: string): Float64Array[] {
  if (!Array.isArray(records) || records.length === 0) throw new HttpError(400, `"${key}" must be a non-empty array of objects`);
  const rows: Float64Array[] = new Array(records.length);
  const d = features.length;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i] as Record<string, unknown>;
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new HttpError(400, `${key}[${i}] must be an object of feature values`);
    const keys = Object.keys(rec);
    if (keys.length !== d || features.some((f) => !Object.hasOwn(rec, f))) checkColumns(keys, features, `${key}[${i}]`);
    const x = new Float64Array(d);
    for (let j = 0; j < d; j++) x[j] = value(rec[features[j]!], i, features[j]!);
    rows[i] = x;
  }
  return rows;
}

function fromSplit(split: unknown, features: readonly string[]): Float64Array[] {
  const s = split as { columns?: unknown; data?: unknown };
  if (typeof s !== 'object' || s === null || !Array.isArray(s.columns) || !Array.isArray(s.data)) {
    throw new HttpError(400, '"dataframe_split" must be {"columns": [...], "data": [[...], ...]}');
  }
  const columns = s.columns as string[];
  checkColumns(columns, features, 'dataframe_split.columns');
  if (s.data.length === 0) throw new HttpError(400, '"dataframe_split.data" has no rows');
  const pos = features.map((f) => columns.indexOf(f));
  return (s.data as unknown[]).map((r, i) => {
    if (!Array.isArray(r) || r.length !== columns.length) {
      throw new HttpError(400, `dataframe_split.data[${i}] must be an array of ${columns.length} values`);
    }
    return Float64Array.from(pos, (p, j) => value(r[p], i, features[j]!));
  });
}

/** Rows of a parsed JSON body; `{path}` bodies are handled by the caller. */
export function rowsFromJson(body: unknown, features: readonly string[]): Float64Array[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be a JSON object', 'send {"rows": [{...}]}, {"dataframe_split": ...}, {"dataframe_records": ...} or {"path": ...}');
  }
  const b = body as Record<string, unknown>;
  if ('rows' in b) return fromRecords(b.rows, features, 'rows');
  if ('dataframe_records' in b) return fromRecords(b.dataframe_records, features, 'dataframe_records');
  if ('dataframe_split' in b) return fromSplit(b.dataframe_split, features);
  throw new HttpError(400, `unknown request shape (keys: ${quoteList(Object.keys(b)) || 'none'})`, 'send "rows", "dataframe_split", "dataframe_records" or "path"');
}

/**
 * Rows of a text/csv body with a header line, split and checked by the same rules as data files
 * (csvfiles.ts): their DataErrors, which name the line and column, become 400s.
 */
export function rowsFromCsv(text: string, features: readonly string[]): Float64Array[] {
  try {
    const records = parseCsvRecords(text, 'CSV body');
    if (records.length < 2) throw new HttpError(400, 'the CSV body needs a header line and at least one row');
    const header = records[0]!.fields.map((h) => h.trim());
    checkColumns(header, features, 'CSV header');
    const pos = features.map((f) => header.indexOf(f));
    return records.slice(1).map((r) => {
      if (r.fields.length !== header.length) {
        throw new HttpError(400, `CSV body: line ${r.line}: expected ${header.length} fields, found ${r.fields.length}`);
      }
      return Float64Array.from(pos, (p, j) => numericCell(r.fields[p]!, 'CSV body', r.line, features[j]!));
    });
  } catch (err) {
    if (err instanceof DataError) throw new HttpError(400, err.message, err.hint);
    throw err;
  }
}
