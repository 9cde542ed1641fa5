/**
 * A model as one SQL query (`mlops export --sql`), so a warehouse scores its own rows: it selects
 * the id columns, `prediction`, and for classification `probability` (of the positive class).
 * The table's columns may be typed or text: every input is read through its text form with the
 * readers' missing tokens (NA, null, ...), so the encoding is the one src/model/family.ts
 * applies: numbers (missing: the training mean for linear models), a categorical's level code
 * (any other value: "other"), booleans as 1/0. Linear models are the linear form through the
 * link, summed in the order predictEncoded sums them; trees are nested CASEs
 * (src/model/gbt/sql.ts), baseline first, then tree by tree. Numbers are written in exponent
 * form, which every dialect reads as a double.
 */
import { MISSING_TOKENS } from '../data/csvfiles.js';
import { gbtToSqlCase } from './gbt/sql.js';
import type { InputSpec, ModelFile } from './modelfile.js';

export const DIALECTS = ['duckdb', 'clickhouse', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const str = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const num = (v: number) => v.toExponential();

interface DialectSql {
  text: (e: string) => string;
  toDouble: (e: string) => string;
  isNaN: (e: string) => string;
}

const DIALECT: Record<Dialect, DialectSql> = {
  duckdb: { text: (e) => `CAST(${e} AS VARCHAR)`, toDouble: (e) => `TRY_CAST(${e} AS DOUBLE)`, isNaN: (e) => `isnan(${e})` },
  clickhouse: { text: (e) => `toString(${e})`, toDouble: (e) => `toFloat64OrNull(${e})`, isNaN: (e) => `isNaN(${e})` },
  postgres: { text: (e) => `CAST(${e} AS TEXT)`, toDouble: (e) => `CAST(${e} AS DOUBLE PRECISION)`, isNaN: (e) => `(${e} = CAST('NaN' AS DOUBLE PRECISION))` },
};

/** The text of a column with the missing tokens as NULL. */
function cell(d: DialectSql, col: string): string {
  const t = d.text(ident(col));
  return `CASE WHEN ${t} IS NULL OR ${t} IN (${MISSING_TOKENS.map(str).join(', ')}) THEN NULL ELSE ${t} END`;
}

/** An input's encoded value (NULL when missing). */
function inputSql(d: DialectSql, s: InputSpec): string {
  const c = cell(d, s.name);
  if (s.kind === 'categorical') {
    if (s.levels.length === 0) return `CASE WHEN (${c}) IS NULL THEN NULL ELSE ${num(0)} END`;
    return `CASE WHEN (${c}) IS NULL THEN NULL ${s.levels.map((l, i) => `WHEN (${c}) = ${str(l)} THEN ${num(i)}`).join(' ')} ELSE ${num(s.levels.length)} END`;
  }
  if (s.kind === 'boolean') {
    const l = `lower(trim(${c}))`;
    return `CASE WHEN ${l} IN ('true', 'yes', 't', 'y', '1') THEN ${num(1)} WHEN ${l} IN ('false', 'no', 'f', 'n', '0') THEN ${num(0)} ELSE NULL END`;
  }
  return d.toDouble(`trim(${c})`);
}

export interface ExportOptions {
  dialect: Dialect;
  table: string;
}

export function modelToSql(model: ModelFile, opts: ExportOptions): string {
  const d = DIALECT[opts.dialect];
  const ids = model.id_columns.map(ident);
  const keep = ids.length ? `${ids.join(', ')}, ` : '';
  const inputs = model.inputs.map((s, j) => `${inputSql(d, s)} AS x${j}`);
  const x = (j: number) => `x${j}`;
  let raw: string;
  if (model.trees) {
    raw = gbtToSqlCase(model.trees, model.inputs.map((_, j) => x(j))).replace(/isnan\(\((x\d+)\)\)/g, (_m, v: string) => d.isNaN(v));
  } else {
    const l = model.linear!;
    const terms = l.terms.map((t, k) => {
      const s = model.inputs[t.input]!;
      const v =
        t.code === null ? `coalesce(${x(t.input)}, ${num((s as { fill: number }).fill)})`
        : t.code === -1 ? `CASE WHEN ${x(t.input)} IS NULL THEN ${num(1)} ELSE ${num(0)} END`
        : `CASE WHEN ${x(t.input)} = ${num(t.code)} THEN ${num(1)} ELSE ${num(0)} END`;
      return `${num(l.coefficients[k]!)} * ${v}`;
    });
    // left to right, the order predictEncoded adds the terms
    raw = terms.reduce((acc, t) => `(${acc} + ${t})`, num(l.intercept));
  }
  const encoded = `SELECT ${keep}${inputs.join(', ')} FROM ${opts.table}`;
  if (model.task === 'regression') return `SELECT ${keep}${raw} AS prediction\nFROM (${encoded}) AS encoded`;
  const p = `CASE WHEN raw >= 0 THEN 1 / (1 + exp(-raw)) ELSE exp(raw) / (1 + exp(raw)) END`;
  const label = (v: number | string) => (typeof v === 'number' ? num(v) : str(v));
  const { positive, negative } = model.labels!;
  return (
    `SELECT ${keep}CASE WHEN probability > ${num(model.threshold)} THEN ${label(positive)} ELSE ${label(negative)} END AS prediction, probability\n` +
    `FROM (SELECT ${keep}${p} AS probability\n` +
    `FROM (SELECT ${keep}${raw} AS raw\n` +
    `FROM (${encoded}) AS encoded) AS scored) AS linked`
  );
}
