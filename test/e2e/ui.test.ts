/** mlops ui: the JSON endpoints and the auth rules against a real `mlops ui` process. */
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FeedbackStore, feedbackPath } from '../../src/live/feedback.js';
import { PredictionLog, predictionsDir } from '../../src/live/predlog.js';
import type { Config } from '../../src/store/config.js';
import { rng } from '../../src/tools/gendata.js';
import { championOf, cli, eventually, genData, logThroughput, project, projectWithTwoVersions, read, startUi } from '../helpers.js';

const TOKEN = 'test-token-0123456789abcdef';

/** A raw request (fetch may not set Host), resolving with status, headers and body. */
function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('mlops ui on 127.0.0.1', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = projectWithTwoVersions();
    ({ url } = await startUi(dir));
  });

  it('serves the page, the app and the vega bundles from node_modules', async () => {
    const page = await fetch(url + '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // charts run through vega's expression interpreter: no eval needed, a strict policy
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    const html = await page.text();
    for (const src of ['/vendor/vega.min.js', '/vendor/vega-lite.min.js', '/vendor/vega-embed.min.js', '/app.js']) {
      expect(html).toContain(src);
      const r = await fetch(url + src);
      expect(r.status, src).toBe(200);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
  });

  it('answers every page with aggregates and chart specs, never data rows', async () => {
    const get = async (p: string) => {
      const r = await fetch(url + p);
      expect(r.status, p).toBe(200);
      return (await r.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const o = await get('/api/overview');
    expect(o.champion.name).toBe('v0001');
    expect(o.versions).toBe(2);
    expect(o.last_run.decision).toBeTypeOf('string');
    expect(o.charts.scores.layer).toHaveLength(2);
    // no prediction log: the live cards say so, and raise no alert
    expect(o.live).toMatchObject({ no_traffic: true, throughput: null, performance: null, latency: { answering: false, prediction: null } });
    expect(o.live.latency.server).toMatch(/^http:\/\//);
    expect(o.alerts.filter((a: { source?: string }) => a.source === 'live')).toEqual([]);
    const c = await get('/api/curves');
    expect(c.charts.roc.layer[1].encoding.x.title).toBe('false positive rate');
    expect(c.charts.calibration.layer[1].data.values.length).toBeLessThanOrEqual(10);
    const m = await get('/api/models?sort=version&order=asc');
    expect(m.models.map((r: { name: string }) => r.name)).toEqual(['v0001', 'v0002']);
    expect(m.charts.metric.layer[0].encoding.x.title).toBe('model version');
    expect((await get('/api/models?q=champion')).models.map((r: { name: string }) => r.name)).toEqual(['v0001']);
    expect((await get('/api/models?limit=1&offset=1')).models).toHaveLength(1);
    const cmp = await get('/api/compare?versions=v0001,v0002');
    expect(cmp.versions).toEqual(['v0001', 'v0002']);
    expect(cmp.rows.find((r: { field: string }) => r.field === 'training_rows').differs).toBe(true);
    expect((await get('/api/model/v0002')).version.name).toBe('v0002');
    const d = await get('/api/drift');
    expect(d.features.map((f: { feature: string }) => f.feature)).toEqual(['lastmonth_activity', 'lastyear_activity', 'number_of_employees']);
    expect(d.features[0].chart.encoding.y.title).toBe('share of rows');
    expect(d.current.rows).toBeGreaterThan(d.reference.rows);
    const r = await get('/api/runs');
    expect(r.total).toBe(2);
    expect(r.runs[0].steps.length).toBeGreaterThan(0);
    expect(r.charts.steps.encoding.y.title).toBe('seconds');
    // aggregates only: no company name of the data files in any answer
    const all = JSON.stringify([o, c, m, d, r]);
    const names = read(join(dir, 'ingesteddata', 'finaldata.csv')).trim().split('\n').slice(1).map((l) => l.split(',')[0]!);
    for (const n of names) expect(all).not.toContain(`"${n}"`);
  });

  it('stores the profiles in ui-cache once per data file and reads them back', async () => {
    const cache = readdirSync(join(dir, 'practicemodels', 'ui-cache'));
    expect(cache.filter((n) => n.startsWith('drift-'))).toHaveLength(1);
    // the two profiles, and the live summary (of no log) the overview's live cards asked for
    expect(cache.filter((n) => !n.startsWith('drift-') && n !== 'live-summary.json')).toHaveLength(2);
    expect(cache).toContain('live-summary.json');
    await fetch(url + '/api/drift');
    expect(readdirSync(join(dir, 'practicemodels', 'ui-cache'))).toEqual(cache);
  });

  it('ui-cache files edited by hand into JSON of another shape are computed again, not a 500', async () => {
    // the profiles and the drift snapshot are in ui-cache once Data drift has answered
    expect(await eventually(async () => ((await (await fetch(url + '/api/drift')).json()) as { computing: boolean }).computing === false)).toBe(true);
    const cacheDir = join(dir, 'practicemodels', 'ui-cache');
    const names = readdirSync(cacheDir).filter((n) => n !== 'live-summary.json');
    expect(names).toHaveLength(3);
    for (const n of names) {
      const v = JSON.parse(read(join(cacheDir, n))) as Record<string, unknown>;
      // before: "features": null gave 500 'internal error' on /api/overview and /api/drift
      writeFileSync(join(cacheDir, n), JSON.stringify({ ...v, features: n.startsWith('drift-') ? [{ feature: 1 }] : null }));
    }
    // a second UI on the same project reads the files (the first keeps its answers in memory)
    const second = await startUi(dir);
    try {
      for (const p of ['/api/overview', '/api/drift']) expect((await fetch(second.url + p)).status, p).toBe(200);
      const d = (await (await fetch(second.url + '/api/drift')).json()) as { features: { feature: string; drift: unknown }[] };
      expect(d.features.map((f) => f.feature)).toEqual(['lastmonth_activity', 'lastyear_activity', 'number_of_employees']);
      expect(d.features.every((f) => f.drift !== null)).toBe(true);
    } finally {
      second.child.kill();
    }
    for (const n of names) expect(Array.isArray((JSON.parse(read(join(cacheDir, n))) as { features: unknown }).features), n).toBe(true);
  });

  it('bad query parameters and a malformed %-escape are 400s naming them, not defaults or a 500', async () => {
    const bad = async (p: string, error: RegExp) => {
      const r = await fetch(url + p);
      expect(r.status, p).toBe(400);
      expect(((await r.json()) as { error: string }).error, p).toMatch(error);
    };
    // before: limit=abc was quietly 50, offset=1e400 answered "offset": null, the escape a 500 "internal error"
    await bad('/api/models?offset=-1&limit=50', /^offset must be an integer in 0\.\.\d+, not "-1"$/);
    await bad('/api/models?limit=abc', /^limit must be an integer in 1\.\.1000, not "abc"$/);
    await bad('/api/models?offset=1e400', /^offset must be an integer/);
    await bad('/api/runs?limit=0', /^limit must be an integer in 1\.\.1000, not "0"$/);
    // before: any order but "asc" was quietly descending
    await bad('/api/models?order=ascending', /^order must be asc or desc, not "ascending"$/);
    await bad('/api/model/%E0%A4%A', /^malformed %-escape in "%E0%A4%A"$/);
  });

  it('refuses actions from another origin or without an Origin, and a foreign Host', async () => {
    const body = JSON.stringify({ version: 'v0002', force: true });
    const headers = { 'content-type': 'application/json' };
    expect((await raw(url + '/api/promote', { method: 'POST', headers, body })).status).toBe(403);
    expect((await raw(url + '/api/promote', { method: 'POST', headers: { ...headers, origin: 'http://evil.example' }, body })).status).toBe(403);
    expect((await raw(url + '/api/overview', { headers: { host: 'evil.example' } })).status).toBe(403);
    expect(championOf(dir)).toBe('v0001');
  });

  it('promotes and rolls back through same-origin POSTs', async () => {
    const post = (p: string, body: unknown) => fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify(body) });
    const bad = await post('/api/promote', { version: 'nope' });
    expect(bad.status).toBe(409);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not a model version/);
    const r = await post('/api/promote', { version: 'v0002', force: true });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { name: string }).name).toBe('v0002');
    expect(championOf(dir)).toBe('v0002');
    const back = await post('/api/rollback', {});
    expect(back.status).toBe(200);
    expect(championOf(dir)).toBe('v0001');
  });
});

describe('mlops ui: the Live page and the experiment actions', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    // a second version: the same data, other settings
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(read(cfg)), model: { C: 0.01 } }));
    expect(cli(dir, 'train').code).toBe(0);
    ({ url } = await startUi(dir));
  });
  const post = (p: string, body: unknown, headers: Record<string, string> = { origin: url }) =>
    raw(url + p, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const live = async () => (await (await fetch(url + '/api/live')).json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('answers without an experiment or a prediction log', async () => {
    const l = await live();
    expect(l).toMatchObject({ champion: 'v0001', challengers: ['v0002'], experiment: null, verdict: null, looks: 0, computing: false, errors: [] });
    expect(l.summary).toMatchObject({ requests: 0, labelled: 0, first: null });
    expect(l.charts).toMatchObject({ interval: null, volume: null, cbpe: [] });
  });

  it('starts and stops an experiment through same-origin POSTs; bad input is a 400, a state that forbids it a 409', async () => {
    expect((await post('/api/experiment/start', { challenger: 'v0002', mode: 'shadow' }, {})).status).toBe(403);
    expect((await post('/api/experiment/start', { challenger: 'v0002', mode: 'shadow' }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post('/api/experiment/start', { challenger: 'v0002', mode: 'ab' })).status).toBe(400);
    expect((await post('/api/experiment/start', { challenger: 'v0002', mode: 'canary', traffic: 2 })).status).toBe(400);
    expect((await post('/api/experiment/start', { mode: 'shadow' })).status).toBe(400);
    const self = await post('/api/experiment/start', { challenger: 'v0001', mode: 'shadow' });
    expect(self.status).toBe(409);
    expect(JSON.parse(self.body).error).toMatch(/is the champion already/);
    expect(cli(dir, 'experiment', 'status').stdout).toMatch(/no experiment has been started/);
    const started = await post('/api/experiment/start', { challenger: 'v0002', mode: 'canary', traffic: 0.3 });
    expect(started.status).toBe(200);
    expect(JSON.parse(started.body)).toMatchObject({ challenger: 'v0002', champion: 'v0001', mode: 'canary', traffic: 0.3, status: 'running' });
    expect(cli(dir, 'experiment', 'status').stdout).toMatch(/\(running\): v0002 vs v0001, canary/);
    expect((await post('/api/experiment/start', { challenger: 'v0002', mode: 'shadow' })).status).toBe(409);
    // the page took a look at the verdict: recorded in the experiment's history
    const l = await live();
    expect(l.experiment).toMatchObject({ challenger: 'v0002', status: 'running' });
    expect(l.statistic).toBe('accuracy(challenger) - accuracy(champion)');
    const stopped = await post('/api/experiment/stop', {});
    expect(stopped.status).toBe(200);
    expect(JSON.parse(stopped.body)).toMatchObject({ experiment: { status: 'stopped', stop_reason: 'stopped in mlops ui' }, decision: 'continue' });
    expect(cli(dir, 'experiment', 'status').stdout).toMatch(/\(stopped\)/);
    expect((await post('/api/experiment/stop', {})).status).toBe(409);
    const history = read(join(dir, 'practicemodels', 'experiment-history.jsonl')).trim().split('\n').map((x) => JSON.parse(x) as { status: string; n: number });
    expect(history.map((h) => h.status)).toEqual(['running', 'stopped']);
    expect((await live()).charts.interval.layer.at(-2).encoding.y.title).toBe('accuracy(challenger) - accuracy(champion)');
  });
});

describe("mlops ui: the overview's live cards", () => {
  const T0 = Date.parse('2026-12-01T00:00:00Z');
  const sent: { t: number; p: number; y: number | null }[] = [];
  let dir: string;
  let url: string;
  let threshold: number;
  const cfg = () => ({ output_folder_path: join(dir, 'ingesteddata') }) as Config;
  const rand = rng(7);

  /**
   * v0001's traffic from request `from` to `to` (one every 0.5 s) written by the log's own writer
   * (a new segment each call): 1, 2 or 3 rows a request, logged as ID or ID/0, ID/1, ... as the
   * server does; labels for the rows before `labelsUntil` ms. `late` rows are confident
   * negatives with labels at random.
   */
  async function traffic(from: number, to: number, labelsUntil: number, late: boolean) {
    let now = T0 + from * 500;
    const log = await PredictionLog.open(predictionsDir(cfg()), { max_age_days: null }, () => now);
    const labels: { request_id: string; label: number }[] = [];
    for (let k = from; k < to; k++) {
      now = T0 + k * 500;
      const rows = 1 + (k % 3);
      for (let i = 0; i < rows; i++) {
        const id = rows === 1 ? `q${k}` : `q${k}/${i}`;
        const p = late ? 0.05 * rand() : rand();
        log.log({ requestId: id, version: 'v0001', features: ['a'], x: [k], proba: p, label: p > 0.5 ? 1 : 0 });
        const y = now < T0 + labelsUntil ? (rand() < (late ? 0.5 : p) ? 1 : 0) : null;
        if (y !== null) labels.push({ request_id: id, label: y });
        sent.push({ t: now, p, y });
      }
    }
    await log.close();
    const fb = await FeedbackStore.open(feedbackPath(cfg()));
    await fb.add(labels, async (ids) => new Set(ids));
    await fb.close();
  }

  /** The overview once its live cards summarise all `sent` (the summary is computed in the background meanwhile). */
  async function settled() {
    let o: Record<string, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (let i = 0; i < 120; i++) {
      o = (await (await fetch(url + '/api/overview')).json()) as typeof o;
      if (!o.live.computing && o.live.logged?.predictions === sent.length) return o;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`the live cards did not catch up: ${JSON.stringify(o.live)}`);
  }

  /** The latest chunk's realized f1 from the labels: 2 TP / (2 TP + FP + FN) at the champion's threshold. */
  function realizedF1(lab: typeof sent) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const s of lab) {
      const yhat = s.p > threshold ? 1 : 0;
      if (yhat && s.y) tp++;
      else if (yhat) fp++;
      else if (s.y) fn++;
    }
    return { tp, f1: (2 * tp) / (2 * tp + fp + fn) };
  }

  const window = (fromS: number) => ({ from: new Date(T0 + fromS * 1000).toISOString(), to: new Date(T0 + (fromS + 60) * 1000).toISOString(), seconds: 60 });

  beforeAll(async () => {
    dir = project();
    // 600 test rows: CBPE's reference (10 chunks of 60)
    genData('--rows', '600', '--out', join(dir, 'testdata'), '--seed', '2', '--prefix', 'testdata.csv');
    expect(cli(dir, 'run').code).toBe(0);
    threshold = (JSON.parse(read(join(dir, 'production_deployment', 'trainedmodel.json'))) as { threshold?: number }).threshold ?? 0.5;
    // eight minutes of traffic, labels for all but the last 30 s
    await traffic(0, 960, 450_000, false);
    ({ url } = await startUi(dir));
  });

  it("shows the throughput of the latest minute, the latency state, and the champion's latest chunk estimated and realized", async () => {
    const o = await settled();
    const lv = o.live;
    expect(lv).toMatchObject({ computing: false, no_traffic: false, logged: { predictions: sent.length, labelled: sent.filter((s) => s.y !== null).length } });
    // the last request starts at 479.5 s: the window is seconds 420-479, requests 840-959, 40
    // each of 1, 2 and 3 rows
    expect(lv.throughput).toEqual({ ...window(420), predictions: 240, requests: 120, predictions_per_s: 4, requests_per_s: 2 });
    expect(logThroughput(predictionsDir(cfg()))).toEqual({ seconds: 60, predictions: 240, requests: 120, predictions_per_s: 4, requests_per_s: 2 });
    // no server runs here
    expect(lv.latency).toMatchObject({ answering: false, prediction: null });
    // CBPE chunks of a minute (at most 40 over the span); the latest is the last minute
    expect(lv.performance).toMatchObject({ version: 'v0001', metric: 'f1', chunk_seconds: 60, note: null });
    const c = lv.performance.chunk;
    const inside = sent.filter((s) => s.t >= T0 + 420_000);
    const lab = inside.filter((s) => s.y !== null);
    expect(c).toMatchObject({ time: window(420).from, end: window(420).to, rows: inside.length, labelled: lab.length });
    const r = realizedF1(lab);
    expect(r.tp).toBeGreaterThan(10);
    expect(c.realized).toBeCloseTo(r.f1, 12);
    // traffic like the reference: the estimate within its band, no alert
    expect(c.estimated).toBeGreaterThan(c.lower);
    expect(c.estimated).toBeLessThan(c.upper);
    expect(c.alert).toBe(false);
    expect(o.alerts.filter((a: { source?: string }) => a.source === 'live')).toEqual([]);
    // the Live page's answer agrees, and the cards alone answer the same
    const l = (await (await fetch(url + '/api/live')).json()) as { summary: { throughput: unknown; cbpe: { version: string; last: { estimated: { f1: number } } }[] } };
    expect(l.summary.throughput).toEqual(lv.throughput);
    expect(l.summary.cbpe.find((x) => x.version === 'v0001')!.last.estimated.f1).toBe(c.estimated);
    expect(await (await fetch(url + '/api/overview/live')).json()).toEqual(lv);
  });

  it('follows new traffic: a latest chunk whose estimate leaves its band is an open alert', async () => {
    // two more minutes, all predicted negative, labels at random until 570 s
    await traffic(960, 1200, 570_000, true);
    const o = await settled();
    const lv = o.live;
    expect(lv.throughput).toEqual({ ...window(540), predictions: 240, requests: 120, predictions_per_s: 4, requests_per_s: 2 });
    expect(logThroughput(predictionsDir(cfg()))).toMatchObject({ predictions: 240, requests: 120 });
    const c = lv.performance.chunk;
    const lab = sent.filter((s) => s.t >= T0 + 540_000 && s.y !== null);
    expect(c).toMatchObject({ time: window(540).from, rows: 240, labelled: lab.length });
    // nothing predicted positive: realized f1 0 (TP 0, FN > 0), estimated 0, far below the reference's
    const r = realizedF1(lab);
    expect(r.tp).toBe(0);
    expect(c.realized).toBe(r.f1);
    expect(c.estimated).toBeLessThan(c.lower);
    expect(c.alert).toBe(true);
    expect(o.alerts).toContainEqual({ level: 'warning', source: 'live', text: expect.stringMatching(/^performance: v0001's estimated f1 0\.\d{3} in the latest chunk \(from 2026-12-01T00:09:00.000Z\) is outside its band \[0\.\d{3}, 0\.\d{3}\] \(CBPE\)$/) });
  });
});

describe('mlops ui: new data while it runs', () => {
  it('the overview profiles it in the background, once; then Data drift answers from the cache', async () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    const { url } = await startUi(dir);
    const cache = join(dir, 'practicemodels', 'ui-cache');
    const overview = async () => ((await (await fetch(url + '/api/overview')).json()) as { data_drift: { status: string; drifted: number; features: number; computed: string | null } }).data_drift;
    /** The overview's data drift once it is not computing (in the background) any more. */
    const settled = async () => {
      let d = await overview();
      for (let i = 0; i < 120 && d.status === 'computing'; i++) {
        await new Promise((r) => setTimeout(r, 250));
        d = await overview();
      }
      return d;
    };
    // (the training data's profile is computed when the UI starts)
    expect((await settled()).status).toBe('same data');
    for (const f of readdirSync(join(dir, 'sourcedata'))) cpSync(join(dir, 'sourcedata', f), join(dir, 'practicedata', f));
    expect(cli(dir, 'ingest').code).toBe(0);
    expect(readdirSync(cache).filter((n) => n.startsWith('drift-'))).toEqual([]);
    // nothing has profiled the new finaldata.csv: the first view says so and starts it
    expect((await overview()).status).toBe('computing');
    const d = await settled();
    expect(d).toMatchObject({ status: 'computed', features: 3 });
    expect(readdirSync(cache).filter((n) => n.startsWith('drift-'))).toHaveLength(1);
    const drift = (await (await fetch(url + '/api/drift')).json()) as { computing: boolean; summary: { computed: string; drifted: number } };
    expect(drift).toMatchObject({ computing: false, summary: { computed: d.computed, drifted: d.drifted } });
  });

  it('Data drift answers "computing" rather than wait long for the profile of new data, and then the drift', async () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    const { url } = await startUi(dir);
    genData('--rows', '20000', '--out', join(dir, 'practicedata'), '--shift', '0.5', '--seed', '3', '--prefix', 'shifted');
    expect([0, 4]).toContain(cli(dir, 'ingest').code);
    type Drift = { computing: boolean; current?: { rows: number }; summary?: { features: number } };
    const get = async () => (await (await fetch(url + '/api/drift')).json()) as Drift;
    let d = await get();
    const answers = [d.computing];
    for (let i = 0; i < 120 && d.computing; i++) {
      // while computing, nothing but that
      expect(d).toEqual({ computing: true });
      await new Promise((r) => setTimeout(r, 250));
      d = await get();
      answers.push(d.computing);
    }
    expect(d).toMatchObject({ computing: false, summary: { features: 3 } });
    expect(d.current!.rows).toBeGreaterThan(20000);
    expect(answers.at(-1)).toBe(false);
  });
});

describe('mlops ui on 0.0.0.0', () => {
  let dir: string;
  beforeAll(() => {
    dir = project();
    expect(cli(dir, 'run').code).toBe(0);
  });

  it('refuses to start without MLOPS_UI_TOKEN (exit 2)', () => {
    const r = cli(dir, 'ui', '--host', '0.0.0.0', '--port', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MLOPS_UI_TOKEN/);
  });

  it('needs the token: 401 without, Bearer or the cookie of the one-time link with', async () => {
    const { url: bound } = await startUi(dir, { host: '0.0.0.0', token: TOKEN });
    const url = bound.replace('0.0.0.0', '127.0.0.1');
    for (const p of ['/', '/app.js', '/api/overview', '/vendor/vega.min.js']) expect((await raw(url + p)).status, p).toBe(401);
    expect((await raw(url + '/api/overview', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await raw(url + '/api/overview', { headers: { cookie: 'mlops_ui_token=%E0%A4%A' } })).status).toBe(401);
    expect((await raw(url + '/api/overview', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await raw(url + '/?token=wrong')).status).toBe(401);
    const link = await raw(`${url}/?token=${TOKEN}`);
    expect(link.status).toBe(303);
    expect(link.headers.location).toBe('/');
    const cookie = String(link.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const jar = cookie.split(';')[0]!;
    expect((await raw(url + '/', { headers: { cookie: jar } })).status).toBe(200);
    const body = JSON.stringify({ version: 'v0001', alias: 'challenger' });
    const post = (headers: Record<string, string>) => raw(url + '/api/promote', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect((await post({ cookie: jar, origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ cookie: jar })).status).toBe(403);
    expect((await post({ origin: url })).status).toBe(401);
    expect((await post({ cookie: jar, origin: url })).status).toBe(200);
    expect((await post({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});
