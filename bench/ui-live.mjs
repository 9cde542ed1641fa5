/* global process, console, performance, fetch, setTimeout */
/**
 * The Live page at scale, after `npm run build`, in a project that has a champion and a second
 * version (e.g. the demo project of bench/ui-screenshots.mjs):
 *
 *   node bench/ui-live.mjs DIR [REQUESTS] [HOURS]     # default 1,000,000 requests over 48 hours
 *
 * Appends a synthetic prediction log (the champion answering, the other version in shadow, a
 * label for 30% of the requests) through the log's own writer, then starts `mlops ui` and times
 * GET /api/live and GET /api/overview (its live cards come from the same summary): the first
 * view (the summary computed in the background), the view once it is stored, and a view after
 * a new segment and new labels arrived.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PredictionLog, predictionsDir } from '../dist/live/predlog.js';
import { FeedbackStore, feedbackPath } from '../dist/live/feedback.js';
import { loadConfig } from '../dist/store/config.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const dir = resolve(process.argv[2] ?? '/tmp/mlops-ui-demo');
const N = Number(process.argv[3] ?? 1_000_000);
const hours = Number(process.argv[4] ?? 48);
const cfg = await loadConfig(join(dir, 'config.json'));

/** Seeded uniform numbers (mulberry32). */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(7);
const features = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];

async function writeLog(n, from, to, prefix) {
  let now = from;
  const log = await PredictionLog.open(predictionsDir(cfg), { max_age_days: null, max_bytes: null, flush_ms: 1e9 }, () => now);
  const fb = await FeedbackStore.open(feedbackPath(cfg));
  const ids = [];
  const labels = [];
  for (let i = 0; i < n; i++) {
    now = from + ((to - from) * i) / n;
    const p = rand();
    const q = Math.min(1, Math.max(0, p + (rand() - 0.5) * 0.2));
    const id = `${prefix}${i}`;
    log.log({ requestId: id, version: 'v0001', features, x: [rand() * 500, rand() * 5000, rand() * 100], proba: p, label: p > 0.5 ? 1 : 0, shadow: [{ version: 'v0002', proba: q, label: q > 0.5 ? 1 : 0 }] });
    if (rand() < 0.3) {
      ids.push(id);
      labels.push({ request_id: id, label: rand() < p ? 1 : 0 });
    }
    if (i % 100_000 === 99_999) await log.flush();
  }
  await log.close();
  const known = new Set(ids);
  for (let i = 0; i < labels.length; i += 50_000) await fb.add(labels.slice(i, i + 50_000), async () => known);
  await fb.close();
}

const end = Date.now() - 120_000;
let t0 = performance.now();
await writeLog(N, end - hours * 3_600_000, end, 'bench-');
console.log(`wrote ${N} requests over ${hours} h in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const ui = spawn(process.execPath, [join(root, 'bin', 'mlops.js'), 'ui', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((r) => ui.stdout.once('data', (d) => r(d.toString().trim())));
const view = async (path = '/api/live') => {
  const t = performance.now();
  const body = await (await fetch(url + path)).json();
  return { ms: performance.now() - t, body };
};
const median5 = async (path) => {
  const ms = [];
  for (let i = 0; i < 5; i++) ms.push((await view(path)).ms);
  ms.sort((a, b) => a - b);
  return `median ${ms[2].toFixed(0)} ms (min ${ms[0].toFixed(0)}, max ${ms[4].toFixed(0)})`;
};
try {
  const first = await view();
  console.log(`first view: ${first.ms.toFixed(0)} ms (computing: ${first.body.computing})`);
  const over = await view('/api/overview');
  console.log(`overview meanwhile: ${over.ms.toFixed(0)} ms (live cards computing: ${over.body.live.computing})`);
  const t1 = performance.now();
  let v = first;
  while (v.body.computing) {
    await new Promise((r) => setTimeout(r, 500));
    v = await view();
  }
  console.log(`summary ready after ${((performance.now() - t1) / 1000).toFixed(1)} s (its own pass: ${v.body.summary.seconds} s, ${v.body.summary.requests} requests, ${v.body.summary.labelled} labelled)`);
  console.log(`stored summary: ${await median5('/api/live')}; answer ${JSON.stringify(v.body).length} bytes`);
  const o = (await view('/api/overview')).body.live;
  console.log(`overview, stored summary: ${await median5('/api/overview')}; live cards ${JSON.stringify(o.throughput)}`);
  await writeLog(10_000, Date.now() - 60_000, Date.now(), `late-${Date.now()}-`);
  const after = await view();
  console.log(`after new traffic: ${after.ms.toFixed(0)} ms (computing: ${after.body.computing})`);
  const overAfter = await view('/api/overview');
  console.log(`overview after new traffic: ${overAfter.ms.toFixed(0)} ms (live cards computing: ${overAfter.body.live.computing})`);
} finally {
  ui.kill();
}
