/**
 * config.json: where every folder is, and the optional model/drift/server/schedule settings.
 * Folder paths are resolved relative to the config file, never to the working directory, so
 * the same command works from cron, CI or any shell.
 */
import { readFile, stat, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

export interface ModelSettings {
  /** Inverse regularisation strength, as scikit-learn's LogisticRegression(C=...). */
  C: number;
  /** Newton iteration limit. */
  max_iter: number;
}

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
  /** Explicit feature list, or null for "every numeric column except the target". */
  features: string[] | null;
  model: ModelSettings;
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

const OPTIONAL_KEYS = new Set(['target', 'features', 'model', 'drift', 'server', 'schedule']);
const MODEL_KEYS: Record<keyof ModelSettings, (v: unknown) => boolean> = {
  C: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
  max_iter: (v) => typeof v === 'number' && Number.isInteger(v) && v > 0,
};

export const DEFAULT_MODEL: ModelSettings = { C: 1.0, max_iter: 100 };

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
  for (const key of PATH_KEYS) {
    const dir = cfg[key];
    const st = await stat(dir).catch(() => null);
    if (st && !st.isDirectory()) {
      throw new ConfigError(`${file}: ${key} "${dir}" is not a folder`, `point ${key} at a folder`);
    }
    if (!st) {
      if (INPUT_KEYS.has(key) || !opts.createOutputs) {
        if (INPUT_KEYS.has(key)) {
          throw new ConfigError(
            `${file}: ${key} folder "${dir}" does not exist`,
            `create it or fix ${key} (relative paths resolve against the config file's folder)`,
          );
        }
        continue;
      }
      await mkdir(dir, { recursive: true });
    }
  }
  return cfg;
}

/** Validate the parsed JSON. Exported for tests. */
export function parseConfig(raw: unknown, file: string, root: string): Config {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${file}: must hold a JSON object`, 'see config.json in the repository for an example');
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(PATH_KEYS as readonly string[]).includes(key) && !OPTIONAL_KEYS.has(key)) {
      throw new ConfigError(
        `${file}: unknown key "${key}"`,
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
    if (f.includes(target)) throw new ConfigError(`${file}: "features" must not include the target "${target}"`);
    features = f as string[];
  }
  const model = { ...DEFAULT_MODEL };
  if (obj.model !== undefined) {
    const m = obj.model;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      throw new ConfigError(`${file}: "model" must be an object such as {"C": 1.0}`);
    }
    for (const [k, v] of Object.entries(m)) {
      const check = MODEL_KEYS[k as keyof ModelSettings];
      if (!check) throw new ConfigError(`${file}: unknown key "model.${k}"`, `known: ${Object.keys(MODEL_KEYS).join(', ')}`);
      if (!check(v)) {
        throw new ConfigError(
          `${file}: "model.${k}" has an invalid value ${JSON.stringify(v)}`,
          k === 'C' ? 'C must be a positive number' : 'max_iter must be a positive integer',
        );
      }
      (model as Record<string, number>)[k] = v as number;
    }
  }
  for (const key of ['drift', 'server', 'schedule']) {
    const v = obj[key];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v)) && key !== 'schedule') {
      throw new ConfigError(`${file}: "${key}" must be an object`);
    }
  }
  return { file, root, ...paths, target, features, model };
}
