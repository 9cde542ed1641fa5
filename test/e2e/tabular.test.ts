/**
 * Real tabular data (issue 11): a churn data set with an id, text categories, missing values and
 * yes/no labels; a regression target; boosted trees; the SQL export run in DuckDB against
 * `mlops predict`; a version-1 model file; and the bad inputs of the issue.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, project, read, startServe } from '../helpers.js';

/** A seeded uniform generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGIONS = ['north', 'south', 'east', 'west'];
const PLANS = ['basic', 'pro', 'team'];

/** Churn rows: id, region, plan, usage, tenure, churned (yes/no); the label depends on region and plan. */
function churn(n: number, seed: number, firstId: number, extraPlan?: string): string {
  const r = rng(seed);
  const lines = ['id,region,plan,usage,tenure,churned'];
  for (let i = 0; i < n; i++) {
    const region = r() < 0.03 ? '' : REGIONS[Math.floor(r() * 4)]!;
    const plan = extraPlan && r() < 0.1 ? extraPlan : PLANS[Math.floor(r() * 3)]!;
    const usage = 20 + 60 * r();
    const tenure = 1 + Math.floor(60 * r());
    const z = -0.5 + 0.03 * (50 - usage) + (region === 'north' ? 1.2 : 0) + (plan === 'basic' ? 0.9 : -0.4) - 0.02 * tenure;
    const churned = r() < 1 / (1 + Math.exp(-z)) ? 'yes' : 'no';
    lines.push(`${firstId + i},${region},${plan},${r() < 0.05 ? 'NA' : usage.toFixed(3)},${tenure},${churned}`);
  }
  return lines.join('\n') + '\n';
}

function churnProject(config: Record<string, unknown> = {}): string {
  const dir = project({ classic: false, config: { target: 'churned', ...config } });
  writeFileSync(join(dir, 'practicedata', 'customers.csv'), churn(1500, 1, 1));
  writeFileSync(join(dir, 'testdata', 'test.csv'), churn(300, 2, 100_000));
  return dir;
}

interface Model {
  format: string;
  type: string;
  task: string;
  features: string[];
  id_columns: string[];
  labels: { negative: unknown; positive: unknown } | null;
  inputs: { name: string; kind: string; levels?: string[] }[];
  linear: { terms: { name: string }[]; coefficients: number[]; intercept: number } | null;
  trees: unknown;
  importances: number[];
}
const model = (dir: string) => JSON.parse(read(join(dir, 'practicemodels/trainedmodel.json'))) as Model;

interface Predicted {
  predictions: (string | number)[];
  probabilities: number[] | null;
  ids: Record<string, string[]>;
  unseen: Record<string, number>;
}

/** Run an exported query in DuckDB over a CSV read as text or with DuckDB's own types. */
async function runSql(dir: string, file: string, asText: boolean, args: string[] = []): Promise<Record<string, unknown>[]> {
  const table = `read_csv('${join(dir, file)}'${asText ? ', all_varchar = true' : ''})`;
  const sql = cli(dir, 'export', '--sql', '--table', table, ...args);
  expect(sql.code).toBe(0);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const rows = (await conn.runAndReadAll(sql.stdout)).getRowObjects();
  conn.closeSync();
  return rows as Record<string, unknown>[];
}

describe('a churn data set: ids, categories, missing values, yes/no labels', () => {
  const dir = churnProject();

  it('ingest keeps the text columns; train gives each column a role and one-hot encodes the categories', () => {
    expect(cli(dir, 'ingest').code).toBe(0);
    const t = cli(dir, 'train');
    expect(t.code).toBe(0);
    const m = model(dir);
    expect(m.format).toBe('mlops-model/2');
    expect(m.id_columns).toEqual(['id']);
    expect(m.features).toEqual(['region', 'plan', 'usage', 'tenure']);
    expect(m.inputs.map((i) => i.kind)).toEqual(['categorical', 'categorical', 'numeric', 'numeric']);
    expect(m.labels).toEqual({ negative: 'no', positive: 'yes' });
    const terms = m.linear!.terms.map((x) => x.name);
    for (const t of ['region=north', 'region=(missing)', 'plan=basic', 'usage', 'tenure']) expect(terms).toContain(t);
    // north and basic raise churn in the data: their coefficients are the largest of their columns
    const coef = (name: string) => m.linear!.coefficients[terms.indexOf(name)]!;
    expect(coef('region=north')).toBeGreaterThan(Math.max(coef('region=south'), coef('region=east'), coef('region=west')));
    expect(coef('plan=basic')).toBeGreaterThan(Math.max(coef('plan=pro'), coef('plan=team')));
    const d = cliJson<{ roles: { name: string; role: string; reason: string }[] }>(dir, 'diagnose');
    expect(d.roles.find((r) => r.name === 'id')).toMatchObject({ role: 'identifier' });
    expect(d.roles.find((r) => r.name === 'region')).toMatchObject({ role: 'categorical' });
  });

  it('score and predict: predictions in the original labels, the id carried through, unseen levels counted', () => {
    const s = cliJson<{ metrics: Record<string, number>; rows: number }>(dir, 'score');
    expect(s.rows).toBe(300);
    expect(s.metrics.roc_auc).toBeGreaterThan(0.65);
    writeFileSync(join(dir, 'new.csv'), churn(200, 3, 500_000, 'enterprise'));
    const p = cliJson<Predicted>(dir, 'predict', '--input', 'new.csv', '--model', 'trained');
    expect(new Set(p.predictions)).toEqual(new Set(['yes', 'no']));
    expect(p.ids.id![0]).toBe('500000');
    expect(p.unseen.plan).toBeGreaterThan(5);
    p.probabilities!.forEach((q, i) => expect(p.predictions[i]).toBe(q > 0.5 ? 'yes' : 'no'));
  });

  it('serve: categories as strings, the id back in the response, unseen levels on /metrics', async () => {
    expect(cli(dir, 'deploy').code).toBe(0);
    const { url } = await startServe(dir);
    const res = await fetch(url + '/prediction', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rows: [{ id: 7, region: 'north', plan: 'basic', usage: 30, tenure: 2 }, { region: 'mars', plan: null, usage: null, tenure: 40 }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: string[]; probabilities: number[]; ids: Record<string, unknown[]> };
    expect(body.predictions[0]).toBe('yes');
    expect(body.probabilities[0]).toBeGreaterThan(body.probabilities[1]!);
    expect(body.ids).toEqual({ id: [7, null] });
    const metrics = await (await fetch(url + '/metrics')).text();
    expect(metrics).toMatch(/mlops_unseen_levels_total\{feature="region"\} 1/);
  });

  it('the SQL export scores in DuckDB exactly as predict does, from text or typed columns', async () => {
    const p = cliJson<Predicted>(dir, 'predict', '--input', 'testdata/test.csv');
    for (const asText of [true, false]) {
      const rows = await runSql(dir, 'testdata/test.csv', asText);
      expect(rows).toHaveLength(300);
      rows.forEach((r, i) => {
        expect(r.prediction).toBe(p.predictions[i]);
        expect(Math.abs(Number(r.probability) - p.probabilities![i]!)).toBeLessThanOrEqual(1e-12 * p.probabilities![i]!);
        expect(String(r.id)).toBe(p.ids.id![i]);
      });
    }
  });

  it('positive_label picks class 1 among any two values; a version-1 model file still scores', () => {
    const d = project({ classic: false, config: { target: 'churned', positive_label: 'no' } });
    writeFileSync(join(d, 'practicedata', 'c.csv'), churn(600, 4, 1));
    writeFileSync(join(d, 'testdata', 't.csv'), churn(100, 5, 9000));
    expect(cli(d, 'ingest').code).toBe(0);
    expect(cli(d, 'train').code).toBe(0);
    expect(model(d).labels).toEqual({ negative: 'yes', positive: 'no' });

    const c = project();
    expect(cli(c, 'ingest').code).toBe(0);
    expect(cli(c, 'train').code).toBe(0);
    const v2 = cliJson<{ metrics: Record<string, number> }>(c, 'score');
    const m = model(c);
    const v1 = {
      format: 'mlops-model/1',
      type: 'logistic_regression',
      target: 'exited',
      features: m.features,
      coefficients: m.linear!.coefficients,
      intercept: m.linear!.intercept,
      feature_means: m.inputs.map((i) => (i as unknown as { fill: number }).fill),
      C: 1,
      trained_at: '2026-01-01T00:00:00.000Z',
      training_rows: 26,
      data_sha256: 'x',
      iterations: 7,
      gradient_max_norm: 1e-12,
      converged: true,
    };
    writeFileSync(join(c, 'old.json'), JSON.stringify(v1));
    const old = cliJson<{ metrics: Record<string, number> }>(c, 'score', '--model', join(c, 'old.json'), '--data', 'testdata');
    expect(old.metrics).toEqual(v2.metrics);
  });
});

describe('boosted trees', () => {
  it('beat logistic regression on an interaction, train deterministically, and export identical labels', async () => {
    const dir = project({ classic: false, config: { target: 'y', model: { type: 'gradient_boosting', seed: 3 } } });
    const r = rng(9);
    const gen = (n: number) => {
      const lines = ['a,b,noise,y'];
      for (let i = 0; i < n; i++) {
        const a = 2 * r() - 1;
        const b = 2 * r() - 1;
        lines.push(`${a.toFixed(4)},${b.toFixed(4)},${r().toFixed(4)},${(a * b > 0) !== r() < 0.1 ? 1 : 0}`);
      }
      return lines.join('\n') + '\n';
    };
    writeFileSync(join(dir, 'practicedata', 'xor.csv'), gen(3000));
    writeFileSync(join(dir, 'testdata', 'xor.csv'), gen(600));
    expect(cli(dir, 'ingest').code).toBe(0);
    const first = cliJson<{ version: number; created: boolean }>(dir, 'train');
    const m = model(dir);
    expect(m.type).toBe('gradient_boosting');
    expect(m.trees).toBeTruthy();
    expect(m.importances.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(m.importances[2]).toBeLessThan(Math.min(m.importances[0]!, m.importances[1]!));
    const trees = cliJson<{ metrics: Record<string, number> }>(dir, 'score');
    expect(trees.metrics.roc_auc).toBeGreaterThan(0.85);
    // the same data and seed: the same model, so the same version
    const again = cliJson<{ version: number; created: boolean }>(dir, 'train');
    expect([again.version, again.created]).toEqual([first.version, false]);

    const rows = await runSql(dir, 'testdata/xor.csv', true, ['--model', 'trained']);
    const p = cliJson<Predicted>(dir, 'predict', '--input', 'testdata/xor.csv', '--model', 'trained');
    rows.forEach((row, i) => {
      expect(Number(row.prediction)).toBe(p.predictions[i]);
      expect(Math.abs(Number(row.probability) - p.probabilities![i]!)).toBeLessThan(1e-15);
    });

    writeFileSync(join(dir, 'config.json'), read(join(dir, 'config.json')).replace('"gradient_boosting"', '"logistic_regression"'));
    expect(cli(dir, 'train').code).toBe(0);
    const linear = cliJson<{ metrics: Record<string, number> }>(dir, 'score');
    expect(linear.metrics.roc_auc).toBeLessThan(0.6);
  });
});

describe('regression', () => {
  const claims = (n: number, seed: number) => {
    const r = rng(seed);
    const lines = ['age,car,miles,amount'];
    for (let i = 0; i < n; i++) {
      const age = 18 + Math.floor(60 * r());
      const car = ['sedan', 'suv', 'van'][Math.floor(3 * r())]!;
      const miles = 1 + 29 * r();
      const amount = 200 + 12 * age + (car === 'suv' ? 300 : 0) + 25 * miles + 100 * (r() + r() + r() - 1.5);
      lines.push(`${age},${car},${miles.toFixed(2)},${amount.toFixed(2)}`);
    }
    return lines.join('\n') + '\n';
  };

  it('linear and boosted regressors: R², SSE, RMSE, MAE, MAPE; latestscore.txt holds R²; the loop runs', async () => {
    const dir = project({ classic: false, config: { target: 'amount', task: 'regression' } });
    writeFileSync(join(dir, 'practicedata', 'claims.csv'), claims(800, 1));
    writeFileSync(join(dir, 'testdata', 'claims.csv'), claims(200, 2));
    const run = cli(dir, 'run');
    expect(run.code).toBe(0);
    const m = model(dir);
    expect([m.type, m.task, m.labels]).toEqual(['linear_regression', 'regression', null]);
    const terms = m.linear!.terms.map((t) => t.name);
    // alpha 0: the most frequent car is the reference level, so one indicator fewer
    expect(terms.filter((t) => t.startsWith('car=')).length).toBe(2);
    expect(m.linear!.coefficients[terms.indexOf('age')]).toBeCloseTo(12, 0);
    const s = cliJson<{ metrics: Record<string, number | null>; metric: string; value: number }>(dir, 'score');
    expect(Object.keys(s.metrics).sort()).toEqual(['mae', 'mape', 'r2', 'rmse', 'sse']);
    expect(s.metric).toBe('r2');
    expect(s.metrics.r2).toBeGreaterThan(0.9);
    expect(Number(read(join(dir, 'practicemodels/latestscore.txt')))).toBe(s.metrics.r2);
    const p = cliJson<Predicted>(dir, 'predict', '--input', 'testdata/claims.csv');
    expect(p.probabilities).toBeNull();
    const rows = await runSql(dir, 'testdata/claims.csv', false);
    rows.forEach((r, i) => expect(Math.abs(Number(r.prediction) - Number(p.predictions[i]))).toBeLessThanOrEqual(1e-12 * Math.abs(Number(p.predictions[i]))));
    expect(cli(dir, 'drift').code).toBe(0);
    expect(cli(dir, 'report').code).toBe(0);

    writeFileSync(join(dir, 'config.json'), read(join(dir, 'config.json')).replace('"task": "regression"', '"task": "regression", "model": {"type": "gradient_boosting"}'));
    expect(cli(dir, 'train').code).toBe(0);
    expect(model(dir).type).toBe('gradient_boosting');
    expect(cliJson<{ metrics: Record<string, number> }>(dir, 'score').metrics.r2).toBeGreaterThan(0.8);
  });

  it('bad input: text in the target, no target column, logistic regression for a regression task', () => {
    const dir = project({ classic: false, config: { target: 'amount', task: 'regression' } });
    writeFileSync(join(dir, 'practicedata', 'claims.csv'), claims(50, 1).replace(/\n(\d+,\w+,[\d.]+),[\d.]+\n/, '\n$1,lots\n'));
    let r = cli(dir, 'ingest');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/claims\.csv: line 2: column "amount" holds "lots", not a number/);
    writeFileSync(join(dir, 'practicedata', 'claims.csv'), claims(50, 1).replace(/,amount\n/, ',cost\n'));
    expect(cli(dir, 'ingest').code).toBe(0);
    r = cli(dir, 'train');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no target column "amount"/);
    writeFileSync(join(dir, 'config.json'), read(join(dir, 'config.json')).replace('"task": "regression"', '"task": "regression", "model": {"type": "logistic_regression"}'));
    r = cli(dir, 'train');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/logistic_regression is a classifier/);
  });
});

describe('categorical columns that cannot be features', () => {
  it('a categorical with too many levels is refused (exit 3, outputs intact); unlisted, such a column is an identifier', () => {
    const dir = project({ classic: false, config: { target: 'y', categorical: ['code'] } });
    const lines = ['code,x,y'];
    for (let i = 0; i < 60_000; i++) lines.push(`c${i},${i % 7},${i % 2}`);
    writeFileSync(join(dir, 'practicedata', 'big.csv'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'testdata', 't.csv'), 'code,x,y\nc1,1,1\nc2,2,0\n');
    expect(cli(dir, 'ingest').code).toBe(0);
    const r = cli(dir, 'train');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/column "code" cannot be a feature: too many levels for a category \(60000\)/);
    expect(readFileSync(join(dir, 'ingesteddata/finaldata.csv'), 'utf8').split('\n').length).toBe(60_002);
    writeFileSync(join(dir, 'config.json'), read(join(dir, 'config.json')).replace('"categorical": [\n    "code"\n  ]', '"categorical": []'));
    expect(cli(dir, 'train').code).toBe(0);
    expect(model(dir).id_columns).toEqual(['code']);
  });
});

describe('identifier columns', () => {
  it('come back exactly as written: numbers beyond 2^53, leading zeros (finaldata.csv, predict, diagnose, a run)', () => {
    const dir = project({ classic: false, config: { target: 'y', id_columns: ['customer'] } });
    // 2^53 + 1, + 3, ...: odd integers no double holds; as numbers 9007199254740995 and ...997 both become ...996
    const ids = Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? `00${i}` : String(9007199254740993n + 2n * BigInt(i))));
    const rows = ids.map((id, i) => `${id},${(i * 37) % 101},${(i * 37) % 101 > 50 ? 1 : 0}`);
    writeFileSync(join(dir, 'practicedata', 'a.csv'), ['customer,x,y', ...rows].join('\n') + '\n');
    writeFileSync(join(dir, 'testdata', 't.csv'), ['customer,x,y', ...rows.slice(0, 40)].join('\n') + '\n');
    expect(cli(dir, 'ingest').code).toBe(0);
    const final = read(join(dir, 'ingesteddata', 'finaldata.csv')).trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    expect(final).toEqual(ids);
    expect(cli(dir, 'train').code).toBe(0);
    const p = cli(dir, 'predict', '--input', join(dir, 'testdata', 't.csv'), '--model', 'trained');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[1])).toEqual(ids.slice(0, 40));
    for (const verb of ['score', 'diagnose', 'run']) expect(cli(dir, verb).code, verb).toBe(0);
  });

  it('not listed, whole numbers beyond 2^53 are read as numbers: ingest warns, naming the column and id_columns', () => {
    const dir = project({ classic: false, config: { target: 'y' } });
    const rows = Array.from({ length: 50 }, (_, i) => `${9007199254740993n + 2n * BigInt(i)},${i % 7},${i % 2}`);
    writeFileSync(join(dir, 'practicedata', 'a.csv'), ['customer,x,y', ...rows].join('\n') + '\n');
    const r = cli(dir, 'ingest');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: column "customer" holds whole numbers beyond 2\^53, .*list it in id_columns/);
    expect(cli(dir, 'ingest').stderr, 'small integers: no warning').not.toMatch(/column "x"/);
  });
});
