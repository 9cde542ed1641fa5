/* global process, console, document, fetch, setTimeout */
/**
 * The README's screenshots of mlops ui, after `npm run build` and with /usr/bin/chromium:
 *
 *   node bench/ui-screenshots.mjs [OUT_DIR]     # default docs/
 *
 * Builds a demo project in /tmp/mlops-ui-demo (50,000 generated rows, versions with different
 * C, then shifted data through the loop), serves the champion with `mlops serve` and sends it
 * live traffic (the test file in batches with their labels, single rows), starts `mlops ui` on
 * it, and saves ui-overview.png (its live cards included) and ui-models.png.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'docs'));
const bin = join(root, 'bin', 'mlops.js');
const dir = '/tmp/mlops-ui-demo';
const mlops = (...args) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 4) throw new Error(`mlops ${args.join(' ')}: ${r.stderr}`);
};
const gen = (...args) => spawnSync(process.execPath, [join(root, 'bin', 'gen-data.js'), ...args], { cwd: dir });

rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, 'testdata'), { recursive: true });
const config = { input_folder_path: 'practicedata', output_folder_path: 'ingesteddata', test_data_path: 'testdata', output_model_path: 'practicemodels', prod_deployment_path: 'production_deployment' };
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
gen('--rows', '50000', '--files', '2', '--out', 'practicedata', '--seed', '1');
gen('--rows', '5000', '--out', 'testdata', '--seed', '2');
gen('--rows', '30000', '--out', 'sourcedata', '--shift', '0.4', '--seed', '3', '--prefix', 'shifted');
mlops('run');
for (const C of [0.01, 0.1, 10]) {
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, model: { C } }));
  mlops('train', '--note', `C=${C}`, '--tag', `C=${C}`);
  mlops('score');
}
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
for (const f of readdirSync(join(dir, 'sourcedata'))) cpSync(join(dir, 'sourcedata', f), join(dir, 'practicedata', f));
mlops('run', '--force');
mlops('promote', 'v0002', '--alias', 'challenger');

/** A server command of the CLI; resolves with the address it prints. */
const listen = (...args) => {
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir });
  return [child, new Promise((res) => child.stdout.once('data', (d) => res(d.toString().trim())))];
};
const [serve, serving] = listen('serve', '--port', '0');
const api = await serving;
const post = (path, body) => fetch(api + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
// live traffic: the 5,000 test rows in ten batches (labelled) and 200 single rows (not) over ~10 s
const test = readFileSync(join(dir, 'testdata', readdirSync(join(dir, 'testdata'))[0]), 'utf8').trim().split('\n');
const head = test[0].split(',');
const rows = test.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
const features = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
for (let b = 0; b < 10; b++) {
  const batch = rows.slice(b * 500, (b + 1) * 500);
  const r = await post('/prediction', { rows: batch.map((x) => Object.fromEntries(features.map((f) => [f, Number(x[f])]))) });
  for (let k = 0; k < 20; k++) await post('/prediction', { rows: [Object.fromEntries(features.map((f) => [f, Number(batch[k][f])]))] });
  await post('/feedback', { items: r.request_ids.map((id, i) => ({ request_id: id, label: Number(batch[i].exited) })) });
  await new Promise((res) => setTimeout(res, 1000));
}
writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, server: { url: api } }));

const [ui, listening] = listen('ui', '--port', '0');
const url = await listening;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  mkdirSync(out, { recursive: true });
  for (const name of ['overview', 'models']) {
    await page.goto(`${url}/#/${name}`);
    await page.waitForFunction((n) => {
      const charts = [...document.querySelectorAll(`#page-${n} .chart`)];
      // and the page done (the overview's curves come from a second request, its live cards
      // again once their summary is computed)
      return charts.length > 0 && charts.every((c) => c.querySelector('svg')) && /loaded in/.test(document.querySelector('#status').textContent) && !document.querySelector('#overview-computing');
    }, name);
    if (name === 'models') {
      for (const v of ['v0001', 'v0004']) await page.check(`input[data-version="${v}"]`);
      await page.click('#compare');
      await page.waitForSelector('#compare-table');
    }
    await page.screenshot({ path: join(out, `ui-${name}.png`), fullPage: true });
    console.log(join(out, `ui-${name}.png`), readFileSync(join(out, `ui-${name}.png`)).length, 'bytes');
  }
} finally {
  await browser.close();
  ui.kill();
  serve.kill();
}
