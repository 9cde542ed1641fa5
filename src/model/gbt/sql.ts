/**
 * A GbtModel as one SQL expression for the raw score: the baseline plus one nested CASE per
 * tree, summed in tree order (the order predictGbt adds them). A NULL (or NaN) value goes to
 * the split's missing side; so does a category code the model did not see in training.
 * Numbers are written in exponent form, which SQL engines (DuckDB) read as exact doubles.
 */
import { DataError } from '../../errors.js';
import type { GbtModel, GbtTree } from './types.js';

export function gbtToSqlCase(model: GbtModel, columnExprs: readonly string[]): string {
  if (columnExprs.length !== model.n_features) {
    throw new DataError(`gbtToSqlCase: ${columnExprs.length} column expressions for ${model.n_features} features`);
  }
  const terms = [num(model.baseline), ...model.trees.map((t) => `(${nodeSql(model, t, 0, columnExprs)})`)];
  return `(${terms.join(' + ')})`;
}

function nodeSql(model: GbtModel, t: GbtTree, node: number, cols: readonly string[]): string {
  if (t.is_leaf[node]) return num(t.value[node]!);
  const f = t.feature[node]!;
  const x = `(${cols[f]})`;
  const left = nodeSql(model, t, t.left[node]!, cols);
  const right = nodeSql(model, t, t.right[node]!, cols);
  const missingLeft = t.missing_left[node] === 1;
  const off = t.cat_offset[node]!;
  if (off >= 0) {
    // Test the side missing values do not take: NULL, NaN and unseen codes fall to ELSE.
    const leftCodes = t.categories.slice(off, off + t.cat_count[node]!);
    const codes = missingLeft ? model.known_categories[f]!.filter((c) => !leftCodes.includes(c)) : leftCodes;
    const test = codes.length > 0 ? `${x} IN (${codes.join(', ')})` : 'FALSE';
    return missingLeft ? `CASE WHEN ${test} THEN ${right} ELSE ${left} END` : `CASE WHEN ${test} THEN ${left} ELSE ${right} END`;
  }
  const test = `${x} <= ${num(t.threshold[node]!)}`;
  // NaN compares above every number in SQL, so only the missing-left side needs to name it.
  return missingLeft
    ? `CASE WHEN ${test} OR ${x} IS NULL OR isnan(${x}) THEN ${left} ELSE ${right} END`
    : `CASE WHEN ${test} THEN ${left} ELSE ${right} END`;
}

/** Shortest exact form of a double, always with an exponent (a DOUBLE literal, not DECIMAL). */
function num(v: number): string {
  return v.toExponential();
}
