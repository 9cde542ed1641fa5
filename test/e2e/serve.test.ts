/** mlops serve and mlops apicalls against a real server process on a free port. */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, eventually, genData, project, startServe } from '../helpers.js';

const serve = startServe;

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
const row = { lastmonth_activity: 234, lastyear_activity: 3, number_of_employees: 10 };
const post = (url: string, body: string, type = 'application/json') =>
  fetch(url + '/prediction', { method: 'POST', headers: { 'content-type': type }, body });

describe('mlops serve', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = project({ config: { server: { body_limit: 4096 } } });
    expect(cli(dir, 'run').code).toBe(0);
    expect(cli(dir, 'diagnose').code).toBe(0);
    ({ url } = await serve(dir));
  });

  it('POST /prediction accepts rows, dataframe_split, dataframe_records, CSV and a data file path, and they agree', async () => {
    const expected = JSON.parse(cli(dir, '--json', 'predict', '--input', 'testdata/testdata.csv').stdout) as { probabilities: number[] };
    const lines = readFileSync(join(dir, 'testdata/testdata.csv'), 'utf8').trim().split('\n');
    const recs = lines.slice(1).map((l) => {
      const c = l.split(',');
      return { lastmonth_activity: +c[1]!, lastyear_activity: +c[2]!, number_of_employees: +c[3]! };
    });
    const bodies: [string, string][] = [
      [JSON.stringify({ rows: recs }), 'application/json'],
      [JSON.stringify({ dataframe_records: recs }), 'application/json'],
      [JSON.stringify({ dataframe_split: { columns: FEATURES, data: recs.map((r) => FEATURES.map((f) => r[f as keyof typeof r])) } }), 'application/json'],
      [['lastmonth_activity,lastyear_activity,number_of_employees', ...recs.map((r) => `${r.lastmonth_activity},${r.lastyear_activity},${r.number_of_employees}`)].join('\n'), 'text/csv'],
      [JSON.stringify({ path: 'testdata/testdata.csv' }), 'application/json; charset=utf-8'],
    ];
    for (const [body, type] of bodies) {
      const res = await post(url, body, type);
      expect(res.status).toBe(200);
      const j = (await res.json()) as { predictions: number[]; probabilities: number[]; model_version: string };
      expect(j.model_version).toBe('v0001');
      expect(j.probabilities).toHaveLength(5);
      j.probabilities.forEach((p, i) => expect(p).toBeCloseTo(expected.probabilities[i]!, 12));
      j.predictions.forEach((p, i) => expect(p).toBe(j.probabilities[i]! > 0.5 ? 1 : 0));
    }
    // null is a missing value, imputed with the training mean
    const res = await post(url, JSON.stringify({ rows: [{ ...row, number_of_employees: null }] }));
    expect(res.status).toBe(200);
  });

  it('GET /scoring, /summarystats, /diagnostics, /health, /metrics', async () => {
    const scoring = (await (await fetch(url + '/scoring')).json()) as { metrics: { f1: number }; model_version: string };
    expect(scoring.metrics.f1).toBeCloseTo(4 / 7, 12);
    const stats = (await (await fetch(url + '/summarystats')).json()) as { summary: { column: string; mean: number }[] };
    expect(stats.summary.find((s) => s.column === 'lastmonth_activity')!.mean).toBeCloseTo(165.65384615384616, 10);
    const diag = (await (await fetch(url + '/diagnostics')).json()) as Record<string, unknown>;
    expect(Object.keys(diag)).toEqual(expect.arrayContaining(['timings', 'missing', 'dependencies']));
    const health = (await (await fetch(url + '/health')).json()) as { status: string; model_version: string };
    expect(health).toMatchObject({ status: 'ok', model_version: 'v0001' });
    const metrics = await (await fetch(url + '/metrics')).text();
    expect(metrics).toMatch(/^mlops_requests_total\{endpoint="\/prediction",status="200"\} \d+$/m);
    expect(metrics).toMatch(/^mlops_request_duration_seconds_bucket\{endpoint="\/prediction",le="\+Inf"\} \d+$/m);
    expect(metrics).toMatch(/^mlops_predictions_total \d+$/m);
  });

  const errorCases: [string, () => Promise<Response>, number, RegExp][] = [
    ['malformed JSON', () => post(url, '{"rows": [', 'application/json'), 400, /malformed JSON/],
    ['a missing feature column', () => post(url, JSON.stringify({ rows: [{ lastmonth_activity: 1, lastyear_activity: 2 }] })), 400, /missing feature column "number_of_employees"/],
    ['an extra column', () => post(url, JSON.stringify({ rows: [{ ...row, region: 3 }] })), 400, /unknown column "region"/],
    ['a non-numeric value', () => post(url, JSON.stringify({ rows: [{ ...row, lastyear_activity: 'lots' }] })), 400, /column "lastyear_activity" holds "lots"/],
    ['a non-numeric CSV value', () => post(url, 'lastmonth_activity,lastyear_activity,number_of_employees\n1,x,3\n', 'text/csv'), 400, /column "lastyear_activity" holds "x"/],
    ['a column twice in dataframe_split', () => post(url, JSON.stringify({ dataframe_split: { columns: [...FEATURES, 'lastyear_activity'], data: [[1, 2, 3, 2]] } })), 400, /^dataframe_split\.columns: column "lastyear_activity" is listed twice$/],
    ['a column twice in a CSV header', () => post(url, 'lastmonth_activity,lastyear_activity,number_of_employees,lastmonth_activity\n1,2,3,1\n', 'text/csv'), 400, /^CSV header: column "lastmonth_activity" is listed twice$/],
    ['an unknown body shape', () => post(url, JSON.stringify({ data: [] })), 400, /unknown request shape/],
    ['a wrong content type', () => post(url, 'a=1', 'application/x-www-form-urlencoded'), 415, /not supported/],
    ['a body over the limit', () => post(url, JSON.stringify({ rows: Array(200).fill(row) })), 413, /over the 4096-byte limit/],
    ['".." in a path', () => post(url, JSON.stringify({ path: 'testdata/../../../etc/passwd' })), 400, /must not contain "\.\."/],
    ['an absolute path elsewhere', () => post(url, JSON.stringify({ path: '/etc/passwd' })), 403, /outside the configured data folders/],
    ['a missing data file', () => post(url, JSON.stringify({ path: 'testdata/nope.csv' })), 404, /no such data file/],
    ['an unknown route', () => fetch(url + '/nowhere'), 404, /no route GET \/nowhere/],
    ['a wrong method', () => fetch(url + '/prediction'), 405, /takes POST/],
  ];
  for (const [name, call, status, message] of errorCases) {
    it(`${name} -> ${status} with a JSON message`, async () => {
      const res = await call();
      expect(res.status).toBe(status);
      const j = (await res.json()) as { error: string };
      expect(j.error).toMatch(message);
    });
  }

  it('a malformed data file the client points at: 400 naming it by its data folder, no absolute server path', async () => {
    writeFileSync(join(dir, 'practicedata', 'broken.csv'), 'lastmonth_activity,lastyear_activity,number_of_employees\n1,lots,3\n');
    try {
      const res = await post(url, JSON.stringify({ path: 'practicedata/broken.csv' }));
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toContain('practicedata/broken.csv');
      expect(text).not.toContain(dir);
    } finally {
      rmSync(join(dir, 'practicedata', 'broken.csv'));
    }
  });

  it('a symlink out of the data folders is refused', async () => {
    symlinkSync('/etc/hostname', join(dir, 'testdata', 'escape.csv'));
    try {
      const res = await post(url, JSON.stringify({ path: 'testdata/escape.csv' }));
      expect(res.status).toBe(403);
    } finally {
      rmSync(join(dir, 'testdata', 'escape.csv'));
    }
  });

  it('the server survived all of that', async () => {
    expect((await fetch(url + '/health')).status).toBe(200);
  });

  it('apicalls writes every response with its status; fails when the server is not there', () => {
    const r = cli(dir, 'apicalls', '--url', url);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(dir, 'practicemodels', 'apireturns.txt'), 'utf8');
    for (const p of ['/prediction', '/scoring', '/summarystats', '/diagnostics', '/health', '/metrics']) {
      expect(text).toMatch(new RegExp(`^(GET|POST) ${url}${p} -> 200`, 'm'));
    }
    const down = cli(dir, 'apicalls', '--url', 'http://127.0.0.1:9');
    expect(down.code).toBe(5);
    expect(down.stderr).toContain('did not return 200');
  });
});

describe("the server's own broken files are 5xx naming the file relative to the project", () => {
  let dir: string;
  let url: string;
  let log: () => string;
  beforeAll(async () => {
    dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    expect(cli(dir, 'diagnose').code).toBe(0);
    writeFileSync(join(dir, 'practicemodels', 'diagnostics.json'), '{"timestamp": ');
    writeFileSync(join(dir, 'testdata', 'testdata.csv'), readFileSync(join(dir, 'testdata', 'testdata.csv'), 'utf8') + 'zz,abc,1,2,0\n');
    ({ url, log } = await serve(dir));
  });

  it('a broken diagnostics.json', async () => {
    for (const route of ['/diagnostics', '/summarystats']) {
      const res = await fetch(url + route);
      expect(res.status).toBe(500);
      const j = (await res.json()) as { error: string; hint: string };
      expect(j.error).toMatch(/^practicemodels\/diagnostics\.json: not valid JSON/);
      expect(j.hint).toContain('mlops diagnose');
    }
    writeFileSync(join(dir, 'practicemodels', 'diagnostics.json'), '[]');
    expect(((await (await fetch(url + '/diagnostics')).json()) as { error: string }).error).toBe('practicemodels/diagnostics.json: must hold a JSON object');
  });

  it('malformed test data behind /scoring', async () => {
    const scoring = await fetch(url + '/scoring');
    expect(scoring.status).toBe(500);
    const body = await scoring.text();
    expect(JSON.parse(body).error).toMatch(/^testdata\/testdata\.csv: line \d+: column "lastmonth_activity"/);
    expect(body).not.toContain(dir);
    expect(log()).toContain('/scoring -> 500');
  });
});

describe("MLflow's scoring protocol, probes, request ids, extra columns and the access log", () => {
  it('POST /invocations takes every MLflow shape; /ping, /version and HEAD answer; ids and extra columns as configured', async () => {
    const dir = project({ config: { server: { extra_columns: 'pass', access_log: 'access.jsonl' } } });
    expect(cli(dir, 'run').code).toBe(0);
    const { url } = await serve(dir);
    const inv = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(url + '/invocations', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const values = FEATURES.map((f) => row[f as keyof typeof row]);
    const expected = ((await (await post(url, JSON.stringify({ rows: [row] }))).json()) as { predictions: number[] }).predictions;
    for (const body of [
      { dataframe_split: { columns: FEATURES, data: [values] } },
      { dataframe_records: [row] },
      { instances: [row] },
      { instances: [values] },
      { inputs: [row] },
      { inputs: Object.fromEntries(FEATURES.map((f, j) => [f, [values[j]]])) },
    ]) {
      const res = await inv(body);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ predictions: expected });
    }
    const csv = await fetch(url + '/invocations', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: `${FEATURES.join(',')}\n${values.join(',')}\n` });
    expect(await csv.json()).toEqual({ predictions: expected });
    // the id column and an extra one come back with each prediction
    const passed = (await (await inv({ dataframe_records: [{ ...row, corporation: 'acme', batch: 7 }] }, { 'x-request-id': 'req-42' })).json()) as { predictions: Record<string, unknown>[] };
    expect(passed.predictions[0]).toMatchObject({ corporation: 'acme', batch: 7, prediction: expected[0] });
    const r = await inv({ instances: [row] }, { 'x-request-id': 'req-43' });
    expect(r.headers.get('x-request-id')).toBe('req-43');
    expect(r.headers.get('x-model-version')).toBe('v0001');
    expect((await fetch(url + '/health')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await fetch(url + '/ping')).status).toBe(200);
    const head = await fetch(url + '/health', { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    expect(await (await fetch(url + '/version')).json()).toMatchObject({ model_version: 'v0001', model_type: 'logistic_regression', task: 'classification' });
    const metrics = await (await fetch(url + '/metrics')).text();
    for (const m of [/mlops_stage_duration_seconds_count\{stage="parse"\} \d+/, /mlops_stage_duration_seconds_count\{stage="predict"\} \d+/, /mlops_prediction_output_count\{version="v0001"\} \d+/, /mlops_event_loop_lag_seconds\{quantile="0.99"\}/, /process_resident_memory_bytes \d+/]) {
      expect(metrics).toMatch(m);
    }
    const lines = readFileSync(join(dir, 'access.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.request_id === 'req-42')).toMatchObject({ method: 'POST', route: '/invocations', status: 200, rows: 1, model_version: 'v0001' });
  });

  it('extra columns are refused by default and ignored when configured', async () => {
    const dir = project({ config: { server: { extra_columns: 'ignore' } } });
    expect(cli(dir, 'run').code).toBe(0);
    const { url } = await serve(dir);
    const res = await fetch(url + '/invocations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_records: [{ ...row, batch: 7 }] }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: unknown[] }).predictions).toHaveLength(1);
  });
});

describe('hot reload', () => {
  it('serves 503 before any deployment, then picks up the first release without a restart', async () => {
    const dir = project();
    const { url } = await serve(dir);
    const before = await post(url, JSON.stringify({ rows: [row] }));
    expect(before.status).toBe(503);
    expect(((await before.json()) as { hint: string }).hint).toContain('mlops run');
    expect(cli(dir, 'run').code).toBe(0);
    expect(await eventually(async () => (await post(url, JSON.stringify({ rows: [row] }))).status === 200)).toBe(true);
  });

  it('a redeploy during a stream of requests: no failed request, new version served afterwards; a broken release is rejected', async () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    const { url, log } = await serve(dir);
    let stop = false;
    const statuses: number[] = [];
    const versions = new Set<string>();
    const stream = (async () => {
      while (!stop) {
        const res = await post(url, JSON.stringify({ rows: [row] }));
        statuses.push(res.status);
        versions.add(((await res.json()) as { model_version: string }).model_version);
      }
    })();
    // new data -> ingest, train, score, deploy v0002 while requests flow (child processes run
    // asynchronously so this test's own requests keep going)
    writeFileSync(join(dir, 'config.json'), readFileSync(join(dir, 'config.json'), 'utf8').replace('"practicedata"', '"sourcedata"'));
    await new Promise((r) => setTimeout(r, 300));
    for (const verb of ['ingest', 'train', 'score', 'deploy']) await promisify(execFile)(process.execPath, [BIN, verb], { cwd: dir });
    await eventually(() => versions.has('v0002'));
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await stream;
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect([...versions].sort()).toEqual(['v0001', 'v0002']);
    const after = (await (await post(url, JSON.stringify({ rows: [row] }))).json()) as { model_version: string };
    expect(after.model_version).toBe('v0002');

    // a broken release made current by hand: rejected, v0002 keeps serving
    const bad = join(dir, 'production_deployment', 'releases', 'v0003');
    mkdirSync(bad);
    writeFileSync(join(bad, 'trainedmodel.json'), '{"format": "mlops-model/1", "type": "logistic_regression"');
    writeFileSync(join(bad, 'manifest.json'), '{}');
    const { execFileSync } = await import('node:child_process');
    execFileSync('ln', ['-sfn', 'releases/v0003', join(dir, 'production_deployment', 'current.tmp')]);
    execFileSync('mv', ['-T', join(dir, 'production_deployment', 'current.tmp'), join(dir, 'production_deployment', 'current')]);
    await eventually(() => /release v0003 rejected/.test(log()));
    const res = await post(url, JSON.stringify({ rows: [row] }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model_version: string }).model_version).toBe('v0002');
    expect(log()).toMatch(/release v0003 rejected, still serving v0002/);
    const health = (await (await fetch(url + '/health')).json()) as { last_reload_error: string };
    expect(health.last_reload_error).toMatch(/v0003 rejected/);
  }, 60_000);

  it('labels answers and logged predictions with the registry version the release serves, not the release number', async () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    const cfg = join(dir, 'config.json');
    for (const C of [0.01, 10]) {
      writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(cfg, 'utf8')), model: { C } }));
      expect(cli(dir, 'train').code).toBe(0);
    }
    // the second release serves v0003
    expect(cli(dir, 'promote', 'v0003', '--force').code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'production_deployment', 'current', 'manifest.json'), 'utf8')) as { name: string; model_version: number };
    expect(manifest).toMatchObject({ name: 'v0002', model_version: 3 });
    const { url } = await serve(dir);
    const res = await post(url, JSON.stringify({ rows: [row] }), 'application/json');
    expect(res.headers.get('x-model-version')).toBe('v0003');
    expect(((await res.json()) as { model_version: string }).model_version).toBe('v0003');
    expect(((await (await fetch(url + '/health')).json()) as { model_version: string }).model_version).toBe('v0003');
    // the prediction log (flushed within a second) says v0003 too
    const logged = async () => {
      const d = join(dir, 'ingesteddata', 'predictions');
      const { readdirSync } = await import('node:fs');
      return readdirSync(d).flatMap((n) => readFileSync(join(d, n), 'utf8').split('\n').filter(Boolean)).map((l) => (JSON.parse(l) as { version: string }).version);
    };
    await expect.poll(logged, { timeout: 5000 }).toEqual(['v0003']);
  });

  it('the loop calls a configured server after a redeploy and records the answers', async () => {
    const dir = project({ classic: false });
    genData('--rows', '4000', '--files', '2', '--out', join(dir, 'practicedata'), '--seed', '1');
    genData('--rows', '1000', '--out', join(dir, 'testdata'), '--seed', '2', '--prefix', 'testdata.csv');
    expect(cli(dir, 'run').code).toBe(0);
    const { url } = await serve(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), server: { url } }));
    // shifted data arrives and the test set is refreshed: drift -> retrain -> redeploy -> apicalls
    genData('--rows', '4000', '--files', '2', '--out', join(dir, 'practicedata'), '--seed', '3', '--shift', '1.5', '--prefix', 'newdata');
    genData('--rows', '1000', '--out', join(dir, 'testdata'), '--seed', '4', '--shift', '1.5', '--prefix', 'testdata.csv');
    const r = await promisify(execFile)(process.execPath, [BIN, '--json', 'run'], { cwd: dir, env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/' } });
    const rec = JSON.parse(r.stdout) as { decision: string; steps: { step: string; outcome: string; detail: string }[] };
    expect(rec.decision).toBe('drift: redeployed');
    expect(rec.steps.at(-1), JSON.stringify(rec.steps.at(-1))).toMatchObject({ step: 'apicalls', outcome: 'ok' });
    const returns = readFileSync(join(dir, 'practicemodels', 'apireturns.txt'), 'utf8');
    expect(returns).toMatch(/POST .*\/prediction -> 200/);
    expect(returns).toContain('"model_version":"v0002"');
  }, 60_000);

  it('SIGTERM stops the server gracefully', async () => {
    const dir = project();
    const { child } = await serve(dir);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
  });
});
