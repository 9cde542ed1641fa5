/**
 * The rule for a binary classifier's labels, in one place for every reader: a target column holds
 * at most two distinct values besides missing ones (an unlabelled row: kept by ingest, dropped by
 * train), and ingest refuses what train would. Which value is class 1: `positive_label` in
 * config.json, else 1, true or yes; the model stores the mapping, and predictions come back in
 * the original values.
 */
import { DataError } from '../errors.js';
import { booleanValue } from '../model/roles.js';
import { at } from './csvfiles.js';

/** A label as the data holds it: a number for a numeric target column, else its text. */
export type LabelValue = number | string;

export interface LabelMap {
  negative: LabelValue;
  positive: LabelValue;
}

const show = (v: LabelValue) => (typeof v === 'number' ? String(v) : JSON.stringify(v));

export function thirdLabelError(path: string, line: number | undefined, target: string, first: readonly LabelValue[], value: LabelValue): DataError {
  return new DataError(
    `${at(path, line)}target column "${target}" holds a third value ${show(value)} (besides ${first.map(show).join(' and ')}); a classification target has two classes`,
    'recode the labels to two values (empty for an unlabelled row), or set "task": "regression"',
  );
}

/**
 * Which of the (one or two) distinct label values is class 1. `where` names the data in errors.
 * One value only: it is class 1 when it is the positive one, else class 0 (the caller refuses a
 * single class for training).
 */
export function decideLabels(values: readonly LabelValue[], positive: string | null, target: string, where: string): LabelMap {
  const sorted = [...values].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  const text = sorted.map(String);
  if (positive !== null) {
    const i = text.indexOf(positive);
    if (i < 0) {
      throw new DataError(`${where}: positive_label ${JSON.stringify(positive)} is not a value of the target "${target}" (it holds ${sorted.map(show).join(', ') || 'no labels'})`, 'set positive_label to one of its values');
    }
    const other = sorted.find((_, j) => j !== i);
    return { positive: sorted[i]!, negative: other ?? (typeof sorted[i] === 'number' ? (sorted[i] === 1 ? 0 : 1) : `not ${positive}`) };
  }
  const rank = (v: LabelValue): number | undefined => (typeof v === 'number' ? (v === 0 || v === 1 ? v : undefined) : booleanValue(v));
  const ranks = sorted.map(rank);
  if (ranks.every((r) => r !== undefined) && new Set(ranks).size === ranks.length) {
    if (sorted.length === 2) return ranks[0] === 1 ? { positive: sorted[0]!, negative: sorted[1]! } : { positive: sorted[1]!, negative: sorted[0]! };
    if (sorted.length === 1) {
      const v = sorted[0]!;
      return ranks[0] === 1 ? { positive: v, negative: typeof v === 'number' ? 0 : `not ${v}` } : { negative: v, positive: typeof v === 'number' ? 1 : `not ${v}` };
    }
  }
  if (sorted.length === 0) return { negative: 0, positive: 1 };
  throw new DataError(
    `${where}: target "${target}" holds ${sorted.map(show).join(' and ')}: which is the positive class?`,
    'set "positive_label" in config.json to the value that is class 1',
  );
}

/** 1, 0, or NaN (missing) for a label; undefined for a value that is neither class. */
export function encodeLabel(map: LabelMap, v: LabelValue | null): number | undefined {
  if (v === null || (typeof v === 'number' && Number.isNaN(v))) return Number.NaN;
  if (typeof v === 'number' && typeof map.positive === 'number' && typeof map.negative === 'number') return v === map.positive ? 1 : v === map.negative ? 0 : undefined;
  if (v === map.positive || String(v) === String(map.positive)) return 1;
  if (v === map.negative || String(v) === String(map.negative)) return 0;
  return undefined;
}
