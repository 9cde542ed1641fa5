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
import { confusionMatrixSpec, distributionSpec, importanceSpec, renderSvg, svgToPng } from '../report/charts.js';
import { esc, htmlTable, num, page, verdictBadge } from '../report/html.js';
import type { DiagnoseResult } from './diagnose.js';
import { drift, type DriftResult } from './drift.js';
import { modelCurves, scoreTimeline } from './evidence.js';
import { loadModelFrom } from './modelchoice.js';
import { profilePair } from './profile.js';
import { score } from './score.js';

/** Feature distribution charts in a report at most (the most important first): the page stays small. */
const MAX_DISTRIBUTIONS = 24;

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
  // an ad-hoc score, so the chart tells the story of what production served; by date, with
  // the releases marked (the same spec as the UI's overview).
  const events = await readEvents(cfg, true);
  const champions = new Set(championStack(events));
  const history = (await readEvaluations(cfg, { versions: champions })).filter((e) => e.version !== null && champions.has(e.version) && (e.role === 'test' || e.role === 'new-data'));
  const timeline = await scoreTimeline(cfg, events);
  const histSvg = timeline.points.length ? await renderSvg(timeline.spec) : null;
  // ROC, PR and calibration of a classifier on the test set
  const curves = await modelCurves(cfg, model, `release ${manifest.name}`);
  const curveSvgs = curves.charts ? await Promise.all([curves.charts.roc, curves.charts.pr, curves.charts.calibration].map(renderSvg)) : [];
  // per-feature distributions: training data vs current data, from the ui-cache (binned)
  const pair = await profilePair(cfg).catch(() => null);
  const order = model.features.map((_, j) => j).sort((a, b) => (model.importances[b] ?? 0) - (model.importances[a] ?? 0)).slice(0, MAX_DISTRIBUTIONS);
  const distSvgs = pair
    ? await Promise.all(
        order.map((j) =>
          renderSvg(distributionSpec(pair.reference.profile.features[j]!, pair.drift ? (pair.current?.profile.features[j] ?? null) : null, pair.drift?.shared_bins.find((b) => b.feature === model.features[j]))),
        ),
      )
    : [];

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
    curveSvgs.length
      ? `<h2>ROC, precision-recall and calibration on the test set (${curves.rows} rows)</h2><div class="figs">${curveSvgs.map((svg) => `<div class="fig">${svg}</div>`).join('')}</div>`
      : '',
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
  body.push('<h2>Feature distributions</h2>');
  body.push(
    distSvgs.length
      ? `<p class="note">The deployed training data${pair?.drift ? ' against the current data' : ''}, binned${model.features.length > MAX_DISTRIBUTIONS ? `; the ${MAX_DISTRIBUTIONS} most important of ${model.features.length} features` : ''}.</p><div class="figs">${distSvgs.map((svg) => `<div class="fig">${svg}</div>`).join('')}</div>`
      : '<p class="note">No training data copy in the release to profile.</p>',
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
