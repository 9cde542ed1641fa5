/**
 * Every column's role, from the data and config.json, with the reason (ingest and diagnose show
 * both; train stores the features' roles in the model):
 *
 *   target       the label or regression target
 *   numeric      a number column used as a feature
 *   boolean      a two-valued feature (0/1, true/false, yes/no) used as 0/1
 *   categorical  a text feature (or a number column listed in `categorical`)
 *   identifier   listed in `id_columns`, or text with at least half its values distinct, or
 *                integers all distinct under an identifier's name (id, customer_id, ...):
 *                never a feature, carried through to predictions
 *   excluded     listed in `exclude`, not in `features`, no values at all, or too many levels
 */
import { DataError } from '../errors.js';

export type Role = 'target' | 'numeric' | 'boolean' | 'categorical' | 'identifier' | 'excluded';

/** What the roles are decided from: a column's kind and counts over the data. */
export interface ColumnStats {
  name: string;
  kind: 'integer' | 'float' | 'string';
  /** Non-missing values. */
  present: number;
  /** Distinct non-missing values (text columns and integer columns; null when not counted). */
  distinct: number | null;
  /** With at most two distinct values: them, as text. */
  values: string[] | null;
}

export interface ColumnRole {
  name: string;
  role: Role;
  reason: string;
}

export interface RoleSettings {
  target: string;
  features: readonly string[] | null;
  categorical: readonly string[];
  id_columns: readonly string[];
  exclude: readonly string[];
}

/** More distinct values than this and a column cannot be a categorical feature. */
export const MAX_CATEGORY_LEVELS = 50_000;

const BOOLEAN_WORDS = new Map([
  ['true', 1], ['false', 0], ['yes', 1], ['no', 0], ['t', 1], ['f', 0], ['y', 1], ['n', 0],
]);

/** 1 or 0 for a boolean word (any case), else undefined. */
export const booleanValue = (text: string): number | undefined => BOOLEAN_WORDS.get(text.trim().toLowerCase());

const ID_NAME = /^(id|uuid|guid|key)$|[_\- .](id|uuid|guid|key|no|number)$|[a-z](Id|ID|Key)$/i;

export function decideRoles(columns: readonly ColumnStats[], s: RoleSettings): ColumnRole[] {
  const listed = (list: readonly string[]) => new Set(list);
  const [cat, ids, excl] = [listed(s.categorical), listed(s.id_columns), listed(s.exclude)];
  const feats = s.features ? new Set(s.features) : null;
  return columns.map((c): ColumnRole => {
    const r = (role: Role, reason: string): ColumnRole => ({ name: c.name, role, reason });
    if (c.name === s.target) return r('target', 'the target');
    if (excl.has(c.name)) return r('excluded', 'listed in exclude');
    if (ids.has(c.name)) return r('identifier', 'listed in id_columns');
    if (feats && !feats.has(c.name)) return r('excluded', 'not listed in features');
    const asked = feats !== null || cat.has(c.name);
    if (c.present === 0) return r('excluded', 'no values at all');
    const tooMany = c.distinct !== null && c.distinct > MAX_CATEGORY_LEVELS;
    if (cat.has(c.name)) return tooMany ? r('excluded', `too many levels for a category (${c.distinct})`) : r('categorical', 'listed in categorical');
    if (c.kind === 'string') {
      if (c.values && c.values.every((v) => booleanValue(v) !== undefined)) return r('boolean', `two values ${c.values.join('/')}`);
      if (!asked && c.distinct !== null && c.present >= 2 && c.distinct * 2 >= c.present) {
        return r('identifier', `${c.distinct} distinct values in ${c.present} rows`);
      }
      if (tooMany) return r('excluded', `too many levels for a category (${c.distinct})`);
      return r('categorical', `text, ${c.distinct ?? '?'} levels`);
    }
    if (!asked && c.kind === 'integer' && c.distinct === c.present && c.present >= 2 && ID_NAME.test(c.name)) {
      return r('identifier', 'every value distinct, named like an identifier');
    }
    if (c.values && c.values.every((v) => v === '0' || v === '1')) return r('boolean', 'values 0 and 1');
    return r('numeric', c.kind === 'integer' ? 'integers' : 'numbers');
  });
}

/**
 * The roles' feature columns, in config order when `features` is set, else in table order; a
 * configured column that cannot be a feature is an error naming it.
 */
export function featureColumns(roles: readonly ColumnRole[], s: RoleSettings, where: string): ColumnRole[] {
  const byName = new Map(roles.map((r) => [r.name, r]));
  const usable = (r: ColumnRole) => r.role === 'numeric' || r.role === 'boolean' || r.role === 'categorical';
  for (const name of [...(s.features ?? []), ...s.categorical]) {
    const r = byName.get(name);
    if (!r) continue; // a missing column is the reader's error, with the column list
    if (!usable(r)) {
      throw new DataError(`${where}: column "${name}" cannot be a feature: ${r.reason}`, 'list it in id_columns or exclude, or drop it from features');
    }
  }
  const out = s.features ? s.features.map((f) => byName.get(f)).filter((r): r is ColumnRole => !!r) : roles.filter(usable);
  if (out.length === 0) {
    throw new DataError(`${where}: no feature columns (${roles.map((r) => `${r.name}: ${r.role}`).join(', ')})`, 'set "features" in config.json');
  }
  return out;
}
