import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/store/config.js';
import { ConfigError, quote } from '../../src/errors.js';

const base = {
  input_folder_path: 'practicedata',
  output_folder_path: 'ingesteddata',
  test_data_path: 'testdata',
  output_model_path: 'practicemodels',
  prod_deployment_path: 'production_deployment',
};

describe('parseConfig', () => {
  it('resolves folders against the config folder and fills defaults', () => {
    const c = parseConfig(base, '/p/config.json', '/p');
    expect(c.input_folder_path).toBe('/p/practicedata');
    expect(c.target).toBe('exited');
    expect(c.features).toBeNull();
    expect(c.model).toMatchObject({ type: "logistic_regression", C: 1, max_iter: 100, alpha: 0, max_levels: 20, threshold: 0.5 });
    expect(c).toMatchObject({ task: "classification", metric: "f1", categorical: [], id_columns: [], exclude: [], positive_label: null });
  });

  it('the loop drift check: files by default, or the live traffic of a window', () => {
    expect(parseConfig(base, '/p/c.json', '/p').drift).toMatchObject({ source: 'files', since: '24h' });
    expect(parseConfig({ ...base, drift: { source: 'live', since: '7d' } }, '/p/c.json', '/p').drift).toMatchObject({ source: 'live', since: '7d' });
  });

  it('accepts target, features and model settings', () => {
    const c = parseConfig({ ...base, target: 'y', features: ['a', 'b'], model: { C: 0.5 } }, '/p/c.json', '/p');
    expect(c).toMatchObject({ target: 'y', features: ['a', 'b'], model: { C: 0.5, max_iter: 100 } });
  });

  it.each([
    [{ ...base, extra: 1 }, /unknown key "extra"/],
    [{ ...base, features: [] }, /"features" must be a non-empty array/],
    [{ ...base, features: ['exited'] }, /must not include the target/],
    [{ ...base, features: ['a', 'a'] }, /lists a column twice/],
    [{ ...base, model: { C: 0 } }, /"model\.C" has an invalid value 0/],
    [{ ...base, model: { gamma: 1 } }, /unknown key "model\.gamma"/],
    [{ ...base, target: 5 }, /"target" must be a non-empty string/],
    [[1, 2], /must hold a JSON object/],
    [{ ...base, output_folder_path: './practicedata/' }, /"output_folder_path" and "input_folder_path" are the same folder \(\/p\/practicedata\)/],
    [{ ...base, prod_deployment_path: 'practicemodels' }, /"prod_deployment_path" and "output_model_path" are the same folder/],
    [{ ...base, test_data_path: 'x/../practicedata' }, /"test_data_path" and "input_folder_path" are the same folder/],
    [{ ...base, schedule: { cron: '* * * * *', every: 5 } }, /unknown key "schedule\.every"/],
    [{ ...base, drift: { source: 'traffic' } }, /"drift\.source" has an invalid value "traffic"/],
    [{ ...base, drift: { source: 'live', since: 'yesterday' } }, /"drift\.since" has an invalid value "yesterday"/],
  ])('rejects %j', (raw, msg) => {
    expect(() => parseConfig(raw, '/p/c.json', '/p')).toThrow(ConfigError);
    expect(() => parseConfig(raw, '/p/c.json', '/p')).toThrow(msg);
  });
});

describe('parseConfig: keys that are Object.prototype members are unknown keys', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['drift.__proto__', JSON.parse('{"drift": {"__proto__": {"p_value": 0.5}}}'), 'drift.__proto__'],
    ['drift.constructor', { drift: { constructor: 1 } }, 'drift.constructor'],
    ['model.toString', { model: { toString: 2 } }, 'model.toString'],
    ['model.hasOwnProperty', { model: { hasOwnProperty: 2 } }, 'model.hasOwnProperty'],
    ['server.__proto__', JSON.parse('{"server": {"__proto__": {"port": 1}}}'), 'server.__proto__'],
    ['constructor', { constructor: 'x' }, 'constructor'],
    ['hasOwnProperty', { hasOwnProperty: 1 }, 'hasOwnProperty'],
    ['__proto__', JSON.parse('{"__proto__": {"target": "y"}}'), '__proto__'],
    ['schedule.constructor', { schedule: { constructor: 'x' } }, 'schedule.constructor'],
  ];
  it.each(cases)('%s', (_, extra, key) => {
    const raw = { ...base, ...extra };
    // JSON.parse makes "__proto__" an own key; the spread above would drop it, so copy it over
    if (Object.hasOwn(extra, '__proto__')) Object.defineProperty(raw, '__proto__', { value: extra.__proto__, enumerable: true });
    expect(() => parseConfig(raw, '/p/c.json', '/p')).toThrow(ConfigError);
    expect(() => parseConfig(raw, '/p/c.json', '/p')).toThrow(`/p/c.json: unknown key "${key}"`);
  });

  it('a prototype key left out of the file does not leak in (schedule object without cron)', () => {
    expect(() => parseConfig({ ...base, schedule: {} }, '/p/c.json', '/p')).toThrow(/"schedule" must be a cron expression/);
  });

  it('a long bad value is quoted in at most ~80 characters', () => {
    const long = 'x'.repeat(5000);
    let message = '';
    try {
      parseConfig({ ...base, drift: { metric: long } }, '/p/c.json', '/p');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/"drift\.metric" has an invalid value "x{79}\.\.\. \(5002 chars\)$/);
    expect(quote('abc')).toBe('"abc"');
    expect(quote(undefined)).toBe('undefined');
  });
});

describe('loadConfig: real folders', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const projectWith = (config: Record<string, unknown>, setup: (dir: string) => void = () => undefined) => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-config-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'practicedata'));
    mkdirSync(join(dir, 'testdata'));
    setup(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...base, ...config }));
    return join(dir, 'config.json');
  };

  it('refuses an output folder that is a symlink to the input folder', async () => {
    const file = projectWith({}, (d) => symlinkSync('practicedata', join(d, 'ingesteddata')));
    await expect(loadConfig(file, { createOutputs: true })).rejects.toThrow(
      new RegExp(`^${file}: "output_folder_path" and "input_folder_path" are the same folder`),
    );
  });

  it('refuses a model folder that would be created inside a symlink to the production folder, and creates nothing', async () => {
    const file = projectWith({ output_model_path: 'link/prod', prod_deployment_path: 'real/prod' }, (d) => {
      mkdirSync(join(d, 'real'));
      symlinkSync('real', join(d, 'link'));
    });
    await expect(loadConfig(file, { createOutputs: true })).rejects.toThrow(/"prod_deployment_path" and "output_model_path" are the same folder/);
    expect(existsSync(join(file, '..', 'real', 'prod'))).toBe(false);
  });

  it('accepts separate folders, nested ones included, and creates the outputs', async () => {
    const file = projectWith({ output_folder_path: 'practicedata/ingested' });
    const c = await loadConfig(file, { createOutputs: true });
    expect(c.output_folder_path).toBe(join(file, '..', 'practicedata', 'ingested'));
  });

  it('accepts a ClickHouse engine (no holdout, no credentials in the file) and duckdb', () => {
    expect(parseConfig({ ...base, engine: { type: 'clickhouse', url: 'http://127.0.0.1:8123', table: 't' } }, '/p/c.json', '/p').engine).toMatchObject({ type: 'clickhouse', table: 't' });
    expect(() => parseConfig({ ...base, engine: { type: 'clickhouse', url: 'http://127.0.0.1:8123' }, promotion: { holdout: 0.2 } }, '/p/c.json', '/p')).toThrow(/"promotion.holdout" is not available on the ClickHouse engine/);
    expect(() => parseConfig({ ...base, engine: { type: 'clickhouse', url: 'http://127.0.0.1:8123', password: 'x' } }, '/p/c.json', '/p')).toThrow(/credentials do not belong in config.json/);
    expect(parseConfig({ ...base, engine: { type: 'duckdb' } }, '/p/c.json', '/p').engine).toEqual({ type: 'duckdb' });
  });
});
