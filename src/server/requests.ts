/**
 * Turning a prediction request into the model's encoded rows (src/model/family.ts) plus the id
 * columns it carries. Accepted: {"rows": [{...}]}, {"dataframe_split": {"columns": [...],
 * "data": [[...]]}}, {"dataframe_records": [{...}]}, and text/csv. A value is a number, a string
 * for a categorical (or boolean) feature, or null (missing). The model's features must all be
 * there; its id columns may be, and come back with the predictions. Anything else is the
 * client's mistake: HttpError 400 naming it.
 */
import { DataError, quote, quoteList } from '../errors.js';
import { MISSING_TOKENS, numericCell, parseCsvRecords } from '../data/csvfiles.js';
import { encodeRow } from '../model/family.js';
import type { ModelFile } from '../model/modelfile.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export type ExtraColumns = 'reject' | 'ignore' | 'pass';

export interface RequestRows {
  X: Float64Array[];
  /** id column (and, with extra columns passed through, any other column) -> its value per row. */
  ids: Record<string, unknown[]>;
  /** Categorical inputs with a value outside the model's levels, one entry per value. */
  unseen: string[];
}

const MISSING = new Set(MISSING_TOKENS);

function checkColumns(columns: readonly string[], model: ModelFile, where: string, extraColumns: ExtraColumns): void {
  const have = new Set(columns);
  if (have.size !== columns.length) {
    const twice = columns.find((c, i) => columns.indexOf(c) !== i);
    throw new HttpError(400, `${where}: column ${quote(twice)} is listed twice`, 'send each feature column once');
  }
  const missing = model.features.filter((f) => !have.has(f));
  const known = new Set([...model.features, ...model.id_columns]);
  const extra = extraColumns === 'reject' ? columns.filter((c) => !known.has(c)) : [];
  if (missing.length || extra.length) {
    const parts = [];
    if (missing.length) parts.push(`missing feature column${missing.length > 1 ? 's' : ''} ${quoteList(missing)}`);
    if (extra.length) parts.push(`unknown column${extra.length > 1 ? 's' : ''} ${quoteList(extra)}`);
    const ids = model.id_columns.length ? ` (and optionally the id columns ${quoteList(model.id_columns, 20)})` : '';
    throw new HttpError(400, `${where}: ${parts.join('; ')}`, `send the model's features: ${quoteList(model.features, 20)}${ids}`);
  }
}

function collect(model: ModelFile, records: Record<string, unknown>[], where: (i: number) => string, extra: ExtraColumns): RequestRows {
  const features = new Set(model.features);
  const carried = (rec: Record<string, unknown>) => (extra === 'pass' ? Object.keys(rec).filter((c) => !features.has(c)) : model.id_columns);
  const X: Float64Array[] = new Array(records.length);
  const ids: Record<string, unknown[]> = {};
  const unseen: string[] = [];
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    try {
      const r = encodeRow(model, rec, where(i));
      X[i] = r.x;
      if (r.unseen.length) unseen.push(...r.unseen);
    } catch (err) {
      if (err instanceof DataError) throw new HttpError(400, err.message, 'send numbers for numeric features, strings for categorical ones, or null for a missing value');
      throw err;
    }
    for (const c of carried(rec)) if (Object.hasOwn(rec, c)) (ids[c] ??= new Array(records.length).fill(null))[i] = rec[c];
  }
  return { X, ids, unseen };
}

function fromRecords(records: unknown, model: ModelFile, key: string, extra: ExtraColumns): RequestRows {
  if (!Array.isArray(records) || records.length === 0) throw new HttpError(400, `"${key}" must be a non-empty array of objects`);
  const d = model.features.length;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i] as Record<string, unknown>;
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new HttpError(400, `${key}[${i}] must be an object of feature values`);
    const keys = Object.keys(rec);
    if (keys.length !== d || model.features.some((f) => !Object.hasOwn(rec, f))) checkColumns(keys, model, `${key}[${i}]`, extra);
  }
  return collect(model, records as Record<string, unknown>[], (i) => `row ${i}`, extra);
}

/** Rows given as arrays of values in the model's feature order (MLflow "instances" as lists). */
function fromLists(lists: unknown[], model: ModelFile, key: string, extra: ExtraColumns): RequestRows {
  const d = model.features.length;
  const records = lists.map((r, i) => {
    if (!Array.isArray(r) || r.length !== d) throw new HttpError(400, `${key}[${i}] must be an array of the ${d} feature values in the model's order`, `features: ${quoteList(model.features, 20)}`);
    return Object.fromEntries(model.features.map((f, j) => [f, r[j]]));
  });
  return collect(model, records, (i) => `row ${i}`, extra);
}

/** Columns as arrays of equal length (MLflow "inputs" as a dict). */
function fromColumns(cols: Record<string, unknown>, model: ModelFile, key: string, extra: ExtraColumns): RequestRows {
  const names = Object.keys(cols);
  checkColumns(names, model, key, extra);
  const lengths = new Set(names.map((c) => (Array.isArray(cols[c]) ? (cols[c] as unknown[]).length : -1)));
  if (lengths.has(-1) || lengths.size !== 1) throw new HttpError(400, `"${key}" must map every column to an array of the same length`);
  const n = [...lengths][0]!;
  if (n === 0) throw new HttpError(400, `"${key}" has no rows`);
  const records = Array.from({ length: n }, (_, i) => Object.fromEntries(names.map((c) => [c, (cols[c] as unknown[])[i]])));
  return collect(model, records, (i) => `row ${i}`, extra);
}

function fromSplit(split: unknown, model: ModelFile, extra: ExtraColumns): RequestRows {
  const s = split as { columns?: unknown; data?: unknown };
  if (typeof s !== 'object' || s === null || !Array.isArray(s.columns) || !Array.isArray(s.data)) {
    throw new HttpError(400, '"dataframe_split" must be {"columns": [...], "data": [[...], ...]}');
  }
  const columns = s.columns as string[];
  checkColumns(columns, model, 'dataframe_split.columns', extra);
  if (s.data.length === 0) throw new HttpError(400, '"dataframe_split.data" has no rows');
  const records = (s.data as unknown[]).map((r, i) => {
    if (!Array.isArray(r) || r.length !== columns.length) {
      throw new HttpError(400, `dataframe_split.data[${i}] must be an array of ${columns.length} values`);
    }
    return Object.fromEntries(columns.map((c, j) => [c, r[j]]));
  });
  return collect(model, records, (i) => `row ${i}`, extra);
}

/**
 * Rows of a parsed JSON body; `{path}` bodies are handled by the caller. MLflow's scoring
 * protocol shapes are all accepted: dataframe_split, dataframe_records, instances (records or
 * lists in feature order) and inputs (records, or a dict of columns).
 */
export function rowsFromJson(body: unknown, model: ModelFile, extra: ExtraColumns = 'reject'): RequestRows {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be a JSON object', 'send {"rows": [{...}]}, {"dataframe_split": ...}, {"dataframe_records": ...}, {"instances": ...}, {"inputs": ...} or {"path": ...}');
  }
  const b = body as Record<string, unknown>;
  if ('rows' in b) return fromRecords(b.rows, model, 'rows', extra);
  if ('dataframe_records' in b) return fromRecords(b.dataframe_records, model, 'dataframe_records', extra);
  if ('dataframe_split' in b) return fromSplit(b.dataframe_split, model, extra);
  for (const key of ['instances', 'inputs'] as const) {
    if (!(key in b)) continue;
    const v = b[key];
    if (Array.isArray(v) && v.length > 0 && Array.isArray(v[0])) return fromLists(v, model, key, extra);
    if (Array.isArray(v)) return fromRecords(v, model, key, extra);
    if (key === 'inputs' && typeof v === 'object' && v !== null) return fromColumns(v as Record<string, unknown>, model, key, extra);
    throw new HttpError(400, `"${key}" must be an array of records or of value lists${key === 'inputs' ? ', or an object of columns' : ''}`);
  }
  throw new HttpError(400, `unknown request shape (keys: ${quoteList(Object.keys(b)) || 'none'})`, 'send "rows", "dataframe_split", "dataframe_records", "instances", "inputs" or "path"');
}

/**
 * Rows of a text/csv body with a header line, split and checked by the same rules as data files
 * (csvfiles.ts): their DataErrors, which name the line and column, become 400s.
 */
export function rowsFromCsv(text: string, model: ModelFile, extra: ExtraColumns = 'reject'): RequestRows {
  try {
    const records = parseCsvRecords(text, 'CSV body');
    if (records.length < 2) throw new HttpError(400, 'the CSV body needs a header line and at least one row');
    const header = records[0]!.fields.map((h) => h.trim());
    checkColumns(header, model, 'CSV header', extra);
    const numeric = new Set(model.inputs.filter((s) => s.kind === 'numeric').map((s) => s.name));
    const rows = records.slice(1).map((r) => {
      if (r.fields.length !== header.length) {
        throw new HttpError(400, `CSV body: line ${r.line}: expected ${header.length} fields, found ${r.fields.length}`);
      }
      return Object.fromEntries(
        header.map((c, j) => {
          const cell = r.fields[j]!;
          return [c, numeric.has(c) ? numericCell(cell, 'CSV body', r.line, c) : MISSING.has(cell) ? null : cell];
        }),
      );
    });
    // NaN from numericCell is a missing value
    for (const row of rows) for (const c of numeric) if (Number.isNaN(row[c])) row[c] = null;
    return collect(model, rows, (i) => `CSV body: line ${records[i + 1]!.line}`, extra);
  } catch (err) {
    if (err instanceof DataError) throw new HttpError(400, err.message, err.hint);
    throw err;
  }
}
