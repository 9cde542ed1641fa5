/* global process, console, performance, fetch, setTimeout */
/**
 * Every page of `mlops ui` at the scale of issue 16, after `npm run build`:
 *
 *   node bench/ui-scale.mjs [DIR]       # default /tmp/mlops-ui-scale
 *
 * Builds the project once in DIR (a `ready` file marks it built; delete DIR to build it again,
 * about 40 s on the shared 2-core machine):
 *   - 1,000,000 generated training rows (bin/gen-data.js, seed 1), a 20,000-row test set, and
 *     `mlops run`: ingest, train, score, deploy (the champion v0001, its release and run record);
 *   - 9,999 more registered versions (v0002-v10000, candidates never promoted) written as the
 *     registry writes them (src/store/registry.ts, records.ts): a model file (the champion's,
 *     its intercept moved by a hair, so every content hash differs), version.json, an index
 *     line, a `registered` event and an evaluation on the test set in score_history.jsonl each;
 *     and 999 older runs before the real one in runs.jsonl (1,000); `mlops models --all` must
 *     then list all 10,000 (checked);
 *   - a second 1,000,000-row data set with shift 0.3 (seed 3), ingested with `mlops ingest
 *     --input`, so finaldata.csv (the Data drift page's current data) differs from the
 *     deployed training data;
 *   - 1,000,000 logged predictions over 24 hours with a label for 30% of them, through the
 *     prediction log's own writer (as bench/ui-live.mjs).
 * Then it starts `mlops ui`, the caches emptied first (ui-cache: data profiles, drift, live
 * summary; the registry's listing cache), and right away asks for the page and its static
 * files and every JSON endpoint in page order, one after another (the first views: drift and
 * the live summary are computed in the background meanwhile, and a "computing" answer is timed
 * as it is, then how long until it has its answer, asking every 0.5 s); then the median of 5
 * later views of each. Prints a table, the load average before and after, and a few facts of
 * the answers (how many versions, rows, runs and requests they saw).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelContentHash } from '../dist/store/registry.js';
import { sha256Text } from '../dist/store/atomic.js';
import { rng } from '../dist/tools/gendata.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const dir = resolve(process.argv[2] ?? '/tmp/mlops-ui-scale');
const VERSIONS = 10_000;
const RUNS = 1_000;
const ROWS = 1_000_000;
const REQUESTS = 1_000_000;
const mlopsBin = join(root, 'bin', 'mlops.js');
const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');
const say = (s) => process.stderr.write(`${s}\n`);
const mlops = (...args) => execFileSync(process.execPath, [mlopsBin, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 }).toString();
const gen = (...args) => execFileSync(process.execPath, [join(root, 'bin', 'gen-data.js'), ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
const timed = (what, f) => {
  const t = performance.now();
  const r = f();
  say(`${what}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return r;
};

/** v0002..v{VERSIONS}: what registerModel writes for each, plus its registered event and test evaluation. */
function writeVersions(models) {
  const reg = join(models, 'registry');
  const v1 = JSON.parse(readFileSync(join(reg, 'versions', 'v0001', 'version.json'), 'utf8'));
  const modelText = readFileSync(join(reg, 'versions', 'v0001', 'model.json'), 'utf8');
  const history = readFileSync(join(models, 'score_history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const test = history.find((h) => h.role === 'test' && h.version === 1);
  if (!test) throw new Error('no test evaluation of v0001 in score_history.jsonl');
  const rand = rng(11);
  const t0 = Date.parse(v1.created);
  const index = [];
  const events = [];
  const scores = [];
  for (let v = 2; v <= VERSIONS; v++) {
    const name = `v${String(v).padStart(4, '0')}`;
    // registered after the champion, a millisecond apart (in version order)
    const created = new Date(t0 + v - 1).toISOString();
    const m = JSON.parse(modelText);
    m.intercept += v * 1e-9;
    m.trained_at = created;
    const text = JSON.stringify(m, null, 2) + '\n';
    const rec = {
      ...v1,
      version: v,
      name,
      content_sha256: modelContentHash(text),
      model_sha256: sha256Text(text),
      created,
      training_data: { ...v1.training_data, rows: v1.training_data.rows - Math.floor(rand() * 1000) },
      replaces: 1,
      tags: v % 97 === 0 ? { team: 'risk', sweep: String(v % 5) } : {},
      note: v % 250 === 0 ? `sweep ${v / 250}` : null,
      source: 'train',
    };
    mkdirSync(join(reg, 'versions', name));
    writeFileSync(join(reg, 'versions', name, 'model.json'), text);
    writeFileSync(join(reg, 'versions', name, 'version.json'), JSON.stringify(rec, null, 2) + '\n');
    const { version, content_sha256, model_sha256, model_type, tags, note } = rec;
    index.push(JSON.stringify({ version, name, content_sha256, model_sha256, created, model_type, training_rows: rec.training_data.rows, tags, note }));
    events.push(JSON.stringify({ time: created, kind: 'registered', version: v, alias: null, previous: null, reason: 'trained', command: 'mlops train' }));
    const metrics = Object.fromEntries(Object.entries(test.metrics).map(([k, x]) => [k, typeof x === 'number' ? x * (1 - 0.05 * rand()) : x]));
    scores.push(JSON.stringify({ ...test, timestamp: created, model: name, model_sha256, version: v, metrics }));
  }
  appendFileSync(join(reg, 'index.jsonl'), index.join('\n') + '\n');
  appendFileSync(join(reg, 'events.jsonl'), events.join('\n') + '\n');
  appendFileSync(join(models, 'score_history.jsonl'), scores.join('\n') + '\n');
}

/** RUNS - 1 runs before the real bootstrap run, hourly, as run() records them (oldest first). */
function writeRuns(ingested) {
  const file = join(ingested, 'runs.jsonl');
  const real = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const last = real.at(-1);
  const rand = rng(5);
  const t0 = Date.parse(last.started);
  const lines = [];
  for (let i = 0; i < RUNS - real.length; i++) {
    const started = new Date(t0 - (RUNS - i) * 3_600_000);
    const r = rand();
    const decision = r < 0.7 ? 'no new data' : r < 0.9 ? 'no drift' : r < 0.97 ? 'drift: not deployed' : 'failed';
    const steps = decision === 'no new data'
      ? [{ step: 'check', seconds: 0.01, outcome: 'ok', detail: 'no new files' }]
      : last.steps.map((s) => ({ ...s, seconds: Math.round(s.seconds * (0.8 + 0.4 * rand()) * 1000) / 1000 }));
    const seconds = Math.round(steps.reduce((a, s) => a + s.seconds, 0) * 1000) / 1000;
    lines.push(JSON.stringify({
      ...last,
      id: `${started.toISOString()}-${1000 + i}`,
      pid: 1000 + i,
      started: started.toISOString(),
      ended: new Date(started.getTime() + seconds * 1000).toISOString(),
      seconds,
      decision,
      reason: decision === 'failed' ? 'train: bench failure' : decision,
      new_files: decision === 'no new data' ? [] : [`batch${i}.csv`],
      steps,
      release: null,
      candidate: decision === 'no new data' ? null : 2 + (i % (VERSIONS - 1)),
    }));
  }
  writeFileSync(file, lines.join('\n') + '\n' + real.map((x) => JSON.stringify(x)).join('\n') + '\n');
}

async function writeTraffic() {
  const { PredictionLog, predictionsDir } = await import('../dist/live/predlog.js');
  const { FeedbackStore, feedbackPath } = await import('../dist/live/feedback.js');
  const { loadConfig } = await import('../dist/store/config.js');
  const cfg = await loadConfig(join(dir, 'config.json'));
  const model = JSON.parse(readFileSync(join(cfg.output_model_path, 'trainedmodel.json'), 'utf8'));
  const features = model.features;
  const rand = rng(7);
  const to = Date.now() - 120_000;
  const from = to - 24 * 3_600_000;
  let now = from;
  const log = await PredictionLog.open(predictionsDir(cfg), { max_age_days: null, max_bytes: null, flush_ms: 1e9 }, () => now);
  const fb = await FeedbackStore.open(feedbackPath(cfg));
  const labels = [];
  const known = new Set();
  for (let i = 0; i < REQUESTS; i++) {
    now = from + ((to - from) * i) / REQUESTS;
    const p = rand();
    const id = `bench-${i}`;
    if (i % 100_000 === 99_999) await log.flush();
    log.log({ requestId: id, version: 'v0001', features, x: features.map(() => rand() * 1000), proba: p, label: p > 0.5 ? 1 : 0 });
    if (rand() < 0.3) {
      known.add(id);
      labels.push({ request_id: id, label: rand() < p ? 1 : 0 });
    }
  }
  await log.close();
  for (let i = 0; i < labels.length; i += 50_000) await fb.add(labels.slice(i, i + 50_000), async () => known);
  await fb.close();
}

async function build() {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ input_folder_path: 'practicedata', output_folder_path: 'ingesteddata', test_data_path: 'testdata', output_model_path: 'practicemodels', prod_deployment_path: 'production_deployment' }, null, 2) + '\n',
  );
  timed(`generating ${ROWS} training rows, 20,000 test rows and ${ROWS} current rows`, () => {
    gen('--rows', String(ROWS), '--out', 'practicedata', '--seed', '1');
    gen('--rows', '20000', '--out', 'testdata', '--seed', '2', '--prefix', 'testdata.csv');
    gen('--rows', String(ROWS), '--out', 'current', '--seed', '3', '--shift', '0.3', '--prefix', 'current.csv');
  });
  timed('mlops run (bootstrap)', () => mlops('run'));
  timed(`writing ${VERSIONS - 1} more versions`, () => writeVersions(join(dir, 'practicemodels')));
  timed(`writing ${RUNS - 1} more runs`, () => writeRuns(join(dir, 'ingesteddata')));
  timed('mlops ingest --input current (the current data for drift)', () => mlops('ingest', '--input', 'current'));
  const t = performance.now();
  await writeTraffic();
  say(`logging ${REQUESTS} predictions and their labels: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  // the registry reads back whole through the real code
  const listed = JSON.parse(mlops('models', '--all', '--json'));
  const n = (listed.models ?? listed).length;
  if (n !== VERSIONS) throw new Error(`mlops models lists ${n} versions, not ${VERSIONS}`);
  say(`mlops models --all lists ${n} versions`);
  writeFileSync(join(dir, 'ready'), new Date().toISOString() + '\n');
}

if (!existsSync(join(dir, 'ready'))) await build();
else say(`${dir}: built before (delete it to build again)`);

// the cold start: no ui-cache (data profiles, drift, live summary) and no listing cache
rmSync(join(dir, 'practicemodels', 'ui-cache'), { recursive: true, force: true });
rmSync(join(dir, 'practicemodels', 'registry', 'listing-cache.json'), { force: true });
const loadBefore = load();
const ui = spawn(process.execPath, [mlopsBin, 'ui', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((r) => ui.stdout.once('data', (d) => r(d.toString().trim().split('\n')[0])));
const get = async (path) => {
  const t = performance.now();
  const res = await fetch(url + path);
  const text = await res.text();
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 300)}`);
  const type = res.headers.get('content-type') ?? '';
  return { ms, bytes: text.length, body: type.startsWith('application/json') ? JSON.parse(text) : null };
};
/** Whether an answer is a placeholder the page asks again for. */
const computing = (path, b) =>
  !b ? false : path === '/api/overview' ? b.data_drift?.status === 'computing' || b.live?.computing === true : b.computing === true;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const PAGES = [
  ['page', '/'],
  ['page', '/style.css'],
  ['page', '/vendor/vega.min.js'],
  ['page', '/vendor/vega-lite.min.js'],
  ['page', '/vendor/vega-embed.min.js'],
  ['page', '/app.js'],
  ['Overview', '/api/overview'],
  ['Overview', '/api/overview/live'],
  ['Overview', '/api/curves'],
  ['Models', '/api/models?sort=version&order=desc&q=&offset=0&limit=50'],
  ['Models', '/api/models?sort=metric&order=desc&q=risk&offset=0&limit=50'],
  ['Models', '/api/models?sort=created&order=asc&q=&offset=9950&limit=50'],
  ['Models', '/api/compare?versions=v0001,v5000,v10000'],
  ['Models', '/api/model/v0001'],
  ['Models', '/api/model/v10000'],
  ['Data drift', '/api/drift'],
  ['Runs', '/api/runs?limit=100'],
  ['Live', '/api/live'],
];
const rows = [];
try {
  // first views, one after the other as a user clicks through the pages right after the start
  for (const [page, path] of PAGES) {
    const start = performance.now();
    const first = await get(path);
    const row = { page, path, start, first: first.ms, computing: computing(path, first.body), ready: null, bytes: first.bytes, later: [] };
    rows.push(row);
  }
  // the placeholders: how long until the page has its answer (asking every 0.5 s; the pages ask every 2 s)
  for (const row of rows.filter((r) => r.computing)) {
    for (;;) {
      const v = await get(row.path);
      if (!computing(row.path, v.body)) break;
      await sleep(500);
    }
    row.ready = (performance.now() - row.start) / 1000;
  }
  for (const row of rows) {
    for (let i = 0; i < 5; i++) {
      const v = await get(row.path);
      row.later.push(v.ms);
      row.bytes = v.bytes;
      row.body = v.body;
    }
    row.later.sort((a, b) => a - b);
  }
} finally {
  ui.kill();
}
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
console.log(`mlops ui on ${dir}: ${VERSIONS} versions, ${RUNS} runs, ${ROWS} training rows against ${ROWS} current rows, ${REQUESTS} logged predictions; Node ${process.version}`);
console.log(`load average (1, 5, 15 min) before: ${loadBefore}; after: ${load()}`);
console.log('');
console.log('| page | GET | first view | then (median of 5, min-max) | answer |');
console.log('|---|---|---:|---:|---:|');
for (const r of rows) {
  const first = `${fmt(r.first)}${r.computing ? ` (computing; answer after ${r.ready?.toFixed(1)} s)` : ''}`;
  console.log(`| ${r.page} | ${r.path} | ${first} | ${fmt(r.later[2])} (${fmt(r.later[0])}-${fmt(r.later[4])}) | ${(r.bytes / 1024).toFixed(0)} KB |`);
}
const body = (p) => rows.find((r) => r.path === p).body;
const d = body('/api/drift');
const o = body('/api/overview');
const lv = body('/api/live');
console.log('');
console.log(`overview: ${o.versions} versions, champion ${o.champion?.name}, data drift ${o.data_drift?.status} (${o.data_drift?.drifted} of ${o.data_drift?.features} features), live throughput ${JSON.stringify(o.live?.throughput ?? null)}`);
console.log(`drift: ${d.reference.rows} reference rows against ${d.current?.rows} current rows, ${d.summary?.drifted} of ${d.summary?.features} features drifted`);
console.log(`runs: ${body('/api/runs?limit=100').total}; live summary: ${lv.summary?.requests} requests, ${lv.summary?.labelled} labelled, its pass ${lv.summary?.seconds} s`);
const slow = rows.filter((r) => r.first >= 1000 || r.later[2] >= 1000);
console.log(slow.length ? `\n1 s or more: ${slow.map((r) => r.path).join(', ')}` : '\nevery answer under 1 s');
