/**
 * A loaded table as the model sees it: column statistics for the roles, category levels, and
 * columns as Float64Arrays (numbers, 0/1 booleans, category codes, 0/1 labels), over either a
 * DuckDB table or the arrays of a small file read in JavaScript. Both give the same values, so
 * the model code never knows which reader ran.
 */
import { DataError } from '../errors.js';
import type { ColumnStats } from '../model/roles.js';
import { booleanValue } from '../model/roles.js';
import type { Db } from './duck.js';
import { sqlIdent, sqlString } from './duck.js';
import { encodeLabel, type LabelMap, type LabelValue } from './labels.js';
import { readFloatColumns, rowLocation, type LoadedTable } from './table.js';

export interface Level {
  value: string;
  count: number;
}

export interface Frame {
  table: LoadedTable;
  /** Kind and counts of every column (for the roles). */
  stats(): Promise<ColumnStats[]>;
  /** Non-missing values of a text column by count (most first, then by value), at most `limit`; and how many distinct there are. */
  levels(col: string, limit: number): Promise<{ levels: Level[]; distinct: number }>;
  /** The distinct non-missing values of a column, at most `limit`. */
  distinct(col: string, limit: number): Promise<LabelValue[]>;
  numeric(cols: readonly string[]): Promise<Float64Array[]>;
  /** 1/0 for a text column of boolean words, NaN for missing (and any other word). */
  booleans(col: string): Promise<Float64Array>;
  /** Codes of a text column: the index in `levels`, `levels.length` for any other value, NaN for missing; and how many were other. */
  codes(col: string, levels: readonly string[]): Promise<{ codes: Float64Array; other: number }>;
  text(col: string): Promise<(string | null)[]>;
  /** 1/0/NaN by the label map; a value that is neither class is an error naming its file and line. */
  labels(col: string, map: LabelMap): Promise<Float64Array>;
}

const byCountThenValue = (a: Level, b: Level) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

function unknownLabel(path: string, line: number | undefined, col: string, v: LabelValue, map: LabelMap): DataError {
  return new DataError(
    `${path}: ${line === undefined ? '' : `line ${line}: `}target column "${col}" holds ${JSON.stringify(v)}, which is neither class of the model (${JSON.stringify(map.negative)}, ${JSON.stringify(map.positive)})`,
    'score with data labelled like the training data',
  );
}

const rowLine = (table: LoadedTable, row: number) => rowLocation(table.files, row);

/**
 * The roles' counts of every column of a DuckDB table (Frame.stats) in one aggregate. `distinct`:
 * the distinct counts of integer columns already counted (ingest counts them as it streams the
 * columns out: a bitmap is far cheaper than count(DISTINCT)); the others are counted here.
 */
export async function duckStats(db: Db, table: LoadedTable, distinct: ReadonlyMap<string, number> = new Map()): Promise<ColumnStats[]> {
  const cols = table.columns;
  const aggs = cols.flatMap((c, i) => {
    const id = sqlIdent(c.name);
    const minMax = [`count(${id}) AS p${i}`, `min(${id})::VARCHAR AS a${i}`, `max(${id})::VARCHAR AS b${i}`];
    return c.kind === 'float' || (c.kind === 'integer' && distinct.has(c.name)) ? minMax : [...minMax, `count(DISTINCT ${id}) AS d${i}`];
  });
  const [row] = (await db.rows<Record<string, unknown>>(`SELECT ${aggs.join(', ')} FROM ${table.view}`)) as [Record<string, unknown>];
  return cols.map((c, i): ColumnStats => {
    const present = Number(row[`p${i}`]);
    const lo = row[`a${i}`] as string | null;
    const hi = row[`b${i}`] as string | null;
    let d: number | null = c.kind === 'float' ? null : c.kind === 'integer' && distinct.has(c.name) ? distinct.get(c.name)! : Number(row[`d${i}`]);
    if (c.kind === 'float' && lo === hi && lo !== null) d = 1;
    const few = d !== null && d <= 2 && lo !== null && hi !== null;
    const values = few ? [...new Set([lo, hi])].map((v) => (c.kind === 'string' ? v : String(Number(v)))) : null;
    return { name: c.name, kind: c.kind, present, distinct: d, values };
  });
}

/**
 * The distinct values of an integer column counted in a bitmap over [min, max] (a range of at
 * most 2^26), as the values stream past: count(DISTINCT) without a hash table.
 */
export class IntegerDistinct {
  private readonly bits: Uint32Array;
  count = 0;

  constructor(private readonly min: number, max: number) {
    this.bits = new Uint32Array(Math.floor((max - min) / 32) + 1);
  }

  /** Whether a column with this range is counted this way. */
  static fits(min: number | null | undefined, max: number | null | undefined): boolean {
    return typeof min === 'number' && typeof max === 'number' && max - min < 2 ** 26;
  }

  /** The first `n` values (NaN: missing, not counted). */
  add(values: Float64Array, n: number): void {
    const { bits, min } = this;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (v !== v) continue;
      const k = v - min;
      const w = k >>> 5;
      const b = 1 << (k & 31);
      if ((bits[w]! & b) === 0) {
        bits[w]! |= b;
        this.count++;
      }
    }
  }
}

/** A frame over a DuckDB table or view whose rowid is the row order. */
export function duckFrame(db: Db, table: LoadedTable): Frame {
  const from = table.view;
  const kind = (c: string) => table.columns.find((x) => x.name === c)?.kind;
  return {
    table,
    stats: () => duckStats(db, table),
    async levels(col, limit) {
      const id = sqlIdent(col);
      const rows = await db.rows<{ v: string; n: bigint; d: bigint }>(
        `SELECT CAST(${id} AS VARCHAR) AS v, count(*) AS n, count(*) OVER () AS d FROM ${from} WHERE ${id} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT ${limit}`,
      );
      const distinct = rows.length ? Number(rows[0]!.d) : 0;
      return { levels: rows.map((r) => ({ value: r.v, count: Number(r.n) })), distinct };
    },
    async distinct(col, limit) {
      const id = sqlIdent(col);
      const rows = await db.rows<{ v: number | string }>(`SELECT ${id} AS v FROM ${from} WHERE ${id} IS NOT NULL GROUP BY 1 ORDER BY min(rowid) LIMIT ${limit}`);
      return rows.map((r) => r.v);
    },
    numeric: (cols) => readFloatColumns(db, from, cols, table.rows),
    async booleans(col) {
      const e = `lower(trim(CAST(${sqlIdent(col)} AS VARCHAR)))`;
      const [out] = await readFloatColumns(db, `(SELECT CASE WHEN ${e} IN ('true', 'yes', 't', 'y', '1') THEN 1 WHEN ${e} IN ('false', 'no', 'f', 'n', '0') THEN 0 END AS b FROM ${from} ORDER BY rowid)`, ['b'], table.rows);
      return out!;
    },
    async codes(col, levels) {
      const id = `CAST(d.${sqlIdent(col)} AS VARCHAR)`;
      // a lookup table joined on the text: a CASE of 255 branches per row is slower
      const rows = levels.length ? levels.map((l, i) => `(${sqlString(l)}, ${i})`).join(', ') : '(NULL::VARCHAR, 0)';
      await db.exec(`CREATE OR REPLACE TEMP TABLE mlops_levels AS SELECT * FROM (VALUES ${rows}) t(v, code)`);
      const [codes] = await readFloatColumns(
        db,
        `(SELECT CASE WHEN ${id} IS NULL THEN NULL ELSE coalesce(l.code, ${levels.length}) END AS c FROM ${from} d LEFT JOIN mlops_levels l ON l.v = ${id} ORDER BY d.rowid)`,
        ['c'],
        table.rows,
      );
      let other = 0;
      for (let i = 0; i < codes!.length; i++) if (codes![i] === levels.length) other++;
      return { codes: codes!, other };
    },
    async text(col) {
      const out: (string | null)[] = [];
      const res = await db.conn.stream(`SELECT CAST(${sqlIdent(col)} AS VARCHAR) FROM ${from}`);
      for (;;) {
        const chunk = await res.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const vec = chunk.getColumnVector(0);
        for (let i = 0; i < chunk.rowCount; i++) out.push((vec.getItem(i) as string | null) ?? null);
      }
      return out;
    },
    async labels(col, map) {
      const numericCol = kind(col) !== 'string';
      const id = sqlIdent(col);
      const lit = (v: LabelValue) => (numericCol ? `${Number(v)}::DOUBLE` : sqlString(String(v)));
      const okPos = numericCol && !Number.isFinite(Number(map.positive)) ? 'FALSE' : `${id} = ${lit(map.positive)}`;
      const okNeg = numericCol && !Number.isFinite(Number(map.negative)) ? 'FALSE' : `${id} = ${lit(map.negative)}`;
      const [bad] = await db.rows<{ r: bigint; v: number | string }>(
        `SELECT rowid AS r, ${id} AS v FROM ${from} WHERE ${id} IS NOT NULL AND NOT (${okPos}) AND NOT (${okNeg}) ORDER BY rowid LIMIT 1`,
      );
      if (bad) {
        const { path, line } = await rowLine(table, Number(bad.r));
        throw unknownLabel(path, line, col, bad.v, map);
      }
      const [y] = await readFloatColumns(db, `(SELECT CASE WHEN ${okPos} THEN 1 WHEN ${okNeg} THEN 0 END AS y FROM ${from} ORDER BY rowid)`, ['y'], table.rows);
      return y!;
    },
  };
}

/** A frame over a small file's arrays (src/data/smallcsv.ts). */
export function arrayFrame(table: LoadedTable, values: ReadonlyMap<string, Float64Array>, text: ReadonlyMap<string, (string | null)[]>): Frame {
  return lazyFrame(
    table,
    async (c) => values.get(c)!,
    async (c) => text.get(c)!,
  );
}

/**
 * A frame over columns loaded on first use (and kept): a number column by `numbers`, a text
 * column by `strings`, each by the table's kind of the column. Used for the small-file arrays
 * and the columnar copy (src/data/columnar.ts).
 */
export function lazyFrame(
  table: LoadedTable,
  numbers: (col: string) => Promise<Float64Array>,
  strings: (col: string) => Promise<(string | null)[]>,
  /** The columns' stats when known already (the columnar copy records them). */
  known?: ColumnStats[],
): Frame {
  const kinds = new Map(table.columns.map((c) => [c.name, c.kind]));
  const numCache = new Map<string, Promise<Float64Array>>();
  const textCache = new Map<string, Promise<(string | null)[]>>();
  const isText = (c: string) => kinds.get(c) === 'string';
  const num = (c: string) => {
    let p = numCache.get(c);
    if (!p) numCache.set(c, (p = numbers(c)));
    return p;
  };
  const raw = (c: string) => {
    let p = textCache.get(c);
    if (!p) textCache.set(c, (p = strings(c)));
    return p;
  };
  /** A column as text: its own text, or numbers in JavaScript's form. */
  const textOf = async (c: string): Promise<(string | null)[]> => (isText(c) ? raw(c) : Array.from(await num(c), (x) => (x === x ? String(x) : null)));
  /** A column as labels: text for text columns, numbers otherwise. */
  const labelValues = async (c: string): Promise<ArrayLike<LabelValue | null>> => (isText(c) ? raw(c) : num(c));
  return {
    table,
    async stats() {
      if (known) return known;
      const out: ColumnStats[] = [];
      for (const c of table.columns) {
        if (c.kind === 'string') {
          const t = await raw(c.name);
          const set = new Set(t.filter((v): v is string => v !== null));
          out.push({ name: c.name, kind: 'string', present: t.length - c.missing, distinct: set.size, values: set.size <= 2 ? [...set].sort() : null });
          continue;
        }
        const v = await num(c.name);
        const set = new Set<number>();
        for (let i = 0; i < v.length; i++) if (v[i] === v[i]) set.add(v[i]!);
        const zeroOne = [...set].every((x) => x === 0 || x === 1);
        const distinct = c.kind === 'integer' ? set.size : set.size === 1 || (zeroOne && set.size <= 2) ? set.size : null;
        const values2 = set.size <= 2 && (c.kind === 'integer' || set.size === 1 || zeroOne) ? [...set].sort((a, b) => a - b).map(String) : null;
        out.push({ name: c.name, kind: c.kind, present: v.length - c.missing, distinct, values: values2 });
      }
      return out;
    },
    async levels(col, limit) {
      const counts = new Map<string, number>();
      for (const v of await textOf(col)) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
      const all = [...counts].map(([value, count]) => ({ value, count })).sort(byCountThenValue);
      return { levels: all.slice(0, limit), distinct: all.length };
    },
    async distinct(col, limit) {
      const out: LabelValue[] = [];
      const v = await labelValues(col);
      for (let i = 0; i < v.length && out.length < limit; i++) {
        const x = v[i]!;
        if (x !== null && x === x && !out.includes(x)) out.push(x);
      }
      return out;
    },
    numeric: async (cols) => Promise.all(cols.map(async (c) => (isText(c) ? Float64Array.from(await raw(c), (x) => (x === null ? Number.NaN : Number(x))) : num(c)))),
    async booleans(col) {
      return Float64Array.from(await textOf(col), (x) => (x === null ? Number.NaN : (booleanValue(x) ?? (x.trim() === '1' ? 1 : x.trim() === '0' ? 0 : Number.NaN))));
    },
    async codes(col, levels) {
      const index = new Map(levels.map((l, i) => [l, i]));
      let other = 0;
      const codes = Float64Array.from(await textOf(col), (x) => {
        if (x === null) return Number.NaN;
        const c = index.get(x);
        if (c === undefined) other++;
        return c ?? levels.length;
      });
      return { codes, other };
    },
    text: textOf,
    async labels(col, map) {
      const v = await labelValues(col);
      const y = new Float64Array(v.length);
      const { positive: pos, negative: neg } = map;
      if (v instanceof Float64Array && typeof pos === 'number' && typeof neg === 'number') {
        // numbers and numeric classes: encodeLabel's rule, without a call per row
        for (let i = 0; i < v.length; i++) {
          const x = v[i]!;
          y[i] = x === pos ? 1 : x === neg ? 0 : x !== x ? Number.NaN : -1;
        }
        const bad = y.indexOf(-1);
        if (bad < 0) return y;
      }
      for (let i = 0; i < v.length; i++) {
        const e = encodeLabel(map, v[i]!);
        if (e === undefined) {
          const { path, line } = await rowLine(table, i);
          throw unknownLabel(path, line, col, v[i]!, map);
        }
        y[i] = e;
      }
      return y;
    },
  };
}
