/**
 * The UI in a real browser: Debian's Chromium (apt-get install chromium) driven by
 * playwright-core against a real `mlops ui` on a real project. Every page renders its charts as
 * SVG with their axis titles, the console stays clean, promoting in the page changes the
 * champion, and on 0.0.0.0 a request without the token is refused.
 * MLOPS_UI_SCREENSHOTS=docs writes docs/ui-overview.png and docs/ui-models.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { championOf, ROOT, projectWithTwoVersions, startUi } from '../helpers.js';

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
];

describe.skipIf(!have)('mlops ui in Chromium', () => {
  let browser: Browser;
  let dir: string;
  let url: string;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    dir = projectWithTwoVersions();
    [browser, { url }] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }), startUi(dir)]);
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
      // every chart of the page drawn (the overview's curves come from a second request)
      await page.waitForFunction((n) => {
        const charts = [...document.querySelectorAll(`#page-${n} .chart`)];
        return charts.length > 0 && charts.every((c) => c.querySelector('svg'));
      }, name);
      const texts = new Set((await page.locator(`#page-${name} .chart svg text`).allTextContents()).map((t) => t.trim()));
      for (const t of titles) expect(texts, `${name}: axis title "${t}"`).toContain(t);
      if (shots && (name === 'overview' || name === 'models')) await page.screenshot({ path: join(ROOT, shots, `ui-${name}.png`), fullPage: true });
    }
    expect(errors).toEqual([]);
  });

  it('promotes a version with a click and a confirmation: the champion changes', async () => {
    expect(championOf(dir)).toBe('v0001');
    await page.goto(`${url}/#/models`);
    await page.click('button.promote[data-version="v0002"]');
    await expect.poll(() => page.isVisible('#confirm')).toBe(true);
    await page.check('#confirm-force');
    await page.click('#confirm-ok');
    await page.waitForSelector('#toast:not([hidden])');
    expect(await page.textContent('#toast')).toMatch(/v0002 is champion now/);
    expect(championOf(dir)).toBe('v0002');
    await page.waitForSelector('#models tr[data-version="v0002"] .alias');
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
