/**
 * config.json: where every folder is, and the optional model/drift/server/schedule settings.
 * Folder paths are resolved relative to the config file, never to the working directory, so
 * the same command works from cron, CI or any shell.
 */
import { readFile, realpath, stat, mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, quote } from '../errors.js';
import { parseEngine, type EngineSettings } from '../engine/config.js';
import { parseLiveSettings, type LiveSettings } from '../live/settings.js';
import { SINCE_DURATION } from '../live/since.js';
import type { GbtSettings } from '../model/gbt/types.js';
import { defaultMetric, metricsOf, type Task } from '../model/metrics.js';

export const MODEL_TYPES = ['logistic_regression', 'linear_regression', 'gradient_boosting'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/**
 * `model` in config.json. The boosted-trees settings are scikit-learn's HistGradientBoosting
 * ones, with its defaults; `max_iter` is Newton's iteration limit for logistic regression and
 * the number of boosting iterations for trees (100 for both).
 */
export interface ModelSettings extends Omit<GbtSettings, 'task'> {
  type: ModelType;
  /** Inverse regularisation strength, as scikit-learn's LogisticRegression(C=...). */
  C: number;
  /** Ridge penalty of linear regression (0: ordinary least squares), as Ridge(alpha=...). */
  alpha: number;
  /** Linear models: one-hot columns per categorical feature, the most frequent levels ("other" besides). */
  max_levels: number;
  /** Classification: class 1 when P(class 1) > threshold. */
  threshold: number;
}

export type DriftTestName = 'raw' | 'parametric' | 'nonparametric';

export interface DriftSettings {
  /** Metric of the score history the model drift tests look at. */
  metric: string;
  /** Model drift test the run loop uses. */
  test: DriftTestName;
  /** Parametric test: drift when the new score is worse than mean -/+ sigmas * std (ddof 0). */
  parametric_sigmas: number;
  /** Non-parametric test: drift when worse than q25 - k * IQR (q75 + k * IQR when lower is better). */
  iqr_factor: number;
  /** Significance level of KS, chi-square and t-tests. */
  p_value: number;
  /** Minimum effect sizes: a feature drifts only when significant AND PSI or normalised Wasserstein reach these. */
  psi: number;
  wasserstein: number;
  /** Fewer rows than this on either side: "too few rows", no verdict. */
  min_rows: number;
  /** Dataset drift when at least this share of the features drift. */
  dataset_share: number;
  /** Columns with at most this many distinct values are compared as categories (chi-square). */
  max_categories: number;
  /**
   * What the run loop's drift step tests: "files", the champion's score on the newly ingested
   * input files (model drift); or "live", the inputs `mlops serve` logged within `since`
   * against the training data (data drift, as `mlops drift --current live --since`).
   */
  source: 'files' | 'live';
  /** With source "live": how far back from the run (24h, 7d, 30m) the logged traffic counts. */
  since: string;
}

export const DEFAULT_DRIFT: DriftSettings = {
  metric: 'f1',
  test: 'raw',
  parametric_sigmas: 2,
  iqr_factor: 1.5,
  p_value: 0.05,
  psi: 0.1,
  wasserstein: 0.1,
  min_rows: 30,
  dataset_share: 0.5,
  max_categories: 10,
  source: 'files',
  since: '24h',
};

/**
 * The entry of `table` for a key read from config.json, or undefined: own keys only, so
 * "__proto__", "constructor" or "toString" are unknown keys rather than prototype members.
 */
const own = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;

/** A JSON object as a null-prototype record: reading a key never reaches Object.prototype. */
const record = (v: object): Record<string, unknown> =>
  Object.setPrototypeOf(Object.fromEntries(Object.entries(v)), null) as Record<string, unknown>;

const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const DRIFT_KEYS: Record<keyof DriftSettings, [(v: unknown) => boolean, string]> = {
  metric: [(v) => typeof v === 'string' && [...metricsOf('classification'), ...metricsOf('regression')].includes(v), 'a metric of the task (f1, precision, recall, accuracy, roc_auc, log_loss; r2, sse, rmse, mae, mape)'],
  test: [(v) => v === 'raw' || v === 'parametric' || v === 'nonparametric', 'raw, parametric or nonparametric'],
  parametric_sigmas: [positive, 'a positive number'],
  iqr_factor: [positive, 'a positive number'],
  p_value: [(v) => positive(v) && (v as number) < 1, 'a number in (0, 1)'],
  psi: [positive, 'a positive number'],
  wasserstein: [positive, 'a positive number'],
  min_rows: [(v) => Number.isInteger(v) && (v as number) >= 2, 'an integer >= 2'],
  dataset_share: [(v) => positive(v) && (v as number) <= 1, 'a number in (0, 1]'],
  max_categories: [(v) => Number.isInteger(v) && (v as number) >= 2, 'an integer >= 2'],
  source: [(v) => v === 'files' || v === 'live', '"files" or "live"'],
  since: [(v) => typeof v === 'string' && SINCE_DURATION.test(v.trim()), 'a duration back from the run: "30m", "24h" or "7d"'],
};

export interface ServerSettings {
  host: string;
  port: number;
  /** Largest accepted request body, bytes. */
  body_limit: number;
  /** URL `mlops apicalls` and the loop call; default http://host:port. */
  url: string | null;
  /** Request columns that are neither features nor id columns: refused (400), ignored, or passed through to the response. */
  extra_columns: 'reject' | 'ignore' | 'pass';
  /** A JSON line per request (time, method, route, status, ms, rows, model version, request id) appended to this file; null: none. */
  access_log: string | null;
}

export const DEFAULT_SERVER: ServerSettings = { host: '127.0.0.1', port: 8000, body_limit: 1_048_576, url: null, extra_columns: 'reject', access_log: null };

export interface PromotionSettings {
  /** Metric of the gate; null: drift.metric. */
  metric: string | null;
  /** The candidate must reach at least this value (at most, for lower-is-better metrics). */
  min_value: number | null;
  /** ...and beat the champion by at least this much, absolute (0: not worse). */
  min_absolute_change: number;
  /** ...and by at least this share of the champion's value (0.01 = 1%). */
  min_relative_change: number;
  /** Share of the newly ingested labelled rows held out from training and scored by both (0: none). */
  holdout: number;
  /** Seed of the holdout split. */
  seed: number;
  /** A candidate that fails the gate becomes the `challenger` alias instead of being dropped. */
  keep_challenger: boolean;
  /** A live experiment's verdict acts: "challenger better" promotes it through the gate, a significantly worse canary is stopped. */
  auto: boolean;
}

export const DEFAULT_PROMOTION: PromotionSettings = {
  metric: null,
  min_value: null,
  min_absolute_change: 0,
  min_relative_change: 0,
  holdout: 0,
  seed: 42,
  keep_challenger: false,
  auto: false,
};

const finiteNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const PROMOTION_KEYS: Record<keyof PromotionSettings, [(v: unknown) => boolean, string]> = {
  metric: [(v) => v === null || DRIFT_KEYS.metric[0](v), `null or ${DRIFT_KEYS.metric[1]}`],
  min_value: [(v) => v === null || finiteNum(v), 'null or a number'],
  min_absolute_change: [(v) => finiteNum(v) && (v as number) >= 0, 'a number >= 0'],
  min_relative_change: [(v) => finiteNum(v) && (v as number) >= 0, 'a number >= 0'],
  holdout: [(v) => finiteNum(v) && (v as number) >= 0 && (v as number) < 1, 'a number in [0, 1)'],
  seed: [(v) => Number.isInteger(v), 'an integer'],
  keep_challenger: [(v) => typeof v === 'boolean', 'true or false'],
  auto: [(v) => typeof v === 'boolean', 'true or false'],
};

/** A hook: a shell command (event JSON on stdin) or a URL (event JSON POSTed), for some event kinds. */
export interface HookSettings {
  /** Event kinds it runs on; null: every kind. */
  events: string[] | null;
  command: string | null;
  url: string | null;
  timeout_ms: number;
}

const HOOK_EVENTS = ['registered', 'evaluated', 'promoted', 'rejected', 'rolled_back', 'alias_set', 'drift_detected'];

export interface Config {
  /** Absolute path of the config file itself. */
  file: string;
  /** Folder of the config file; every relative path resolves against it. */
  root: string;
  input_folder_path: string;
  output_folder_path: string;
  test_data_path: string;
  output_model_path: string;
  prod_deployment_path: string;
  target: string;
  /** Explicit feature list, or null for every column whose role is a feature (src/model/roles.ts). */
  features: string[] | null;
  /** "classification" (binary) or "regression". */
  task: Task;
  /** The primary metric: latestscore.txt, and the default of drift.metric and promotion.metric. */
  metric: string;
  /** Numeric columns to treat as categories. */
  categorical: string[];
  /** Identifier columns: never features, carried through to predictions. */
  id_columns: string[];
  /** Columns left out of the model altogether. */
  exclude: string[];
  /** Classification: the label value that is class 1 (null: 1, true or yes). */
  positive_label: string | null;
  model: ModelSettings;
  drift: DriftSettings;
  /** Cron expression of `mlops schedule`, or null for the default (every 10 minutes). */
  schedule: string | null;
  /** Settings of `mlops serve`; `configured` is true when config.json has a "server" key. */
  server: ServerSettings & { configured: boolean };
  /** The promotion gate and the holdout split. */
  promotion: PromotionSettings;
  hooks: HookSettings[];
  /** The prediction log and experiments of `mlops serve` (src/live/live.ts). */
  live: LiveSettings;
  /** Where the data lives and the work runs: DuckDB embedded (default) or a ClickHouse server. */
  engine: EngineSettings;
}

const PATH_KEYS = [
  'input_folder_path',
  'output_folder_path',
  'test_data_path',
  'output_model_path',
  'prod_deployment_path',
] as const;

/** Folders that must already exist (we read from them). The others are created on demand. */
const INPUT_KEYS = new Set<string>(['input_folder_path', 'test_data_path']);

const OPTIONAL_KEYS = new Set([
  'target', 'features', 'model', 'drift', 'server', 'schedule', 'promotion', 'hooks',
  'task', 'metric', 'categorical', 'id_columns', 'exclude', 'positive_label', 'live', 'engine',
]);
const posInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const posNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const MODEL_KEYS: Record<keyof ModelSettings, [(v: unknown) => boolean, string]> = {
  type: [(v) => (MODEL_TYPES as readonly unknown[]).includes(v), MODEL_TYPES.join(', ')],
  C: [posNum, 'a positive number'],
  max_iter: [posInt, 'a positive integer'],
  alpha: [(v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number >= 0'],
  max_levels: [(v) => posInt(v) && (v as number) <= 1000, 'an integer in 1..1000'],
  threshold: [(v) => typeof v === 'number' && v > 0 && v < 1, 'a number in (0, 1)'],
  seed: [(v) => Number.isInteger(v) && (v as number) >= 0, 'an integer >= 0'],
  learning_rate: [posNum, 'a positive number'],
  max_leaf_nodes: [(v) => v === null || (posInt(v) && (v as number) >= 2), 'null or an integer >= 2'],
  max_depth: [(v) => v === null || posInt(v), 'null or a positive integer'],
  min_samples_leaf: [posInt, 'a positive integer'],
  l2_regularization: [(v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number >= 0'],
  max_bins: [(v) => Number.isInteger(v) && (v as number) >= 2 && (v as number) <= 255, 'an integer in 2..255'],
  early_stopping: [(v) => v === 'auto' || typeof v === 'boolean', '"auto", true or false'],
  validation_fraction: [(v) => posNum(v) && (v as number) < 1, 'a number in (0, 1)'],
  n_iter_no_change: [posInt, 'a positive integer'],
  tol: [(v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number >= 0'],
};

export const DEFAULT_MODEL: ModelSettings = {
  type: 'logistic_regression',
  C: 1.0,
  max_iter: 100,
  alpha: 0,
  max_levels: 20,
  threshold: 0.5,
  seed: 0,
  learning_rate: 0.1,
  max_leaf_nodes: 31,
  max_depth: null,
  min_samples_leaf: 20,
  l2_regularization: 0,
  max_bins: 255,
  early_stopping: 'auto',
  validation_fraction: 0.1,
  n_iter_no_change: 10,
  tol: 1e-7,
};

export interface LoadConfigOptions {
  /** Create missing output folders (true for verbs that write). */
  createOutputs?: boolean;
}

export async function loadConfig(path: string, opts: LoadConfigOptions = {}): Promise<Config> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `${file}: cannot read config file (${code ?? String(err)})`,
      'pass --config PATH to a config.json, or run from the folder that holds one',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${(err as Error).message})`, 'fix the JSON syntax');
  }
  const root = dirname(file);
  const cfg = parseConfig(raw, file, root);
  const missing: string[] = [];
  for (const key of PATH_KEYS) {
    const dir = cfg[key];
    const st = await stat(dir).catch(() => null);
    if (st && !st.isDirectory()) {
      throw new ConfigError(`${file}: ${key} "${dir}" is not a folder`, `point ${key} at a folder`);
    }
    if (!st && INPUT_KEYS.has(key)) {
      throw new ConfigError(
        `${file}: ${key} folder "${dir}" does not exist`,
        `create it or fix ${key} (relative paths resolve against the config file's folder)`,
      );
    }
    if (!st) missing.push(dir);
  }
  // the same check as parseConfig's, on the real folders: a symlink or ".." can hide a shared one
  const real = {} as Record<PathKey, string>;
  for (const key of PATH_KEYS) real[key] = await realFolder(cfg[key]);
  checkSeparateFolders(real, file);
  if (opts.createOutputs) for (const dir of missing) await mkdir(dir, { recursive: true });
  return cfg;
}

type PathKey = (typeof PATH_KEYS)[number];

/** realpath of a folder, or of its nearest existing parent plus the rest when it does not exist yet. */
async function realFolder(dir: string): Promise<string> {
  try {
    return await realpath(dir);
  } catch {
    const parent = dirname(dir);
    return parent === dir ? dir : join(await realFolder(parent), basename(dir));
  }
}

/**
 * Every role needs a folder of its own: ingested data in the input folder would be ingested again,
 * test data in the input folder would be trained on, and a model folder that is the production
 * folder would overwrite the deployed model without the gate. Folders inside one another are
 * fine: input and test folders are read without their subfolders.
 */
function checkSeparateFolders(paths: Readonly<Record<PathKey, string>>, file: string): void {
  for (let i = 0; i < PATH_KEYS.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [PATH_KEYS[j]!, PATH_KEYS[i]!];
      if (paths[a] === paths[b]) {
        throw new ConfigError(
          `${file}: "${b}" and "${a}" are the same folder (${paths[a]})`,
          `give ${b} a folder of its own (symlinks are resolved)`,
        );
      }
    }
  }
}

/** Validate the parsed JSON. Exported for tests. */
/**
 * Columns always read as text: the categorical ones, and the identifiers, whose values must
 * come back exactly as written (a customer number beyond 2^53 read as a number would come back
 * rounded, and two customers could share one).
 */
export const textColumns = (cfg: Pick<Config, 'categorical' | 'id_columns'>): string[] => [...cfg.categorical, ...cfg.id_columns];

export function parseConfig(raw: unknown, file: string, root: string): Config {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${file}: must hold a JSON object`, 'see config.json in the repository for an example');
  }
  const obj = record(raw);
  for (const key of Object.keys(obj)) {
    if (!(PATH_KEYS as readonly string[]).includes(key) && !OPTIONAL_KEYS.has(key)) {
      throw new ConfigError(
        `${file}: unknown key ${quote(key)}`,
        `remove it; known keys are ${[...PATH_KEYS, ...OPTIONAL_KEYS].join(', ')}`,
      );
    }
  }
  const paths = {} as Record<(typeof PATH_KEYS)[number], string>;
  for (const key of PATH_KEYS) {
    const v = obj[key];
    if (v === undefined) throw new ConfigError(`${file}: missing required key "${key}"`, `add "${key}": "<folder>"`);
    if (typeof v !== 'string' || v.trim() === '') {
      throw new ConfigError(`${file}: "${key}" must be a non-empty string (a folder path)`, `set "${key}": "<folder>"`);
    }
    paths[key] = resolve(root, v);
  }
  checkSeparateFolders(paths, file);
  let target = 'exited';
  if (obj.target !== undefined) {
    if (typeof obj.target !== 'string' || !obj.target) {
      throw new ConfigError(`${file}: "target" must be a non-empty string (the label column)`);
    }
    target = obj.target;
  }
  let features: string[] | null = null;
  if (obj.features !== undefined && obj.features !== null) {
    const f = obj.features;
    if (!Array.isArray(f) || f.length === 0 || !f.every((x) => typeof x === 'string' && x !== '')) {
      throw new ConfigError(`${file}: "features" must be a non-empty array of column names`);
    }
    if (new Set(f).size !== f.length) throw new ConfigError(`${file}: "features" lists a column twice`);
    if (f.includes(target)) throw new ConfigError(`${file}: "features" must not include the target ${quote(target)}`);
    features = f as string[];
  }
  let task: Task = 'classification';
  if (obj.task !== undefined) {
    if (obj.task !== 'classification' && obj.task !== 'regression') {
      throw new ConfigError(`${file}: "task" has an invalid value ${quote(obj.task)}`, 'it must be "classification" or "regression"');
    }
    task = obj.task;
  }
  const metric = obj.metric === undefined ? defaultMetric(task) : obj.metric;
  if (typeof metric !== 'string' || !metricsOf(task).includes(metric)) {
    throw new ConfigError(`${file}: "metric" has an invalid value ${quote(metric)} for a ${task} task`, `it must be one of ${metricsOf(task).join(', ')}`);
  }
  const columnList = (key: 'categorical' | 'id_columns' | 'exclude'): string[] => {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) throw new ConfigError(`${file}: "${key}" must be an array of column names`);
    if (v.includes(target)) throw new ConfigError(`${file}: "${key}" must not include the target ${quote(target)}`);
    return [...new Set(v as string[])];
  };
  const categorical = columnList('categorical');
  const id_columns = columnList('id_columns');
  const exclude = columnList('exclude');
  for (const [a, b] of [[id_columns, exclude], [categorical, id_columns], [categorical, exclude]] as const) {
    const both = a.find((c) => b.includes(c));
    if (both !== undefined) throw new ConfigError(`${file}: column ${quote(both)} has two roles (categorical, id_columns and exclude are exclusive)`, 'list it in one of them');
  }
  const both = features?.find((f) => id_columns.includes(f) || exclude.includes(f));
  if (both !== undefined) throw new ConfigError(`${file}: "features" lists ${quote(both)}, which id_columns or exclude leaves out`, 'list it in one of them');
  let positive_label: string | null = null;
  if (obj.positive_label !== undefined && obj.positive_label !== null) {
    const v = obj.positive_label;
    if (task === 'regression') throw new ConfigError(`${file}: "positive_label" is for classification; this task is regression`, 'remove it');
    if ((typeof v !== 'string' || v === '') && !(typeof v === 'number' && Number.isFinite(v)) && typeof v !== 'boolean') {
      throw new ConfigError(`${file}: "positive_label" must be a label value (a string, number or boolean)`);
    }
    positive_label = String(v);
  }
  const model = { ...DEFAULT_MODEL };
  if (obj.model !== undefined) {
    const m = obj.model;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      throw new ConfigError(`${file}: "model" must be an object such as {"type": "gradient_boosting"}`);
    }
    for (const [k, v] of Object.entries(m)) {
      const rule = own(MODEL_KEYS, k);
      if (!rule) throw new ConfigError(`${file}: unknown key ${quote(`model.${k}`)}`, `known: ${Object.keys(MODEL_KEYS).join(', ')}`);
      if (!rule[0](v)) throw new ConfigError(`${file}: "model.${k}" has an invalid value ${quote(v)}`, `it must be ${rule[1]}`);
      (model as Record<string, unknown>)[k] = v;
    }
    if (!Object.hasOwn(m, 'type') && task === 'regression') model.type = 'linear_regression';
  } else if (task === 'regression') model.type = 'linear_regression';
  if (task === 'regression' && model.type === 'logistic_regression') {
    throw new ConfigError(`${file}: "model.type" logistic_regression is a classifier; this task is regression`, 'use linear_regression or gradient_boosting');
  }
  if (task === 'classification' && model.type === 'linear_regression') {
    throw new ConfigError(`${file}: "model.type" linear_regression is for regression; this task is classification`, 'use logistic_regression or gradient_boosting, or set "task": "regression"');
  }
  const drift = { ...DEFAULT_DRIFT, metric };
  if (obj.drift !== undefined) {
    const d = obj.drift;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new ConfigError(`${file}: "drift" must be an object`);
    for (const [k, v] of Object.entries(d)) {
      const rule = own(DRIFT_KEYS, k);
      if (!rule) throw new ConfigError(`${file}: unknown key ${quote(`drift.${k}`)}`, `known: ${Object.keys(DRIFT_KEYS).join(', ')}`);
      if (!rule[0](v)) throw new ConfigError(`${file}: "drift.${k}" has an invalid value ${quote(v)}`, `it must be ${rule[1]}`);
      if (k === 'metric' && !metricsOf(task).includes(v as string)) {
        throw new ConfigError(`${file}: "drift.metric" ${quote(v)} is not a ${task} metric`, `it must be one of ${metricsOf(task).join(', ')}`);
      }
      (drift as Record<string, unknown>)[k] = v;
    }
  }
  let schedule: string | null = null;
  if (obj.schedule !== undefined) {
    const v = obj.schedule;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const extra = Object.keys(v).find((k) => k !== 'cron');
      if (extra !== undefined) throw new ConfigError(`${file}: unknown key ${quote(`schedule.${extra}`)}`, 'known: cron');
    }
    const expr = typeof v === 'string' ? v : typeof v === 'object' && v !== null && !Array.isArray(v) ? record(v).cron : undefined;
    if (typeof expr !== 'string' || !expr.trim()) {
      throw new ConfigError(`${file}: "schedule" must be a cron expression such as "*/10 * * * *" (or {"cron": "..."})`);
    }
    schedule = expr.trim();
  }
  const server = { ...DEFAULT_SERVER, configured: obj.server !== undefined };
  if (obj.server !== undefined) {
    const v = obj.server;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${file}: "server" must be an object`);
    for (const [k, val] of Object.entries(v)) {
      const ok =
        k === 'host' ? typeof val === 'string' && val !== ''
        : k === 'port' ? Number.isInteger(val) && (val as number) >= 0 && (val as number) < 65536
        : k === 'body_limit' ? Number.isInteger(val) && (val as number) > 0
        : k === 'url' ? typeof val === 'string' && /^https?:\/\//.test(val)
        : k === 'extra_columns' ? val === 'reject' || val === 'ignore' || val === 'pass'
        : k === 'access_log' ? val === null || (typeof val === 'string' && val !== '')
        : null;
      if (ok === null) throw new ConfigError(`${file}: unknown key ${quote(`server.${k}`)}`, 'known: host, port, body_limit, url, extra_columns, access_log');
      if (!ok) throw new ConfigError(`${file}: "server.${k}" has an invalid value ${quote(val)}`);
      (server as Record<string, unknown>)[k] = k === 'access_log' && typeof val === 'string' ? resolve(root, val) : val;
    }
  }
  const promotion = { ...DEFAULT_PROMOTION };
  if (obj.promotion !== undefined) {
    const d = obj.promotion;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new ConfigError(`${file}: "promotion" must be an object`);
    for (const [k, v] of Object.entries(d)) {
      const rule = Object.hasOwn(PROMOTION_KEYS, k) ? PROMOTION_KEYS[k as keyof PromotionSettings] : undefined;
      if (!rule) throw new ConfigError(`${file}: unknown key "promotion.${k}"`, `known: ${Object.keys(PROMOTION_KEYS).join(', ')}`);
      if (!rule[0](v)) throw new ConfigError(`${file}: "promotion.${k}" has an invalid value ${JSON.stringify(v)}`, `it must be ${rule[1]}`);
      if (k === 'metric' && v !== null && !metricsOf(task).includes(v as string)) {
        throw new ConfigError(`${file}: "promotion.metric" ${quote(v)} is not a ${task} metric`, `it must be one of ${metricsOf(task).join(', ')}`);
      }
      (promotion as Record<string, unknown>)[k] = v;
    }
  }
  const hooks = parseHooks(obj.hooks, file);
  const live = parseLiveSettings(obj.live, file);
  const engine = parseEngine(obj.engine, file);
  if (engine.type === 'clickhouse' && promotion.holdout > 0) {
    // the holdout is picked by the text of each row's cells in Node; the engine's fit cannot leave those rows out
    throw new ConfigError(`${file}: "promotion.holdout" is not available on the ClickHouse engine`, 'set "promotion": {"holdout": 0} (the gate then compares on the test set)');
  }
  return { file, root, ...paths, target, features, task, metric, categorical, id_columns, exclude, positive_label, model, drift, schedule, server, promotion, hooks, live, engine };
}

function parseHooks(raw: unknown, file: string): HookSettings[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError(`${file}: "hooks" must be an array of {"events": [...], "command": "..."} or {"url": "..."}`);
  return raw.map((h, i) => {
    const where = `${file}: "hooks[${i}]"`;
    if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new ConfigError(`${where} must be an object`);
    const o = h as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['events', 'command', 'url', 'timeout_ms'].includes(k)) throw new ConfigError(`${where}: unknown key "${k}"`, 'known: events, command, url, timeout_ms');
    }
    const events = o.events ?? null;
    if (events !== null && (!Array.isArray(events) || !events.every((e) => typeof e === 'string' && HOOK_EVENTS.includes(e)))) {
      throw new ConfigError(`${where}.events must list event kinds`, `known: ${HOOK_EVENTS.join(', ')}`);
    }
    const command = o.command ?? null;
    const url = o.url ?? null;
    if (command !== null && (typeof command !== 'string' || !command.trim())) throw new ConfigError(`${where}.command must be a non-empty string`);
    if (url !== null && (typeof url !== 'string' || !/^https?:\/\//.test(url))) throw new ConfigError(`${where}.url must be an http(s) URL`);
    if ((command === null) === (url === null)) throw new ConfigError(`${where} needs exactly one of "command" and "url"`);
    const timeout = o.timeout_ms ?? 10_000;
    if (!Number.isInteger(timeout) || (timeout as number) <= 0) throw new ConfigError(`${where}.timeout_ms must be a positive integer`);
    return { events: events as string[] | null, command: command as string | null, url: url as string | null, timeout_ms: timeout as number };
  });
}
