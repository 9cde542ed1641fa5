/**
 * The rule for a binary classifier's labels, in one place for every reader: 0 or 1, or missing
 * (an unlabelled row: kept by ingest, dropped by train). Ingest refuses what train would.
 */
import { DataError } from '../errors.js';
import { at } from './csvfiles.js';
import { sqlIdent } from './duck.js';

/** Whether a value read from the target column (NaN when missing) is a usable label or missing. */
export const isLabelOrMissing = (v: number): boolean => v === 0 || v === 1 || v !== v;

/** SQL condition true for the rows whose target value breaks the rule (NULL is missing). */
export const badLabelSql = (target: string): string => `${sqlIdent(target)} IS NOT NULL AND ${sqlIdent(target)} NOT IN (0, 1)`;

export function labelError(path: string, line: number | undefined, target: string, value: number): DataError {
  return new DataError(
    `${at(path, line)}target column "${target}" holds ${value}; labels must be 0 or 1 (or empty for an unlabelled row)`,
    'recode the label column to 0/1 (binary classification)',
  );
}
