import { describe, expect, it } from 'vitest';
import { clickHouseSettingsOf, DEFAULT_ENGINE, parseEngine } from '../../src/engine/config.js';
import { ConfigError } from '../../src/errors.js';

const F = '/p/config.json';
const bad = (raw: unknown) => {
  try {
    parseEngine(raw, F);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('parseEngine', () => {
  it('defaults to the embedded DuckDB engine', () => {
    expect(parseEngine(undefined, F)).toEqual(DEFAULT_ENGINE);
    expect(parseEngine({ type: 'duckdb' }, F)).toEqual({ type: 'duckdb' });
  });

  it('fills the ClickHouse defaults and maps to client settings', () => {
    const e = parseEngine({ type: 'clickhouse', url: 'http://127.0.0.1:8123' }, F);
    expect(e).toEqual({ type: 'clickhouse', url: 'http://127.0.0.1:8123', database: 'default', table: 'mlops_data', source_table: null, timeout_ms: 300000 });
    if (e.type !== 'clickhouse') throw new Error('unreachable');
    expect(clickHouseSettingsOf(e)).toEqual({ url: 'http://127.0.0.1:8123', database: 'default', timeoutMs: 300000 });
    expect(parseEngine({ type: 'clickhouse', url: 'https://ch.example:8443', database: 'ml', source_table: 'events', timeout_ms: 1000 }, F)).toMatchObject({
      database: 'ml',
      source_table: 'events',
      timeout_ms: 1000,
    });
  });

  it('names the key and the file for every mistake', () => {
    expect(bad('clickhouse')).toBe(`${F}: "engine" must be an object such as {"type": "duckdb"}`);
    expect(bad({ type: 'spark' })).toBe(`${F}: "engine.type" has an invalid value "spark"`);
    expect(bad({ type: 'duckdb', url: 'http://x' })).toBe(`${F}: unknown key "engine.url" for the duckdb engine`);
    expect(bad({ type: 'clickhouse' })).toBe(`${F}: "engine.url" is missing`);
    expect(bad({ type: 'clickhouse', url: 'tcp://x:9000' })).toMatch(/"engine.url" has an invalid value "tcp:\/\/x:9000"/);
    expect(bad({ type: 'clickhouse', url: 'http://x', tabel: 't' })).toMatch(/unknown key "engine.tabel"/);
    expect(bad({ type: 'clickhouse', url: 'http://x', timeout_ms: 0 })).toMatch(/"engine.timeout_ms" has an invalid value 0/);
    expect(bad({ type: 'clickhouse', url: 'http://x', table: '' })).toMatch(/"engine.table"/);
  });

  it('refuses credentials in the file', () => {
    expect(bad({ type: 'clickhouse', url: 'http://x', password: 'secret' })).toMatch(/"engine.password": credentials do not belong in config.json/);
    expect(bad({ type: 'clickhouse', url: 'http://u:p@x:8123' })).toMatch(/"engine.url" holds credentials/);
    expect(bad({ type: 'clickhouse', url: 'http://x:8123/?user=u&password=p' })).toMatch(/"engine.url" holds credentials/);
    try {
      parseEngine({ type: 'clickhouse', url: 'http://x', user: 'u' }, F);
    } catch (err) {
      expect((err as ConfigError).hint).toMatch(/MLOPS_CLICKHOUSE_USER and MLOPS_CLICKHOUSE_PASSWORD/);
    }
  });
});
