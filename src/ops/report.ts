/**
 * mlops report: confusionmatrix.png and report.html in output_model_path, and a copy of both
 * under reports/<timestamp>/ so a later report never overwrites the evidence of an earlier one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { readEvaluations } from '../store/evaluations.js';
import { championStack, readEvents, versionName } from '../store/registry.js';
import type { Config } from '../store/config.js';
import type { Metrics } from '../store/records.js';
import { currentManifest } from '../store/releases.js';
import { confusionMatrixSpec, importanceSpec, renderSvg, scoreHistorySpec, svgToPng } from '../report/charts.js';
import { esc, htmlTable, num, page, verdictBadge } from '../report/html.js';
import type { DiagnoseResult } from './diagnose.js';
import { drift, type DriftResult } from './drift.js';
import { loadModelFrom } from './modelchoice.js';
import { score } from './score.js';

export interface ReportOptions {
  config: Config;
}

export interface ReportResult {
  html: string;
  png: string;
  archive: string;
  release: string;
  metrics: Metrics;
  drift: boolean | null;
}

export async function report(opts: ReportOptions): Promise<ReportResult> {
  const cfg = opts.config;
  const manifest = await currentManifest(cfg.prod_deployment_path);
  if (!manifest) throw new StateError(`${cfg.prod_deployment_path}: nothing is deployed to report on`, 'run `mlops run` or `mlops deploy` first');
  // The deployed model on the test data, without touching latestscore.txt or the history.
  const sc = await score({ config: cfg, model: 'production', dryRun: true });
  const { model } = await loadModelFrom(cfg, 'production');
  const importances = model.features.map((feature, j) => ({ feature, importance: model.importances[j] ?? 0 })).sort((a, b) => b.importance - a.importance);
  const impSvg = await renderSvg(importanceSpec(importances, `${model.trees ? 'Feature importance (split gain)' : 'Importance (|coefficient| x std)'}, release ${manifest.name}`));
  // the chart file: the confusion matrix of a classifier, the importances of a regression
  const cmSvg = sc.confusion ? await renderSvg(confusionMatrixSpec(sc.confusion, `Confusion matrix, release ${manifest.name}`, manifest.model.target)) : impSvg;
  const png = svgToPng(cmSvg);

  // The champions' own evidence only (test set and new data): never a rejected candidate's or
  // an ad-hoc score, so the chart tells the story of what production served.
  const champions = new Set(championStack(await readEvents(cfg, true)));
  const history = (await readEvaluations(cfg)).filter((e) => e.version !== null && champions.has(e.version) && (e.role === 'test' || e.role === 'new-data'));
  const metric = cfg.drift.metric;
  const points = history
    .map((r, i) => ({ run: i + 1, timestamp: r.timestamp, score: r.metrics[metric] as number, model: `${versionName(r.version!)} ${r.role}` }))
    .filter((q) => typeof q.score === 'number' && Number.isFinite(q.score));
  const histSvg = points.length ? await renderSvg(scoreHistorySpec(points, metric)) : null;

  let driftResult: DriftResult | null = null;
  let driftError: string | null = null;
  try {
    driftResult = await drift({ config: cfg });
  } catch (err) {
    driftError = (err as Error).message;
  }
  const diag = await readFile(join(cfg.output_model_path, 'diagnostics.json'), 'utf8')
    .then((t) => JSON.parse(t) as DiagnoseResult)
    .catch(() => null);

  const now = new Date();
  const m = sc.metrics;
  const card = (k: string, v: string) => `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`;
  const body: string[] = [
    `<h1>mlops report</h1><div class="sub">${esc(now.toISOString())} &middot; release ${esc(manifest.name)} deployed ${esc(manifest.timestamp)} &middot; config ${esc(cfg.file)}</div>`,
    `<h2>Deployed ${esc(model.type)} on the test data (${sc.rows} rows)</h2><div class="cards">` +
      Object.entries(m).map(([k, v]) => card(k, num(v ?? null))).join('') +
      `</div>`,
    `<div class="figs" style="margin-top:14px"><div class="fig">${cmSvg}</div>${histSvg ? `<div class="fig">${histSvg}</div>` : ''}</div>`,
    `<h2>${model.trees ? 'Feature importances' : 'Coefficients'}</h2>`,
    sc.confusion ? `<div class="figs"><div class="fig">${impSvg}</div></div>` : '',
    model.linear
      ? htmlTable(['term', 'coefficient'], [...model.linear.terms.map((t, k) => [t.name, model.linear!.coefficients[k]!]), ['(intercept)', model.linear.intercept]])
      : htmlTable(['feature', 'importance'], importances.map((r) => [r.feature, r.importance])),
    `<p class="note">Model: ${esc(manifest.model.features.join(', '))} &rarr; ${esc(manifest.model.target)}; trained on ${manifest.model.training_rows} rows at ${esc(manifest.model.trained_at)}. Test files: ${esc(sc.data_files.map((f) => f.name).join(', '))}.</p>`,
  ];
  body.push(`<h2>Score history of the champions (${history.length} records)</h2>`);
  body.push(
    history.length
      ? htmlTable(
          ['#', 'time', 'model (data)', 'rows', ...Object.keys(m)],
          history.slice(-15).map((r, i) => [
            history.length - Math.min(15, history.length) + i + 1,
            r.timestamp,
            `${versionName(r.version!)} (${r.role})`,
            r.rows,
            ...Object.keys(m).map((k) => r.metrics[k] ?? null),
          ]),
        )
      : '<p class="note">No score history yet.</p>',
  );
  body.push('<h2>Drift</h2>');
  if (driftResult?.model) {
    const md = driftResult.model;
    body.push(
      `<p>Model drift on ${esc(md.metric)} (${esc(md.direction)}): new score ${num(md.newScore)} against ${md.previous.length} previous.</p>`,
      htmlTable(['test', 'threshold', 'verdict', 'detail'], md.tests.map((t) => [t.test, t.threshold, verdictBadge(t.verdict), t.detail])),
    );
  }
  if (driftResult?.data) {
    const dd = driftResult.data;
    body.push(
      `<p>Data drift of ${esc(dd.current)} against the deployed training data: ${dd.drifted} of ${dd.features.length} features drifted, dataset drift ${dd.datasetDrift ? '<b>yes</b>' : 'no'}.</p>`,
      htmlTable(
        ['feature', 'test', 'statistic', 'p-value', 'PSI', 'Wasserstein / sd', 'verdict', 'reason'],
        dd.features.map((f) => [f.feature, f.test, f.statistic, f.pValue, f.psi, f.wassersteinNorm, verdictBadge(f.verdict), f.reason]),
      ),
    );
  }
  for (const n of driftResult?.notes ?? []) body.push(`<p class="note">${esc(n)}</p>`);
  if (driftError) body.push(`<p class="note">Drift could not be computed: ${esc(driftError)}</p>`);

  body.push('<h2>Diagnostics</h2>');
  if (diag) {
    body.push(
      `<p class="note">From ${esc(join(cfg.output_model_path, 'diagnostics.json'))}, written ${esc(diag.timestamp)} on ${esc(diag.data)} (${diag.rows} rows).</p>`,
      htmlTable(
        ['column', 'count', 'mean', 'std', 'min', '25%', 'median', '75%', 'max'],
        diag.summary.map((s) => [s.column, s.count, s.mean, s.std, s.min, s.q25, s.median, s.q75, s.max]),
      ),
      htmlTable(['column', 'missing', 'percent'], diag.missing.map((x) => [x.column, x.missing, `${x.percent.toFixed(2)}%`])),
      `<p>Timings (${esc(diag.timings.source)}): ingest ${num(diag.timings.ingest_seconds, 3)} s, train ${num(diag.timings.train_seconds, 3)} s.</p>`,
      htmlTable(
        ['package', 'installed', 'wanted', 'latest', 'status'],
        diag.dependencies.dependencies.map((d) => [d.name, d.installed, d.wanted, d.latest, d.status]),
      ),
    );
  } else body.push('<p class="note">No diagnostics yet: run <code>mlops diagnose</code>.</p>');

  const html = page(`mlops report ${now.toISOString()}`, body.join('\n'));
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  // A fresh folder per report: never reuse one, even for two reports in the same millisecond.
  await mkdir(join(cfg.output_model_path, 'reports'), { recursive: true });
  let archive = join(cfg.output_model_path, 'reports', stamp);
  for (let k = 1; ; k++) {
    try {
      await mkdir(archive);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || k > 1000) throw err;
      archive = join(cfg.output_model_path, 'reports', `${stamp}-${k}`);
    }
  }
  const htmlPath = join(cfg.output_model_path, 'report.html');
  const pngPath = join(cfg.output_model_path, 'confusionmatrix.png');
  await writeFileAtomic(join(archive, 'report.html'), html);
  await writeFileAtomic(join(archive, 'confusionmatrix.png'), png);
  await writeFileAtomic(htmlPath, html);
  await writeFileAtomic(pngPath, png);
  return { html: htmlPath, png: pngPath, archive, release: manifest.name, metrics: m, drift: driftResult ? driftResult.drift : null };
}
