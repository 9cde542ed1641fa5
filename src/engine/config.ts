/**
 * The `engine` key of config.json (store/config.ts parses the rest):
 *
 *   "engine": {"type": "duckdb"}                                   (the default: embedded)
 *   "engine": {"type": "clickhouse", "url": "http://host:8123", "database": "default",
 *              "table": "mlops_data", "source_table": null, "timeout_ms": 300000}
 *
 * `table` is where `ingest` loads the input files; `source_table` names an existing table to
 * use as the data instead (nothing is ingested then). Credentials come from the environment
 * (MLOPS_CLICKHOUSE_USER, MLOPS_CLICKHOUSE_PASSWORD), never from the file: "user" or
 * "password" keys, or a URL with credentials, are errors.
 */
import { ConfigError, quote } from '../errors.js';
import type { ClickHouseSettings } from './clickhouse/client.js';

export interface DuckDbEngine {
  type: 'duckdb';
}

export interface ClickHouseEngine {
  type: 'clickhouse';
  url: string;
  database: string;
  table: string;
  source_table: string | null;
  timeout_ms: number;
}

export type EngineSettings = DuckDbEngine | ClickHouseEngine;

export const DEFAULT_ENGINE: EngineSettings = { type: 'duckdb' };

const CLICKHOUSE_DEFAULTS = { database: 'default', table: 'mlops_data', source_table: null, timeout_ms: 300_000 } as const;

const name = (v: unknown) => typeof v === 'string' && v.trim() !== '' && !/[\0\n]/.test(v);
const CLICKHOUSE_KEYS: Record<Exclude<keyof ClickHouseEngine, 'type'>, [(v: unknown) => boolean, string]> = {
  url: [(v) => typeof v === 'string' && /^https?:\/\/[^/\s]+/.test(v), 'an http(s) URL of the HTTP port, such as "http://127.0.0.1:8123"'],
  database: [name, 'a database name'],
  table: [name, 'a table name'],
  source_table: [(v) => v === null || name(v), 'null or a table name'],
  timeout_ms: [(v) => Number.isInteger(v) && (v as number) > 0, 'a positive integer (milliseconds)'],
};

/** The engine settings from config.json's `engine` value (undefined: DuckDB). */
export function parseEngine(raw: unknown, file: string): EngineSettings {
  if (raw === undefined || raw === null) return DEFAULT_ENGINE;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${file}: "engine" must be an object such as {"type": "duckdb"}`, 'or {"type": "clickhouse", "url": "http://host:8123"}');
  }
  const obj = Object.fromEntries(Object.entries(raw)) as Record<string, unknown>;
  if (obj.type === 'duckdb') {
    const extra = Object.keys(obj).find((k) => k !== 'type');
    if (extra !== undefined) throw new ConfigError(`${file}: unknown key ${quote(`engine.${extra}`)} for the duckdb engine`, 'the embedded engine takes no settings');
    return DEFAULT_ENGINE;
  }
  if (obj.type !== 'clickhouse') {
    throw new ConfigError(`${file}: "engine.type" has an invalid value ${quote(obj.type)}`, 'it must be "duckdb" or "clickhouse"');
  }
  const out: ClickHouseEngine = { type: 'clickhouse', url: '', ...CLICKHOUSE_DEFAULTS };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'type') continue;
    if (k === 'user' || k === 'password' || k === 'username') {
      throw new ConfigError(`${file}: "engine.${k}": credentials do not belong in config.json`, 'set MLOPS_CLICKHOUSE_USER and MLOPS_CLICKHOUSE_PASSWORD in the environment');
    }
    const rule = Object.hasOwn(CLICKHOUSE_KEYS, k) ? CLICKHOUSE_KEYS[k as keyof typeof CLICKHOUSE_KEYS] : undefined;
    if (!rule) throw new ConfigError(`${file}: unknown key ${quote(`engine.${k}`)}`, `known: type, ${Object.keys(CLICKHOUSE_KEYS).join(', ')}`);
    if (!rule[0](v)) throw new ConfigError(`${file}: "engine.${k}" has an invalid value ${quote(v)}`, `it must be ${rule[1]}`);
    (out as unknown as Record<string, unknown>)[k] = v;
  }
  if (!out.url) throw new ConfigError(`${file}: "engine.url" is missing`, 'add "url": "http://host:8123" (the server\'s HTTP port)');
  if (/^https?:\/\/[^/]*@/.test(out.url) || /[?&](user|password)=/i.test(out.url)) {
    throw new ConfigError(`${file}: "engine.url" holds credentials`, 'set MLOPS_CLICKHOUSE_USER and MLOPS_CLICKHOUSE_PASSWORD in the environment instead');
  }
  return out;
}

/** The client settings of a ClickHouse engine (connectClickHouse). */
export function clickHouseSettingsOf(e: ClickHouseEngine): ClickHouseSettings {
  return { url: e.url, database: e.database, timeoutMs: e.timeout_ms };
}
