/**
 * Summary statistics and data drift computed by the engine; only aggregates come back.
 *
 * Summaries (`describeOnEngine`): count, missing, mean and sample standard deviation by the
 * corrected two-pass algorithm on scaled data of stats/moments.ts (pass 1: count, min, max,
 * compensated sum; pass 2: compensated sums of d = x/scale - centre/scale and d^2, with the
 * centre and scale as exact literals), min, max, and the quartiles interpolated between order
 * statistics as DuckDB's quantile_cont (R type 7), the order statistics from quantilesExact at
 * levels that pick exactly the wanted index. Three queries for any number of columns.
 *
 * Drift (`featureDriftOnEngine`): each side's distinct values with their counts (GROUP BY), the
 * two empirical distribution functions merged in Node, which gives exactly what featureDrift
 * (stats/datadrift.ts) computes from the sorted samples: KS statistic and p-value, PSI over the
 * reference's deciles, Wasserstein-1, chi-square and PSI for categorical features, and the same
 * verdict. A side with more than `maxValues` distinct values is summarised by its quantile
 * function at `quantileLevels` levels instead (KS then within 1 / levels).
 */
import { chiSquareHomogeneity, type TestResult } from '../../stats/hypothesis.js';
import { psiFromShares } from '../../stats/distance.js';
import { kolmogorovSf } from '../../stats/distributions.js';
import { judgeFeature, tooFewRows, type DataDriftSettings, type FeatureDrift } from '../../stats/datadrift.js';
import { centring, finishMoments, momentsStd } from '../../stats/moments.js';
import { aggregate, type Aggregate } from './aggregate.js';
import type { ClickHouse } from './client.js';
import { chFloat, chIdent } from './sql.js';

export interface EngineColumnStatistics {
  column: string;
  rows: number;
  count: number;
  missing: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  q25: number | null;
  median: number | null;
  q75: number | null;
}

type Row = Record<string, number | string | null | (number | null)[]>;

/** Where a non-missing value counts: NULL and NaN are missing (the CSV readers' rule). */
const present = (column: string) => `isNotNull(${chIdent(column)}) AND NOT isNaN(toFloat64(${chIdent(column)}))`;
const valueOf = (column: string) => `toFloat64(${chIdent(column)})`;

/** The quantile levels of quantilesExact (index floor(level * n)) that select order statistic k. */
const levelOf = (k: number, n: number) => (k + 0.5) / n;

/**
 * Summary statistics of numeric columns of a table (`from`: chTable(...)), as diagnose reports
 * them from DuckDB. Cost: two passes over the table.
 */
export async function describeOnEngine(ch: ClickHouse, from: string, columns: readonly string[], step = 'summary statistics'): Promise<EngineColumnStatistics[]> {
  if (columns.length === 0) return [];
  const pass1: Record<string, Aggregate> = { n: ['sum', 'count()'] };
  columns.forEach((c, i) => {
    const v = `if(${present(c)}, ${valueOf(c)}, NULL)`;
    pass1[`c${i}`] = ['sum', `count(${v})`];
    pass1[`lo${i}`] = ['min', `min(${v})`];
    pass1[`hi${i}`] = ['max', `max(${v})`];
    pass1[`s${i}`] = ['sum', `sumKahan(${v})`];
  });
  const r1 = await aggregate(ch, from, pass1, `${step}, pass 1`);
  const rows = r1.n ?? 0;
  const plans = columns.map((c, i) => {
    const count = r1[`c${i}`] ?? 0;
    const lo = r1[`lo${i}`] ?? null;
    const hi = r1[`hi${i}`] ?? null;
    const finite = count > 0 && lo !== null && hi !== null && Number.isFinite(lo) && Number.isFinite(hi);
    const at = finite ? centring(count, lo, hi, r1[`s${i}`]!) : null;
    // order statistics for the quartiles: h = (n - 1) q, floor and ceiling
    const picks = [0.25, 0.5, 0.75].map((q) => {
      const h = (count - 1) * q;
      return { h, lo: Math.floor(h), hi: Math.ceil(h) };
    });
    const ks = [...new Set(picks.flatMap((p) => [p.lo, p.hi]))];
    return { c, i, count, lo, hi, at, picks, ks };
  });
  const sums: Record<string, Aggregate> = {};
  const orders: string[] = [];
  for (const p of plans) {
    if (!p.at) continue;
    const d = `(${valueOf(p.c)} * ${chFloat(p.at.inverse)} - ${chFloat(p.at.centre * p.at.inverse)})`;
    const cond = present(p.c);
    sums[`d${p.i}`] = ['sum', `sumKahan(if(${cond}, ${d}, 0))`];
    sums[`q${p.i}`] = ['sum', `sumKahan(if(${cond}, ${d} * ${d}, 0))`];
    orders.push(`quantilesExact(${p.ks.map((k) => chFloat(levelOf(k, p.count))).join(', ')})(if(${cond}, ${valueOf(p.c)}, NULL)) AS o${p.i}`);
  }
  const r2 = orders.length ? await aggregate(ch, from, sums, `${step}, pass 2`) : {};
  // the order statistics merge across shards (quantilesExact states hold the values)
  const [r3] = orders.length ? await ch.query<Row>(`SELECT ${orders.join(', ')} FROM ${from}`, `${step}, quartiles`) : [{} as Row];
  return plans.map((p): EngineColumnStatistics => {
    const base = { column: p.c, rows, count: p.count, missing: rows - p.count };
    if (!p.at) return { ...base, mean: null, std: null, min: p.lo, max: p.hi, q25: null, median: null, q75: null };
    const mo = finishMoments(p.count, p.lo!, p.hi!, p.at, r2[`d${p.i}`]!, r2[`q${p.i}`]!);
    const sd = momentsStd(mo, 1);
    const order = (r3?.[`o${p.i}`] ?? []) as number[];
    const stat = (k: number) => Number(order[p.ks.indexOf(k)]);
    const [q25, median, q75] = p.picks.map(({ h, lo, hi }) => stat(lo) + (h - lo) * (stat(hi) - stat(lo)));
    return {
      ...base,
      mean: Number.isFinite(mo.mean) ? mo.mean : null,
      std: Number.isFinite(sd) ? sd : null,
      min: p.lo,
      max: p.hi,
      q25: q25 ?? null,
      median: median ?? null,
      q75: q75 ?? null,
    };
  });
}

/** A sample as its distinct values (ascending) with their counts; `total` is the sum of counts. */
export interface ValueCounts {
  values: Float64Array;
  counts: Float64Array;
  total: number;
  /** True when the sample was summarised by quantiles (counts are then equal fractional weights). */
  approximate: boolean;
}

/** A sample held in Node (NaN: missing) as value counts, e.g. the logged live inputs. */
export function valueCountsOf(x: Float64Array): ValueCounts {
  const sorted = x.filter((v) => v === v).sort();
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) counts[counts.length - 1]!++;
    else {
      values.push(sorted[i]!);
      counts.push(1);
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts), total: sorted.length, approximate: false };
}

export interface EngineDriftOptions {
  /** Above this many distinct values a side is summarised by quantiles (default 1,000,000). */
  maxValues?: number;
  /** Levels of that quantile function (default 10,000). */
  quantileLevels?: number;
  step?: string;
}

/** The non-missing values of one column of a table as value counts: one GROUP BY. */
export async function valueCountsOnEngine(ch: ClickHouse, from: string, column: string, opts: EngineDriftOptions = {}): Promise<ValueCounts> {
  const step = opts.step ?? `data drift, ${column}`;
  const where = `WHERE ${present(column)}`;
  const [head] = await ch.query<Row>(`SELECT count() AS n, uniqExact(${valueOf(column)}) AS u FROM ${from} ${where}`, step);
  const total = Number(head?.n ?? 0);
  const distinct = Number(head?.u ?? 0);
  if (distinct <= (opts.maxValues ?? 1_000_000)) {
    // one row of two aligned arrays (numbers, not one JSON object per value): a million distinct
    // values cost about 16 MB in Node
    const [row] = await ch.query<{ vs: number[]; cs: number[] }>(
      `SELECT arraySort(groupArray(v)) AS vs, arraySort((cc, x) -> x, groupArray(c), groupArray(v)) AS cs FROM ` +
        `(SELECT ${valueOf(column)} AS v, toFloat64(count()) AS c FROM ${from} ${where} GROUP BY v)`,
      step,
    );
    return { values: Float64Array.from(row?.vs ?? [], Number), counts: Float64Array.from(row?.cs ?? [], Number), total, approximate: false };
  }
  const levels = opts.quantileLevels ?? 10_000;
  const qs = Array.from({ length: levels }, (_, k) => chFloat((k + 0.5) / levels));
  const [row] = await ch.query<{ q: number[] }>(`SELECT quantilesExact(${qs.join(', ')})(${valueOf(column)}) AS q FROM ${from} ${where}`, step);
  const q = (row?.q ?? []).map(Number).sort((a, b) => a - b);
  // equal values merged, each level weighing total / levels rows
  const values: number[] = [];
  const counts: number[] = [];
  for (const v of q) {
    if (values.length && values[values.length - 1] === v) counts[counts.length - 1]! += total / levels;
    else {
      values.push(v);
      counts.push(total / levels);
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts), total, approximate: true };
}

/** Two-sample KS from value counts: ksTwoSampleSorted's walk over the merged distinct values. */
export function ksFromCounts(a: ValueCounts, b: ValueCounts): TestResult {
  const n1 = a.total;
  const n2 = b.total;
  if (n1 === 0 || n2 === 0) return { statistic: Number.NaN, pValue: Number.NaN };
  let ia = 0;
  let ib = 0;
  let i = 0;
  let j = 0;
  let d = 0;
  while (ia < a.values.length && ib < b.values.length) {
    const v = Math.min(a.values[ia]!, b.values[ib]!);
    if (a.values[ia]! <= v) i += a.counts[ia++]!;
    if (b.values[ib]! <= v) j += b.counts[ib++]!;
    d = Math.max(d, Math.abs(i / n1 - j / n2));
  }
  const en = (n1 * n2) / (n1 + n2);
  return { statistic: d, pValue: kolmogorovSf(Math.sqrt(en) * d) };
}

/** Wasserstein-1 from value counts: wassersteinSorted's walk. */
export function wassersteinFromCounts(a: ValueCounts, b: ValueCounts): number {
  const n1 = a.total;
  const n2 = b.total;
  if (n1 === 0 || n2 === 0) return Number.NaN;
  let ia = 0;
  let ib = 0;
  let i = 0;
  let j = 0;
  let prev = Math.min(a.values[0]!, b.values[0]!);
  let dist = 0;
  while (ia < a.values.length || ib < b.values.length) {
    const v = ib >= b.values.length || (ia < a.values.length && a.values[ia]! <= b.values[ib]!) ? a.values[ia]! : b.values[ib]!;
    dist += Math.abs(i / n1 - j / n2) * (v - prev);
    prev = v;
    if (ia < a.values.length && a.values[ia]! <= v) i += a.counts[ia++]!;
    if (ib < b.values.length && b.values[ib]! <= v) j += b.counts[ib++]!;
  }
  return dist;
}

/** The value at sorted position `pos` (0-based) of a sample given as value counts. */
function orderStatistic(x: ValueCounts, pos: number): number {
  let cum = 0;
  for (let k = 0; k < x.values.length; k++) {
    cum += x.counts[k]!;
    if (pos < cum) return x.values[k]!;
  }
  return x.values[x.values.length - 1]!;
}

/** PSI over `bins` bins cut at the reference's quantiles, as psiSorted. */
export function psiFromCounts(ref: ValueCounts, cur: ValueCounts, bins = 10): number {
  if (ref.total === 0 || cur.total === 0) return Number.NaN;
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) edges.push(orderStatistic(ref, Math.min(ref.total - 1, Math.floor((k * ref.total) / bins))));
  const cuts = [...new Set(edges)];
  const share = (x: ValueCounts) => {
    const counts = new Array<number>(cuts.length + 1).fill(0);
    let b = 0;
    for (let k = 0; k < x.values.length; k++) {
      while (b < cuts.length && x.values[k]! >= cuts[b]!) b++;
      counts[b]! += x.counts[k]!;
    }
    return counts.map((c) => c / x.total);
  };
  return psiFromShares(share(ref), share(cur));
}

/** Sample standard deviation (n - 1) from value counts, two passes. */
function sdFromCounts(x: ValueCounts): number {
  let s = 0;
  for (let k = 0; k < x.values.length; k++) s += x.values[k]! * x.counts[k]!;
  const m = s / x.total;
  let v = 0;
  for (let k = 0; k < x.values.length; k++) v += x.counts[k]! * (x.values[k]! - m) ** 2;
  return Math.sqrt(v / Math.max(1, x.total - 1));
}

/** Distinct values of both samples, or null when there are more than `max`. */
function categoriesOf(a: ValueCounts, b: ValueCounts, max: number): number[] | null {
  if ((a.approximate || b.approximate) && max !== Infinity) return null;
  const set = new Set<number>([...a.values, ...b.values]);
  return set.size > max ? null : [...set].sort((p, q) => p - q);
}

const countsAt = (x: ValueCounts, cats: number[]) => {
  const at = new Map<number, number>();
  x.values.forEach((v, k) => at.set(v, x.counts[k]!));
  return cats.map((c) => at.get(c) ?? 0);
};

/**
 * featureDrift (stats/datadrift.ts) from the two samples' value counts: the same kinds, tests,
 * effect sizes, verdicts and reasons. `categorical`: the values are category codes, compared by
 * chi-square whatever their number.
 */
export function featureDriftFromCounts(feature: string, ref: ValueCounts, cur: ValueCounts, s: DataDriftSettings, categorical = false): FeatureDrift {
  const cats = ref.total && cur.total ? categoriesOf(ref, cur, categorical ? Infinity : s.maxCategories) : null;
  const kind = cats || categorical ? 'categorical' : 'numeric';
  const base = { feature, kind, refRows: ref.total, curRows: cur.total } as const;
  if (ref.total < s.minRows || cur.total < s.minRows) return tooFewRows(base, s);
  const sd = sdFromCounts(ref);
  const w = wassersteinFromCounts(ref, cur);
  const wassersteinNorm = w === 0 ? 0 : w / (sd > 0 ? sd : Number.MIN_VALUE);
  let test: TestResult;
  let psi: number;
  if (cats) {
    const rc = countsAt(ref, cats);
    const cc = countsAt(cur, cats);
    test = chiSquareHomogeneity(rc, cc);
    psi = psiFromShares(
      rc.map((c) => c / ref.total),
      cc.map((c) => c / cur.total),
    );
  } else {
    test = ksFromCounts(ref, cur);
    psi = psiFromCounts(ref, cur, 10);
  }
  return judgeFeature(base, cats !== null, test, psi, wassersteinNorm, s);
}

/** Data drift of one feature between a reference table and a current one (each `from` a chTable). */
export async function featureDriftOnEngine(
  ch: ClickHouse,
  feature: string,
  reference: { from: string; column?: string },
  current: { from: string; column?: string },
  s: DataDriftSettings,
  opts: EngineDriftOptions & { categorical?: boolean } = {},
): Promise<FeatureDrift> {
  const ref = await valueCountsOnEngine(ch, reference.from, reference.column ?? feature, { ...opts, step: opts.step ?? `drift, reference ${feature}` });
  const cur = await valueCountsOnEngine(ch, current.from, current.column ?? feature, { ...opts, step: opts.step ?? `drift, current ${feature}` });
  return featureDriftFromCounts(feature, ref, cur, s, opts.categorical ?? false);
}
