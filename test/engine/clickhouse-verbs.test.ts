/**
 * The verbs on a ClickHouse engine through the real CLI, against the DuckDB path on the same
 * files: ingest, train (coefficients to 1e-8 relative), score and predict (metrics to 1e-9),
 * diagnose's summaries, data drift (identical verdicts) and `mlops run` end to end; the same on a
 * Distributed table over two shards as `source_table`; and a server killed mid-train (exit 2,
 * one line naming the server and the step, production untouched, the rerun completes).
 *
 * Two server processes serve the whole file: the first is the single node of the plain-table
 * tests, and both are the shards of the Distributed table.
 */
import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClickHouse, type ClickHouse } from '../../src/engine/clickhouse/client.js';
import { generate } from '../../src/tools/gendata.js';
import { assertNoInternalError, BIN, cli, cliJson, project } from '../helpers.js';
import { CLUSTER, clickHouseAvailable, startTwoShards, type TestServer } from '../helpers/clickhouse.js';

/** |a - b| <= tol * max(|a|, |b|), elementwise, naming the entry that is off. */
function expectRelClose(actual: readonly (number | null)[], expected: readonly (number | null)[], tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, j) => {
    const e = expected[j]!;
    if (a === null || e === null) return expect(a, `${what}[${j}]`).toBe(e);
    const rel = Math.abs(a - e) / Math.max(Math.abs(a), Math.abs(e), Number.MIN_VALUE);
    expect(rel, `${what}[${j}]: ${a} vs ${e}`).toBeLessThanOrEqual(tol);
  });
}

interface Model {
  features: string[];
  inputs: { name: string; kind: string; fill: number }[];
  linear: { intercept: number; coefficients: number[]; terms: unknown[] };
  importances: number[];
  iterations: number;
  training_rows: number;
  labels: unknown;
  id_columns: string[];
}

/** Same model up to the solver's last digits. */
function expectSameModel(ch: Model, duck: Model): void {
  expect([ch.features, ch.inputs.map((i) => i.kind), ch.linear.terms, ch.training_rows, ch.labels, ch.id_columns]).toEqual([
    duck.features,
    duck.inputs.map((i) => i.kind),
    duck.linear.terms,
    duck.training_rows,
    duck.labels,
    duck.id_columns,
  ]);
  expectRelClose([ch.linear.intercept, ...ch.linear.coefficients], [duck.linear.intercept, ...duck.linear.coefficients], 1e-8, 'coefficients');
  expectRelClose(ch.inputs.map((i) => i.fill), duck.inputs.map((i) => i.fill), 1e-14, 'fills');
  expectRelClose(ch.importances, duck.importances, 1e-8, 'importances');
}

type Metrics = Record<string, number | null>;
interface Drift {
  data: { features: { feature: string; kind: string; verdict: string; reason: string; statistic: number | null; pValue: number | null; psi: number | null; wassersteinNorm: number | null }[]; datasetDrift: boolean; drifted: number } | null;
  notes: string[];
}

/** `mlops --json ARGS` when the exit code may be 4 (drift found). */
function jsonAllowingDrift<T>(dir: string, ...args: string[]): T {
  const r = cli(dir, '--json', ...args);
  if (r.code !== 0 && r.code !== 4) throw new Error(`mlops ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function expectSameDrift(ch: Drift, duck: Drift): void {
  expect(ch.data, 'data drift ran').not.toBeNull();
  expect(ch.data!.features.map((f) => [f.feature, f.kind, f.verdict, f.reason])).toEqual(duck.data!.features.map((f) => [f.feature, f.kind, f.verdict, f.reason]));
  expect([ch.data!.datasetDrift, ch.data!.drifted]).toEqual([duck.data!.datasetDrift, duck.data!.drifted]);
  ch.data!.features.forEach((f, j) => {
    const d = duck.data!.features[j]!;
    expectRelClose([f.statistic, f.pValue, f.psi, f.wassersteinNorm], [d.statistic, d.pValue, d.psi, d.wassersteinNorm], 1e-9, `${f.feature} drift`);
  });
}

const METRICS = ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss'];

/** A pair of projects on the same files: one on DuckDB, one on the ClickHouse server. */
function projects(engine: Record<string, unknown>, seed: number): { duck: string; ch: string } {
  const duck = project({ classic: false });
  generate({ rows: 20_000, files: 2, out: join(duck, 'practicedata'), seed, dup: 0.05, missing: 0.02 });
  generate({ rows: 2_000, files: 1, out: join(duck, 'testdata'), seed: seed + 1, missing: 0.02, prefix: 'test.csv' });
  generate({ rows: 8_000, files: 1, out: join(duck, 'sourcedata'), seed: seed + 2, missing: 0.02, shift: 1, prefix: 'shifted.csv' });
  const ch = project({ classic: false, config: { engine } });
  for (const sub of ['practicedata', 'testdata', 'sourcedata']) cpSync(join(duck, sub), join(ch, sub), { recursive: true });
  return { duck, ch };
}

const available = clickHouseAvailable('test/engine/clickhouse-verbs.test.ts');
const run = available ? describe : describe.skip;

run('the verbs on ClickHouse equal the DuckDB path', () => {
  let shards: [TestServer, TestServer];
  let a: ClickHouse;
  beforeAll(async () => {
    shards = await startTwoShards();
    a = connectClickHouse({ url: shards[0].url });
  });
  afterAll(async () => {
    await a?.close();
    await Promise.all(shards?.map((s) => s.stop()) ?? []);
  });

  it('ingest, train, score, predict, diagnose, deploy and data drift through the CLI', () => {
    const { duck, ch } = projects({ type: 'clickhouse', url: shards[0].url, table: 'verbs' }, 31);
    const both = <T>(...args: string[]): [T, T] => [cliJson<T>(ch, ...args), cliJson<T>(duck, ...args)];

    type Ingested = { rows_read: number; duplicates_dropped: number; rows_written: number; files: unknown[]; columns: unknown[]; roles: unknown[]; output: string };
    const [ic, id] = both<Ingested>('ingest');
    expect([ic.rows_read, ic.duplicates_dropped, ic.rows_written, ic.files, ic.columns, ic.roles]).toEqual([id.rows_read, id.duplicates_dropped, id.rows_written, id.files, id.columns, id.roles]);
    expect(ic.output).toBe(`clickhouse ${shards[0].url} default.verbs`);

    const [tc, td] = both<{ model: Model; unlabelledRows: number }>('train');
    expectSameModel(tc.model, td.model);
    expect(tc.unlabelledRows).toBe(td.unlabelledRows);
    expect(tc.model.iterations).toBe(td.model.iterations);

    // each project's own model on the test set, and the DuckDB-trained model scored by the
    // engine: the same model, so the metrics differ by rounding only
    const [sc, sd] = both<{ metrics: Metrics; confusion: unknown; rows: number; data_sha256: string }>('score');
    expect([sc.rows, sc.data_sha256]).toEqual([sd.rows, sd.data_sha256]);
    expectRelClose(METRICS.map((k) => sc.metrics[k]!), METRICS.map((k) => sd.metrics[k]!), 1e-9, 'own model metrics');
    const duckModel = join(duck, 'practicemodels', 'trainedmodel.json');
    const same = cliJson<{ metrics: Metrics; confusion: unknown }>(ch, 'score', '--model', duckModel);
    expect(same.confusion).toEqual(sd.confusion);
    expectRelClose(METRICS.map((k) => same.metrics[k]!), METRICS.map((k) => sd.metrics[k]!), 1e-9, 'metrics');

    const input = join(duck, 'testdata', 'test.csv');
    type Predicted = { predictions: number[]; probabilities: number[]; ids: Record<string, unknown[]> };
    const pc = cliJson<Predicted>(ch, 'predict', '--input', input, '--model', duckModel);
    const pd = cliJson<Predicted>(duck, 'predict', '--input', input, '--model', duckModel);
    expect(pc.predictions).toEqual(pd.predictions);
    expect(pc.ids).toEqual(pd.ids);
    expectRelClose(pc.probabilities, pd.probabilities, 1e-13, 'probabilities');

    type Diagnosed = { summary: { column: string; count: number; mean: number; std: number; min: number; q25: number; median: number; q75: number; max: number }[]; missing: unknown[]; rows: number; roles: unknown[] };
    const [dc, dd] = both<Diagnosed>('diagnose');
    expect([dc.rows, dc.missing, dc.roles]).toEqual([dd.rows, dd.missing, dd.roles]);
    expect(dc.summary.map((s) => [s.column, s.count, s.min, s.max, s.q25, s.median, s.q75])).toEqual(dd.summary.map((s) => [s.column, s.count, s.min, s.max, s.q25, s.median, s.q75]));
    dc.summary.forEach((s, j) => expectRelClose([s.mean, s.std], [dd.summary[j]!.mean, dd.summary[j]!.std], 1e-14, `${s.column} mean/std`));

    both('deploy');
    const [nc, nd] = [jsonAllowingDrift<Drift>(ch, 'drift', '--only', 'data'), jsonAllowingDrift<Drift>(duck, 'drift', '--only', 'data')];
    expect(nc.notes).toEqual(nd.notes);
    expect(nc.notes[0]).toMatch(/the current data is the deployed training data itself/);
    // new, shifted data: the deployed release's training data is kept in the engine as the reference
    for (const dir of [duck, ch]) cpSync(join(dir, 'sourcedata', 'shifted.csv'), join(dir, 'practicedata', 'shifted.csv'));
    both('ingest');
    const [fc, fd] = [jsonAllowingDrift<Drift>(ch, 'drift', '--only', 'data'), jsonAllowingDrift<Drift>(duck, 'drift', '--only', 'data')];
    expectSameDrift(fc, fd);
    expect(fd.data!.datasetDrift).toBe(true);
  });

  it('mlops run end to end: bootstrap, then drift, retrain and redeploy, decisions as on DuckDB', () => {
    const { duck, ch } = projects({ type: 'clickhouse', url: shards[0].url, table: 'loop' }, 41);
    type Run = { decision: string; steps: { step: string; outcome: string }[] };
    const runBoth = (): [Run, Run] => [jsonAllowingDrift<Run>(ch, 'run'), jsonAllowingDrift<Run>(duck, 'run')];
    const steps = (r: Run) => r.steps.map((s) => `${s.step}:${s.outcome}`);
    const [bc, bd] = runBoth();
    expect([bc.decision, steps(bc)]).toEqual([bd.decision, steps(bd)]);
    expect(bc.decision).toBe('bootstrap: deployed');
    for (const dir of [duck, ch]) cpSync(join(dir, 'sourcedata', 'shifted.csv'), join(dir, 'practicedata', 'shifted.csv'));
    const [rc, rd] = runBoth();
    expect([rc.decision, steps(rc)]).toEqual([rd.decision, steps(rd)]);
    expect(steps(rc)).toContain('train:ok');
    const models = (dir: string) => JSON.parse(readFileSync(join(dir, 'production_deployment', 'current', 'trainedmodel.json'), 'utf8')) as Model;
    expectSameModel(models(ch), models(duck));
    expect(jsonAllowingDrift<Run>(ch, 'run').decision).toBe('no new data');
  });

  it('a Distributed table over two shards as source_table gives the DuckDB path results', async () => {
    const { duck, ch } = projects({ type: 'clickhouse', url: shards[0].url, table: 'dist_rows' }, 51);
    // the de-duplicated rows, then spread over the shards by row number
    cliJson(ch, 'ingest');
    const b = connectClickHouse({ url: shards[1].url });
    try {
      await a.command(`CREATE TABLE part ENGINE = MergeTree ORDER BY _mlops_row AS SELECT * FROM dist_rows WHERE _mlops_row % 2 = 0`, 'test');
      await b.command(`CREATE TABLE part ENGINE = MergeTree ORDER BY _mlops_row AS SELECT * FROM remote('127.0.0.1:${shards[0].tcpPort}', default, dist_rows) WHERE _mlops_row % 2 = 1`, 'test');
      await a.command(`CREATE TABLE dist AS part ENGINE = Distributed(${CLUSTER}, default, part)`, 'test');
      const [n] = await b.query<{ n: string }>('SELECT count() AS n FROM part', 'test');
      expect(Number(n!.n)).toBeGreaterThan(1000);
    } finally {
      await b.close();
    }
    const config = JSON.parse(readFileSync(join(ch, 'config.json'), 'utf8')) as Record<string, unknown>;
    config.engine = { type: 'clickhouse', url: shards[0].url, table: 'unused', source_table: 'dist' };
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(ch, 'config.json'), JSON.stringify(config));

    const ic = cliJson<{ files: { name: string; sha256: string }[]; rows_written: number; duplicates_dropped: number }>(ch, 'ingest');
    const id = cliJson<{ rows_written: number }>(duck, 'ingest');
    expect([ic.rows_written, ic.duplicates_dropped, ic.files.map((f) => f.name)]).toEqual([id.rows_written, 0, ['default.dist']]);
    const [tc, td] = [cliJson<{ model: Model }>(ch, 'train'), cliJson<{ model: Model }>(duck, 'train')];
    expectSameModel(tc.model, td.model);
    // the fingerprint does not depend on how the rows are spread: the same as the plain table's
    const plain = await a.query<{ n: string }>('SELECT count() AS n FROM dist_rows', 'test');
    expect(Number(plain[0]!.n)).toBe(ic.rows_written);
    const duckModel = join(duck, 'practicemodels', 'trainedmodel.json');
    const onShards = cliJson<{ metrics: Metrics; confusion: unknown }>(ch, 'score', '--model', duckModel, '--data', `clickhouse ${shards[0].url} default.dist`, '--role', 'adhoc');
    const inDuck = cliJson<{ metrics: Metrics; confusion: unknown }>(duck, 'score', '--model', duckModel, '--data', join(duck, 'ingesteddata', 'finaldata.csv'), '--role', 'adhoc');
    expect(onShards.confusion).toEqual(inDuck.confusion);
    expectRelClose(METRICS.map((k) => onShards.metrics[k]!), METRICS.map((k) => inDuck.metrics[k]!), 1e-9, 'metrics on the shards');
    type Diagnosed = { summary: { column: string; count: number; mean: number; std: number; q25: number; median: number; q75: number }[]; missing: unknown[] };
    const [dc, dd] = [cliJson<Diagnosed>(ch, 'diagnose'), cliJson<Diagnosed>(duck, 'diagnose')];
    expect(dc.missing).toEqual(dd.missing);
    expect(dc.summary.map((s) => [s.column, s.count, s.q25, s.median, s.q75])).toEqual(dd.summary.map((s) => [s.column, s.count, s.q25, s.median, s.q75]));
    dc.summary.forEach((s, j) => expectRelClose([s.mean, s.std], [dd.summary[j]!.mean, dd.summary[j]!.std], 1e-14, `${s.column} mean/std`));
    // data drift of a file against the training data on the shards
    for (const dir of [ch, duck]) cliJson(dir, 'score');
    for (const dir of [ch, duck]) cliJson(dir, 'deploy');
    const shifted = join(duck, 'sourcedata', 'shifted.csv');
    expectSameDrift(jsonAllowingDrift<Drift>(ch, 'drift', '--only', 'data', '--current', shifted), jsonAllowingDrift<Drift>(duck, 'drift', '--only', 'data', '--current', shifted));
    // the loop: the table stands for the input folder; rows added on a shard are new data
    type Run = { decision: string; new_files: string[] };
    expect(jsonAllowingDrift<Run>(ch, 'run').decision).toBe('no new data');
    await a.command('INSERT INTO part SELECT * FROM dist_rows WHERE _mlops_row % 5 = 1', 'test');
    const next = jsonAllowingDrift<Run>(ch, 'run');
    expect(next.new_files).toEqual(['default.dist']);
    expect(next.decision).toMatch(/^(no drift|drift: )/);
  });

  it('a server killed mid-train: exit 2 naming the server and the step, production untouched, the rerun completes', async () => {
    const { ch } = projects({ type: 'clickhouse', url: shards[0].url, table: 'killed' }, 61);
    cliJson(ch, 'run');
    const prod = () => readFileSync(join(ch, 'production_deployment', 'current', 'trainedmodel.json'), 'utf8');
    const trained = () => readFileSync(join(ch, 'practicemodels', 'trainedmodel.json'), 'utf8');
    const versions = () => readFileSync(join(ch, 'practicemodels', 'registry', 'index.jsonl'), 'utf8');
    const before = { prod: prod(), trained: trained(), versions: versions() };
    // train pauses before its third Newton iteration's query; the server dies there
    const child = spawn(process.execPath, [BIN, 'train'], {
      cwd: ch,
      env: { ...process.env, NO_COLOR: '1', MLOPS_PAUSE_AT: 'clickhouse: train, Newton iteration 3', MLOPS_PAUSE_MS: '300' },
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('paused at clickhouse: train, Newton iteration 3')) shards[0].kill();
      });
      child.once('exit', (c) => resolve(c));
    });
    assertNoInternalError(['train'], stdout, stderr);
    expect(code, stderr).toBe(2);
    const error = stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(error).toHaveLength(1);
    expect(error[0]).toMatch(new RegExp(`^error: clickhouse ${shards[0].url.replace(/[.:/]/g, '\\$&')} \\(train, Newton iteration 3\\): (connection refused|the server closed the connection mid-query)`));
    // while it is down, every verb says so in one line, exit 2
    const down = cli(ch, 'score');
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^error: clickhouse http:\/\/127\.0\.0\.1:\d+ \(score.*\): connection refused/);
    expect([prod(), trained(), versions()]).toEqual([before.prod, before.trained, before.versions]);

    await shards[0].restart();
    const again = cliJson<{ model: Model; created: boolean }>(ch, 'train');
    expect(again.created).toBe(false);
    expect(trained()).toBe(before.trained);
  });
});

if (!available) {
  describe('the verbs on ClickHouse', () => {
    it.skip('needs clickhouse-server (see the warning above)', () => undefined);
  });
}
