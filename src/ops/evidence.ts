/**
 * The charts' evidence that both `mlops report` and `mlops ui` show: the champions' scores by
 * date with the releases, and a classifier's ROC, PR and calibration on the test set. Built
 * from aggregates (curves thinned to a few hundred points), as Vega-Lite specs of
 * src/report/charts.ts.
 */
import { csvFilesAt } from '../data/csvfiles.js';
import { predictEncoded } from '../model/family.js';
import type { ModelFile } from '../model/modelfile.js';
import { calibrationSpec, prSpec, rocSpec, scoreTimelineSpec } from '../report/charts.js';
import { calibrationBins, prCurve, rocCurve } from '../stats/curves.js';
import type { Config } from '../store/config.js';
import { readEvaluations } from '../store/evaluations.js';
import { versionName, type RegistryEvent } from '../store/registry.js';
import { readForModel } from './modeldata.js';

/** Champion events (promotions and rollbacks), as the timelines mark them. */
export const releaseMarks = (events: readonly RegistryEvent[]) =>
  events.filter((e) => e.alias === 'champion' && (e.kind === 'promoted' || e.kind === 'rolled_back') && e.version !== null);

/** The champions' own scores by date (test set and new data; the newest 2,000), with the releases. */
export async function scoreTimeline(cfg: Config, events: readonly RegistryEvent[]) {
  const metric = cfg.drift.metric;
  const marks = releaseMarks(events);
  const champions = new Set(marks.map((e) => e.version!));
  const points = (await readEvaluations(cfg, { versions: champions }))
    .filter((e) => e.version !== null && champions.has(e.version) && (e.role === 'test' || e.role === 'new-data'))
    .map((e) => ({ time: e.timestamp, score: e.metrics[metric] as number, series: e.role, version: versionName(e.version!) }))
    .filter((p) => typeof p.score === 'number' && Number.isFinite(p.score))
    .slice(-2000);
  const releases = marks.slice(-500).map((e) => ({ time: e.time, label: `${e.kind === 'promoted' ? 'promoted' : 'rolled back to'} ${versionName(e.version!)}` }));
  return { metric, points, releases, spec: scoreTimelineSpec(points, releases, metric) };
}

/** ROC, PR and calibration of a classifier on the reference test set (charts null for a regression model). */
export async function modelCurves(cfg: Config, model: ModelFile, name: string) {
  if (model.task !== 'classification') return { task: model.task, rows: null, auc: null, charts: null };
  const ds = await readForModel(model, await csvFilesAt(cfg.test_data_path), { name: 'test', target: true });
  const p = predictEncoded(model, ds.X);
  const roc = rocCurve(ds.y!, p);
  const pr = prCurve(ds.y!, p);
  return {
    task: model.task,
    rows: ds.rows,
    auc: roc.auc,
    charts: {
      roc: rocSpec(roc.points, roc.auc, `ROC, ${name} on the test set`),
      pr: prSpec(pr.points, pr.base_rate, `Precision-recall, ${name} on the test set`),
      calibration: calibrationSpec(calibrationBins(ds.y!, p), `Calibration, ${name} on the test set`),
    },
  };
}
