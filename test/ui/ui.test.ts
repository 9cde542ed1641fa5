/**
 * The UI in a real browser: Debian's Chromium (apt-get install chromium) driven by
 * playwright-core against a real `mlops ui` on a real project. Every page renders its charts as
 * SVG with their axis titles, the console stays clean, the overview shows its live cards
 * (throughput as counted from the log, latency percentiles, the champion's latest chunk),
 * promoting in the page changes the champion and rolling back brings the previous one back,
 * starting and stopping an experiment in the Live page shows in `mlops experiment status`, and
 * on 0.0.0.0 a request without the token is refused. The Live page's data is real:
 * a shadow experiment, `mlops serve` answering the test file three times, labels posted to
 * /feedback and the status looked at after each batch.
 * MLOPS_UI_SCREENSHOTS=docs writes docs/ui-overview.png and docs/ui-models.png.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { championOf, cli, cliJson, genData, logThroughput, ROOT, projectWithTwoVersions, startServe, startUi } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const have = existsSync(CHROMIUM);
if (!have) {
  console.warn(`\n\n!!! ${CHROMIUM} is missing: the browser test of mlops ui is SKIPPED. Install it: apt-get update && apt-get install -y chromium\n\n`);
}

const PAGES: [string, string[]][] = [
  ['overview', ['date', 'false positive rate', 'true positive rate', 'recall', 'precision', 'mean predicted probability']],
  ['models', ['model version', 'f1']],
  ['drift', ['share of rows', 'lastmonth_activity', 'number_of_employees']],
  ['runs', ['seconds', 'run (oldest first)']],
  ['live', ['time', 'brier(champion) - brier(challenger)', 'requests', 'milliseconds', 'endpoint or stage', 'chunk start', 'f1']],
];

const post = (url: string, path: string, body: unknown, id?: string) =>
  fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(id ? { 'x-request-id': id } : {}) }, body: JSON.stringify(body) });

/**
 * Live traffic in the project: a shadow experiment of v0002, `mlops serve` predicting the test
 * file (600 generated rows: CBPE needs at least 60 reference rows) in three batches, the
 * labels of each posted, the status looked at after each; then the experiment stopped. The UI
 * reads the server's latency through config server.url.
 */
async function liveTraffic(dir: string): Promise<void> {
  genData('--rows', '600', '--out', join(dir, 'testdata'), '--seed', '2', '--prefix', 'testdata.csv');
  // both versions scored on the new test set (the Models page charts the metric on it)
  for (const v of ['v0001', 'v0002']) expect(cli(dir, 'score', '--model', v).code).toBe(0);
  expect(cli(dir, 'experiment', 'start', '--challenger', 'v0002', '--mode', 'shadow').code).toBe(0);
  const { url } = await startServe(dir);
  const labels = readFileSync(join(dir, 'testdata', 'testdata.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',').at(-1)));
  // (the status look between batches puts them apart: the chunks are seconds)
  for (let b = 0; b < 3; b++) {
    const r = (await (await post(url, '/prediction', { path: 'testdata/testdata.csv' }, `batch${b}`)).json()) as { request_ids: string[] };
    for (let k = 0; k < 10; k++) await post(url, '/prediction', { rows: [{ lastmonth_activity: k, lastyear_activity: 100, number_of_employees: 10 }] });
    expect((await post(url, '/feedback', { items: r.request_ids.map((id, i) => ({ request_id: id, label: labels[i] })) })).status).toBe(200);
    expect(cli(dir, 'experiment', 'status').code).toBe(0);
  }
  expect(cli(dir, 'experiment', 'stop').code).toBe(0);
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(cfg, 'utf8')), server: { url } }));
}

describe.skipIf(!have)('mlops ui in Chromium', () => {
  let browser: Browser;
  let dir: string;
  let url: string;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    dir = projectWithTwoVersions();
    const launched = chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    await liveTraffic(dir);
    [browser, { url }] = await Promise.all([launched, startUi(dir)]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders every page with its charts as SVG, axis titles included, without console errors', async () => {
    const shots = process.env.MLOPS_UI_SCREENSHOTS;
    if (shots) mkdirSync(join(ROOT, shots), { recursive: true });
    for (const [name, titles] of PAGES) {
      await page.goto(`${url}/#/${name}`);
      await page.waitForSelector(`#page-${name} .chart svg`);
      // the page done and every chart of it drawn (the overview's curves come from a second
      // request; the Live page and the overview's live cards show again once their background
      // summary is done)
      await page.waitForFunction((n) => {
        const charts = [...document.querySelectorAll(`#page-${n} .chart`)];
        const done = /loaded in/.test(document.querySelector('#status')!.textContent ?? '');
        return done && charts.length > 0 && charts.every((c) => c.querySelector('svg')) && !document.querySelector('#live-computing, #overview-computing, #drift-computing');
      }, name);
      const texts = new Set((await page.locator(`#page-${name} .chart svg text`).allTextContents()).map((t) => t.trim()));
      for (const t of titles) expect(texts, `${name}: axis title "${t}"`).toContain(t);
      if (shots && (name === 'overview' || name === 'models')) await page.screenshot({ path: join(ROOT, shots, `ui-${name}.png`), fullPage: true });
    }
    expect(errors).toEqual([]);
    // the Live page's answer: aggregates of the real traffic, never a request id or an input
    const live = await (await fetch(`${url}/api/live`)).text();
    expect(JSON.parse(live)).toMatchObject({ summary: { requests: 1830, labelled: 1800 }, looks: 4, verdict: { status: 'stopped', n: 1800 }, latency: { answering: true } });
    expect(live).not.toMatch(/batch\d|lastmonth_activity/);
  });

  it("shows the live cards on the overview: throughput, latency percentiles, the champion's latest chunk", async () => {
    await page.goto(`${url}/#/overview`);
    await page.waitForSelector('#overview-live .card');
    await page.waitForFunction(() => !document.querySelector('#overview-computing') && /loaded in/.test(document.querySelector('#status')!.textContent ?? ''));
    const text = (await page.locator('#overview-live').textContent()) ?? '';
    for (const t of ['predictions/s', 'requests/s', '/prediction latency', 'p50', 'p95', 'p99', 'v0001 f1, latest chunk', 'estimated', 'realized']) expect(text, t).toContain(t);
    expect(text).not.toMatch(/no server answers|none yet|null|undefined|NaN/);
    // the numbers: throughput as counted from the log's lines, the /prediction requests the traffic made
    const o = (await (await fetch(`${url}/api/overview`)).json()) as { live: { throughput: Record<string, number>; latency: { prediction: { requests: number; p50_ms: number; p95_ms: number; p99_ms: number } }; performance: { chunk: { rows: number; realized: number | null } } } };
    const expected = logThroughput(join(dir, 'ingesteddata', 'predictions'));
    expect(o.live.throughput).toMatchObject({ seconds: expected.seconds, predictions: expected.predictions, requests: expected.requests });
    expect(o.live.throughput.predictions_per_s).toBeCloseTo(expected.predictions_per_s, 3);
    // three batches of the test file and 30 single rows
    const p = o.live.latency.prediction;
    expect(p.requests).toBe(33);
    expect(p.p50_ms).toBeLessThanOrEqual(p.p95_ms);
    expect(p.p95_ms).toBeLessThanOrEqual(p.p99_ms);
    expect(o.live.performance.chunk.realized).toBeTypeOf('number');
    expect(errors).toEqual([]);
  });

  it('starts and stops an experiment in the Live page, each after a confirmation', async () => {
    type Status = { experiment: { status: string; mode: string; traffic: number; challenger: string; stop_reason: string | null } };
    const status = () => cliJson<Status>(dir, 'experiment', 'status').experiment;
    expect(status().status).toBe('stopped');
    await page.goto(`${url}/#/live`);
    await page.waitForSelector('#exp-form');
    await page.selectOption('#exp-challenger', 'v0002');
    await page.selectOption('#exp-mode', 'canary');
    await page.fill('#exp-traffic', '0.25');
    // cancelled: nothing starts
    await page.click('#exp-start');
    await expect.poll(() => page.isVisible('#confirm')).toBe(true);
    expect(await page.textContent('#confirm-title')).toBe('Start a canary experiment with v0002?');
    await page.click('#confirm-cancel');
    expect(status().status).toBe('stopped');
    await page.click('#exp-start');
    await page.click('#confirm-ok');
    await page.waitForSelector('#exp-stop');
    expect(await page.textContent('#toast')).toMatch(/started: v0002 \(canary\)/);
    expect(status()).toMatchObject({ status: 'running', mode: 'canary', traffic: 0.25, challenger: 'v0002' });
    await page.click('#exp-stop');
    await expect.poll(() => page.isVisible('#confirm')).toBe(true);
    await page.click('#confirm-ok');
    await page.waitForSelector('#exp-form');
    expect(status()).toMatchObject({ status: 'stopped', stop_reason: 'stopped in mlops ui' });
    expect(errors).toEqual([]);
  });

  it('promotes a version with a click and a confirmation: the champion changes', async () => {
    expect(championOf(dir)).toBe('v0001');
    await page.goto(`${url}/#/models`);
    await page.click('button.promote[data-version="v0002"]');
    await expect.poll(() => page.isVisible('#confirm')).toBe(true);
    await page.check('#confirm-force');
    await page.click('#confirm-ok');
    // the toast of this action (an earlier one may still show)
    await page.waitForFunction(() => /champion/.test(document.querySelector('#toast')!.textContent ?? ''));
    expect(await page.textContent('#toast')).toMatch(/v0002 is champion now/);
    expect(championOf(dir)).toBe('v0002');
    await page.waitForSelector('#models tr[data-version="v0002"] .alias');
    expect(errors).toEqual([]);
  });

  it('rolls back from the overview with a click and a confirmation: the previous champion is back', async () => {
    expect(championOf(dir)).toBe('v0002');
    await page.goto(`${url}/#/overview`);
    await page.click('#rollback');
    await expect.poll(() => page.isVisible('#confirm')).toBe(true);
    expect(await page.textContent('#confirm-title')).toBe('Roll back the champion?');
    await page.click('#confirm-cancel');
    expect(championOf(dir)).toBe('v0002');
    await page.click('#rollback');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => /rolled back/.test(document.querySelector('#toast')!.textContent ?? ''));
    expect(await page.textContent('#toast')).toMatch(/rolled back: v0001 is champion again/);
    expect(championOf(dir)).toBe('v0001');
    expect(errors).toEqual([]);
  });

  it('refuses a request without the token on 0.0.0.0, and lets the one-time link in', async () => {
    const token = 'browser-test-token-0123456789';
    const { url: bound } = await startUi(dir, { host: '0.0.0.0', token });
    const open = bound.replace('0.0.0.0', '127.0.0.1');
    const p = await browser.newPage();
    const denied = await p.goto(`${open}/`);
    expect(denied!.status()).toBe(401);
    const ok = await p.goto(`${open}/?token=${token}`);
    expect(ok!.status()).toBe(200);
    expect(new URL(p.url()).search).toBe('');
    await p.waitForSelector('#page-overview .chart svg');
    await p.close();
  });
});
