/**
 * SQL text for ClickHouse, restricted to what every release since 18.16 (Debian's) understands:
 * sum/sumKahan, count/countIf, min/max, exp, log, if, quantilesExact, groupArray, arraySort,
 * arrayCumSum, arrayMap, WITH <expression> AS <name>. No window functions, no query parameters
 * (19.x), no log1p (missing in 18.16).
 *
 * Numbers go into the SQL as exact literals: 18.16 parses SQL literals correctly rounded but
 * parses numbers in data (JSONEachRow, CSV, toFloat64 of a string) with a fast routine that is
 * one unit in the last place off for about 1 value in 200, so doubles never travel as text in
 * data; see ingest.ts (RowBinary).
 */

/** An identifier in backquotes: chIdent('a`b') === '`a\\`b`'. */
export function chIdent(name: string): string {
  return `\`${name.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
}

/** A string literal: chString("it's") === "'it\\'s'". */
export function chString(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** A database-qualified table name: chTable('db', 't') === '`db`.`t`'. */
export const chTable = (database: string, table: string): string => `${chIdent(database)}.${chIdent(table)}`;

const SMALLEST_NORMAL = 2.2250738585072014e-308;

/**
 * A Float64 literal that ClickHouse reads back as exactly `v`: always with an exponent (a literal
 * without one that looks integral is typed Int64/UInt64, and mixing those with Float64 in one
 * array or `if` fails), in parentheses when negative. 18.16 cannot parse subnormal literals: those
 * are written as an exact product of two normal ones. chFloat(0.5) === '5e-1'.
 */
export function chFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '(-inf)';
  if (v !== 0 && Math.abs(v) < SMALLEST_NORMAL) return `(${chFloat(v * 2 ** 600)} * ${chFloat(2 ** -600)})`;
  const text = Object.is(v, -0) ? '-0e+0' : v.toExponential();
  return v < 0 || Object.is(v, -0) ? `(${text})` : text;
}

/** A column as Float64 with a missing value replaced: ifNull(toFloat64(`c`), fill). */
export const imputedSql = (column: string, fill: number): string => `ifNull(toFloat64(${chIdent(column)}), ${chFloat(fill)})`;

/**
 * b + c_1 x_1 + ... + c_d x_d, added left to right as predictProba does in Node (z = b, then
 * z += c_j x_j per column), so the engine computes the same double.
 */
export function linearSql(intercept: number, coefficients: readonly number[], terms: readonly string[]): string {
  return [chFloat(intercept), ...coefficients.map((c, j) => `${chFloat(c)} * ${terms[j]}`)].join(' + ');
}

/** The logistic function of a SQL expression named `z` (an alias), without overflow: as sigmoid() in model/logreg.ts. */
export const sigmoidSql = (z: string): string => `if(${z} >= 0, 1 / (1 + exp(-${z})), exp(${z}) / (1 + exp(${z})))`;

/**
 * log(1 + e) for an expression e in [0, 1], accurate near 0 (ClickHouse 18.16 has no log1p):
 * below 1e-4 four terms of the series (error below 2e-17 relative), else log(1 + e).
 */
export const log1pSql = (e: string): string => `if(${e} < 1e-4, ${e} * (1 - ${e} * (5e-1 - ${e} * (${chFloat(1 / 3)} - ${e} * 2.5e-1))), log(1 + ${e}))`;

/** A WITH clause from [name, expression] pairs (each may use the names before it), or '' when empty. */
export function withSql(defs: readonly (readonly [string, string])[]): string {
  return defs.length ? `WITH ${defs.map(([name, expr]) => `${expr} AS ${name}`).join(', ')} ` : '';
}
