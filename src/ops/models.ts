/**
 * mlops models: the registry as a table (list), one version whole (show), and versions side by
 * side (compare: settings and every metric on the same data, with differences against the first).
 */
import { StateError } from '../errors.js';
import { higherIsBetter } from '../model/metrics.js';
import { currentChampion, syncRegistry } from '../store/champion.js';
import type { Config } from '../store/config.js';
import { metricValue, readEvaluations, testDataHash, type Evaluation } from '../store/evaluations.js';
import { registryListing } from '../store/listingcache.js';
import { versionName } from '../store/names.js';
import { getVersion, readAliases, readEvents, type RegistryEvent, type VersionRecord } from '../store/registry.js';

export const METRICS = ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss'] as const;

export interface ModelRow {
  version: number;
  name: string;
  created: string;
  model_type: string;
  training_rows: number;
  metric: string;
  /** The key metric on the reference test set as it is now (null: not scored on it). */
  value: number | null;
  aliases: string[];
  tags: Record<string, string>;
  note: string | null;
}

export type SortKey = 'version' | 'created' | 'metric' | 'rows';

export interface ListOptions {
  config: Config;
  sort?: SortKey;
  /** Sort descending (default true for version/created/metric-best-first). */
  descending?: boolean;
  limit?: number;
}

async function aliasMap(cfg: Config): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  const add = (v: number, a: string) => out.set(v, [...(out.get(v) ?? []), a]);
  const champ = await currentChampion(cfg);
  if (champ) add(champ.version, 'champion');
  for (const [a, v] of Object.entries(await readAliases(cfg))) add(v, a);
  return out;
}

/** The latest evaluation of each version on the given data. */
function latestPerVersion(evals: readonly Evaluation[], data: string): Map<number, Evaluation> {
  const out = new Map<number, Evaluation>();
  for (const e of evals) if (e.version !== null && e.data_sha256 === data) out.set(e.version, e);
  return out;
}

export async function listModels(opts: ListOptions): Promise<{ metric: string; test_data_sha256: string; total: number; models: ModelRow[] }> {
  const cfg = opts.config;
  await syncRegistry(cfg);
  const metric = cfg.promotion.metric ?? cfg.drift.metric;
  const [{ test_data_sha256: data, columns: c, value }, aliases] = await Promise.all([registryListing(cfg, metric), aliasMap(cfg)]);
  // Sort positions by key and build rows only for the ones shown (10,000 versions, 20 shown).
  const sort = opts.sort ?? 'version';
  const better = higherIsBetter(metric) ? 1 : -1;
  const key = (i: number): number => {
    if (sort === 'created') return Date.parse(c.created[i]!) || 0;
    if (sort === 'rows') return c.rows[i]!;
    if (sort === 'metric') {
      const v = value.get(c.version[i]!) ?? null;
      return v === null ? -Infinity : better * v;
    }
    return c.version[i]!;
  };
  const keys = Float64Array.from(c.version, (_, i) => key(i));
  const desc = opts.descending ?? true;
  const order = Array.from(c.version, (_, i) => i);
  order.sort((i, j) => (desc ? keys[j]! - keys[i]! : keys[i]! - keys[j]!) || c.version[j]! - c.version[i]!);
  const shown = opts.limit && opts.limit > 0 ? order.slice(0, opts.limit) : order;
  const models: ModelRow[] = shown.map((i) => {
    const version = c.version[i]!;
    return {
      version,
      name: versionName(version),
      created: c.created[i]!,
      model_type: c.types[c.type[i]!]!,
      training_rows: c.rows[i]!,
      metric,
      value: value.get(version) ?? null,
      aliases: aliases.get(version) ?? [],
      tags: c.tags[version] ?? {},
      note: c.notes[version] ?? null,
    };
  });
  return { metric, test_data_sha256: data, total: order.length, models };
}

export interface ShowResult {
  version: VersionRecord;
  aliases: string[];
  evaluations: Evaluation[];
  events: RegistryEvent[];
}

export async function showModel(opts: { config: Config; version: number }): Promise<ShowResult> {
  const cfg = opts.config;
  await syncRegistry(cfg);
  const version = await getVersion(cfg, opts.version);
  const [evals, aliases, events] = await Promise.all([readEvaluations(cfg, { versions: [version.version] }), aliasMap(cfg), readEvents(cfg)]);
  return {
    version,
    aliases: aliases.get(version.version) ?? [],
    evaluations: evals.filter((e) => e.version === version.version),
    events: events.filter((e) => e.version === version.version),
  };
}

export interface CompareRow {
  /** "settings.C", "metrics.f1", "training_rows", ... */
  field: string;
  values: (string | number | boolean | null)[];
  /** Numeric fields: each value minus the first version's. */
  differences: (number | null)[] | null;
  /** Whether the values differ at all. */
  differs: boolean;
}

export interface CompareResult {
  versions: string[];
  /** The data every metric row was computed on: the reference test set as it is now. */
  test_data_sha256: string;
  rows: CompareRow[];
}

/**
 * Compare versions: their settings, training data and every metric on the reference test set.
 * A version not yet scored on the current test set is scored now (and the evaluation recorded),
 * so the metrics are always on the same data.
 */
export async function compareModels(opts: { config: Config; versions: number[] }): Promise<CompareResult> {
  const cfg = opts.config;
  if (opts.versions.length < 2) throw new StateError('models compare needs at least two versions', 'e.g. `mlops models compare v0001 v0002`');
  await syncRegistry(cfg);
  const recs = await Promise.all(opts.versions.map((v) => getVersion(cfg, v)));
  const data = await testDataHash(cfg);
  const onTest = latestPerVersion(await readEvaluations(cfg, { versions: opts.versions }), data);
  const evals: Evaluation[] = [];
  const { score } = await import('./score.js'); // loaded only here: listing stays light
  for (const r of recs) evals.push(onTest.get(r.version) ?? (await score({ config: cfg, model: r.name, role: 'test' })));
  const aliases = await aliasMap(cfg);
  const fields: [string, (r: VersionRecord, e: Evaluation) => string | number | boolean | null][] = [
    ['created', (r) => r.created],
    ['model_type', (r) => r.model_type],
    ['features', (r) => r.features.join(', ')],
    ['aliases', (r) => (aliases.get(r.version) ?? []).join(', ')],
    ['training_rows', (r) => r.training_data.rows],
    ['training_data_sha256', (r) => r.training_data.sha256.slice(0, 12)],
    ...Object.keys(Object.assign({}, ...recs.map((r) => r.settings)) as object).sort().map(
      (k) => [`settings.${k}`, (r: VersionRecord) => (r.settings[k] ?? null) as string | number | boolean | null] as [string, (r: VersionRecord, e: Evaluation) => string | number | boolean | null],
    ),
    ['test_rows', (_r, e) => e.rows],
    ...METRICS.map((m) => [`metrics.${m}`, (_r: VersionRecord, e: Evaluation) => {
      const v = metricValue(e, m);
      return Number.isFinite(v) ? v : null;
    }] as [string, (r: VersionRecord, e: Evaluation) => string | number | boolean | null]),
  ];
  const rows = fields.map(([field, get]) => {
    const values = recs.map((r, i) => get(r, evals[i]!));
    const numeric = values.every((v) => typeof v === 'number');
    return {
      field,
      values,
      differences: numeric && field !== 'created' ? values.map((v) => (v as number) - (values[0] as number)) : null,
      differs: values.some((v) => v !== values[0]),
    };
  });
  return { versions: recs.map((r) => r.name), test_data_sha256: data, rows };
}

/** "v0003", "3" -> 3; a StateError otherwise. */
export function parseVersion(text: string): number {
  const m = /^v?(\d+)$/.exec(text.trim());
  if (!m || Number(m[1]) < 1) throw new StateError(`${JSON.stringify(text.slice(0, 40))}: not a model version`, 'versions look like v0003 or 3 (see `mlops models`)');
  return Number(m[1]);
}

/** A version by number ("v0003", "3") or by alias ("champion", "challenger", yours). */
export async function resolveVersion(cfg: Config, text: string): Promise<number> {
  if (/^v?\d+$/.test(text.trim())) return parseVersion(text);
  if (text === 'champion' || text === 'production') {
    await syncRegistry(cfg);
    const champ = await currentChampion(cfg);
    if (!champ) throw new StateError(`${cfg.prod_deployment_path}: there is no champion yet`, 'run `mlops run` or `mlops deploy` first');
    return champ.version;
  }
  const aliases = await readAliases(cfg);
  if (Object.hasOwn(aliases, text)) return aliases[text]!;
  return parseVersion(text);
}
