/**
 * The UI's JSON answers: aggregates only (no data row ever leaves the server), each with the
 * Vega-Lite specs of its charts built by src/report/charts.ts (the same specs `mlops report`
 * renders), so a page only embeds what it gets. Each answer reads small state files and the
 * ui-cache; the data files are read once per file (src/ops/profile.ts).
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { higherIsBetter } from '../model/metrics.js';
import { loadModel } from '../model/modelfile.js';
import { modelCurves, releaseMarks, scoreTimeline } from '../ops/evidence.js';
import { compareModels, listModels, parseVersion, showModel, type ModelRow, type SortKey } from '../ops/models.js';
import { modelDrift } from '../ops/drift.js';
import { driftHistory, profilePair } from '../ops/profile.js';
import { readRuns, type RunRecord } from '../ops/run.js';
import { distributionSpec, driftTimelineSpec, runStepsSpec, versionMetricSpec } from '../report/charts.js';
import { currentChampion, syncRegistry } from '../store/champion.js';
import type { Config } from '../store/config.js';
import { testDataHash } from '../store/evaluations.js';
import { registryListing } from '../store/listingcache.js';
import { getVersion, readAliases, readEvents, versionName } from '../store/registry.js';
import { quote } from '../errors.js';
import { HttpError } from '../server/requests.js';
import { within, type LiveView } from './live.js';
import type { Profiles } from './profilejob.js';

export interface Alert {
  level: 'error' | 'warning' | 'info';
  text: string;
  /** 'live': raised by the live cards (the page refreshes those alone while their summary is computed). */
  source?: 'live';
}

const metricOf = (cfg: Config) => cfg.promotion.metric ?? cfg.drift.metric;

/** The Overview: the registry's state, the last run, drift, alerts; with `live`, its live cards. */
export async function overview(cfg: Config, live: LiveView | undefined, profiles: Profiles) {
  await syncRegistry(cfg);
  const metric = metricOf(cfg);
  const champ = await currentChampion(cfg);
  // meanwhile, from the start: the live cards (they may wait up to 0.4 s for the background
  // summary, while the rest is read)
  const liveErrors: Alert[] = [];
  const liveCards = live
    ? live.overview(champ ? versionName(champ.version) : null).catch((err: Error) => {
        liveErrors.push({ level: 'error', text: `live cards: ${err.message.split(cfg.root + '/').join('')}`, source: 'live' });
        return null;
      })
    : null;
  const [aliases, listing, runs, events] = await Promise.all([
    readAliases(cfg),
    registryListing(cfg, metric),
    readRuns(cfg, 1).catch(() => [] as RunRecord[]),
    readEvents(cfg, true),
  ]);
  const { value } = listing;
  const alerts: Alert[] = [];
  const card = (v: number | undefined) =>
    v === undefined ? null : { version: v, name: versionName(v), metric, value: value.get(v) ?? null };
  const champion = champ
    ? { ...card(champ.version)!, release: champ.release, deployed: champ.manifest.timestamp, model_type: (await getVersion(cfg, champ.version).catch(() => null))?.model_type ?? null, forced: champ.manifest.forced ?? false }
    : null;
  if (!champion) alerts.push({ level: 'error', text: 'nothing is deployed: run `mlops run`' });
  const challenger = card(aliases.challenger);
  const last = runs.at(-1) ?? null;
  if (last && (last.decision === 'failed' || last.decision === 'interrupted')) alerts.push({ level: 'error', text: `the last run ${last.decision}: ${last.reason}` });
  if (last?.decision === 'drift: not deployed') alerts.push({ level: 'warning', text: `model drift, and the retrained candidate was not deployed: ${last.reason}` });
  const md = champ ? await modelDrift({ config: cfg }).catch(() => null) : null;
  if (md?.drift) alerts.push({ level: 'warning', text: `model drift on ${md.metric}: ${md.tests.filter((t) => t.verdict === 'drift').map((t) => t.detail).join('; ')}` });
  // data drift: what the cache holds; data not profiled yet (new data since the UI started) is
  // profiled now in the background, once (the Data drift page then answers from the cache)
  let dataDrift: { status: 'computed' | 'same data' | 'computing'; drifted: number; features: number; datasetDrift: boolean; computed: string | null } | null = null;
  if (champ) {
    const pair = await profilePair(cfg, { cachedOnly: true }).catch(() => null);
    if (!pair) profiles.warm();
    if (pair?.drift) dataDrift = { status: 'computed', drifted: pair.drift.drifted, features: pair.drift.features.length, datasetDrift: pair.drift.datasetDrift, computed: pair.drift.created };
    else dataDrift = { status: pair?.current ? 'same data' : 'computing', drifted: 0, features: pair?.reference.profile.features.length ?? 0, datasetDrift: false, computed: null };
    if (dataDrift?.datasetDrift) alerts.push({ level: 'warning', text: `data drift: ${dataDrift.drifted} of ${dataDrift.features} features drifted` });
  }
  const diag = await readFile(join(cfg.output_model_path, 'diagnostics.json'), 'utf8')
    .then((t) => JSON.parse(t) as { timestamp?: string; rows?: number; dependencies?: { dependencies?: { name: string; status: string }[] } })
    .catch(() => null);
  // installed below the wanted range, or missing (a newer major alone is no alert)
  const outdated = (diag?.dependencies?.dependencies ?? []).filter((d) => d.status === 'outdated' || d.status === 'not installed');
  if (outdated.length) alerts.push({ level: 'info', text: `dependencies: ${outdated.map((d) => `${d.name} ${d.status}`).join(', ')}` });
  const timeline = await scoreTimeline(cfg, events);
  const lv = await liveCards;
  alerts.push(...liveErrors);
  if (lv) alerts.push(...lv.alerts);
  return {
    metric,
    direction: higherIsBetter(metric) ? 'higher is better' : 'lower is better',
    versions: listing.columns.version.length,
    champion,
    challenger,
    last_run: last && { id: last.id, started: last.started, seconds: last.seconds, decision: last.decision, reason: last.reason, candidate: last.candidate ?? null },
    model_drift: md && { metric: md.metric, new_score: md.newScore, drift: md.drift, tests: md.tests.map((t) => ({ test: t.test, verdict: t.verdict, detail: t.detail })) },
    data_drift: dataDrift,
    diagnostics: diag && { timestamp: diag.timestamp ?? null, rows: diag.rows ?? null },
    live: lv,
    alerts,
    charts: { scores: timeline.spec },
  };
}

/** The Overview's live cards alone (the page asks again while their summary is computed). */
export async function overviewLive(cfg: Config, live: LiveView) {
  const champ = await currentChampion(cfg);
  return live.overview(champ ? versionName(champ.version) : null);
}

/** The champion on the reference test set: ROC, PR and calibration (classification only). */
let curveCache: { key: string; body: unknown } | null = null;
export async function curves(cfg: Config) {
  const champ = await currentChampion(cfg);
  if (!champ) throw new HttpError(409, 'nothing is deployed', 'run `mlops run`');
  const key = `${champ.version}:${await testDataHash(cfg)}`;
  if (curveCache?.key === key) return curveCache.body;
  const { model } = await loadModel(join(champ.dir, 'trainedmodel.json'));
  const body = await modelCurves(cfg, model, versionName(champ.version));
  curveCache = { key, body };
  return body;
}

const SORTS: readonly SortKey[] = ['version', 'created', 'metric', 'rows'];

/**
 * An integer query parameter in min..max, or `fallback` when it is absent; anything else is a
 * 400 naming it (before: `limit=abc` was quietly 50, `offset=1e400` answered `"offset": null`).
 */
function intParam(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = q.get(name);
  if (text === null || text === '') return fallback;
  const v = Number(text);
  if (!/^\d+$/.test(text) || v < min || v > max) throw new HttpError(400, `${name} must be an integer in ${min}..${max}, not ${quote(text, 40)}`, `e.g. ?${name}=${fallback}`);
  return v;
}

/** The registry table: sorted, filtered (by name, type, alias, tag or note), a page of it; and the metric across versions. */
export async function models(cfg: Config, q: URLSearchParams) {
  const sort = (q.get('sort') ?? 'version') as SortKey;
  if (!SORTS.includes(sort)) throw new HttpError(400, `sort must be one of ${SORTS.join(', ')}`);
  const limit = intParam(q, 'limit', 50, 1, 1000);
  const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const filter = (q.get('q') ?? '').trim().toLowerCase();
  const order = q.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw new HttpError(400, `order must be asc or desc, not ${quote(order, 40)}`);
  const all = await listModels({ config: cfg, sort, descending: order === 'desc' });
  const matches = (m: ModelRow) =>
    !filter ||
    [m.name, m.model_type, m.note ?? '', ...m.aliases, ...Object.entries(m.tags).map(([k, v]) => `${k}=${v}`)].some((s) => s.toLowerCase().includes(filter));
  const rows = filter ? all.models.filter(matches) : all.models;
  const events = await readEvents(cfg, true);
  const promoted = new Set(releaseMarks(events).map((e) => e.version!));
  // the chart: every version when there are up to 1,000, else every k-th and every promoted one
  const byVersion = [...all.models].sort((a, b) => a.version - b.version).filter((m) => m.value !== null);
  const step = Math.max(1, Math.ceil(byVersion.length / 1000));
  const points = byVersion
    .filter((m, i) => i % step === 0 || promoted.has(m.version) || i === byVersion.length - 1)
    .map((m) => ({ version: m.version, name: m.name, value: m.value!, promoted: promoted.has(m.version) }));
  return {
    metric: all.metric,
    total: all.total,
    matched: rows.length,
    offset,
    limit,
    models: rows.slice(offset, offset + limit),
    charts: { metric: versionMetricSpec(points, all.metric) },
  };
}

/** Versions side by side (`versions=v0001,v0002`). */
export async function compare(cfg: Config, q: URLSearchParams) {
  const list = (q.get('versions') ?? '').split(',').filter(Boolean);
  if (list.length < 2 || list.length > 10) throw new HttpError(400, 'compare takes 2 to 10 versions', 'e.g. ?versions=v0001,v0002');
  return compareModels({ config: cfg, versions: list.map(parseVersion) });
}

export async function model(cfg: Config, v: string) {
  const r = await showModel({ config: cfg, version: parseVersion(v) });
  return { ...r, evaluations: r.evaluations.slice(-50), events: r.events.slice(-50) };
}

/**
 * Per feature: reference vs current distribution, the test statistics and verdict; drift over
 * time. Profiling a new data file takes seconds at a million rows (in a worker thread,
 * profilejob.ts): after WAIT_MS the answer is `{computing: true}` while it goes on (the page
 * asks again).
 */
export async function drift(cfg: Config, profiles: Profiles) {
  const champ = await currentChampion(cfg);
  if (!champ) throw new HttpError(409, 'nothing is deployed, so there is no reference data', 'run `mlops run`');
  const pair = await within(profiles.pair());
  if (!pair) return { computing: true };
  const byFeature = new Map((pair.drift?.features ?? []).map((f) => [f.feature, f]));
  const features = pair.reference.profile.features.map((ref, j) => {
    const cur = pair.current?.profile.features[j] ?? null;
    return {
      feature: ref.feature,
      kind: ref.kind,
      reference: { rows: ref.rows, missing: ref.missing, mean: ref.mean, median: ref.quantiles?.[50] ?? null },
      current: cur && { rows: cur.rows, missing: cur.missing, mean: cur.mean, median: cur.quantiles?.[50] ?? null },
      drift: byFeature.get(ref.feature) ?? null,
      chart: distributionSpec(ref, pair.drift ? cur : null, pair.drift?.shared_bins.find((b) => b.feature === ref.feature)),
    };
  });
  const history = await driftHistory(cfg);
  const md = await modelDrift({ config: cfg }).catch(() => null);
  return {
    reference: { file: 'the deployed training data', sha256: pair.reference.profile.sha256, rows: pair.reference.profile.rows },
    current: pair.current && { file: pair.current.path.slice(cfg.root.length + 1), sha256: pair.current.profile.sha256, rows: pair.current.profile.rows },
    computing: false,
    same_data: pair.drift === null && pair.current !== null,
    summary: pair.drift && { drifted: pair.drift.drifted, features: pair.drift.features.length, share: pair.drift.share, threshold: pair.drift.threshold, dataset_drift: pair.drift.datasetDrift, computed: pair.drift.created },
    model_drift: md && { metric: md.metric, new_score: md.newScore, previous: md.previous.slice(-20), drift: md.drift, tests: md.tests },
    features,
    history,
    charts: { history: history.length ? driftTimelineSpec(history, cfg.drift.dataset_share) : null },
  };
}

/** The loop's history: decisions, reasons, step timings (the newest `limit` runs). */
export async function runs(cfg: Config, q: URLSearchParams) {
  const limit = intParam(q, 'limit', 200, 1, 1000);
  const all = await readRuns(cfg, Number.MAX_SAFE_INTEGER).catch(() => [] as RunRecord[]);
  const shown = all.slice(-limit);
  const decisions: Record<string, number> = {};
  for (const r of all) decisions[r.decision] = (decisions[r.decision] ?? 0) + 1;
  const chartRuns = shown.slice(-100);
  const steps = chartRuns.flatMap((r, i) => r.steps.map((s) => ({ run: `${String(all.length - chartRuns.length + i + 1).padStart(5, '0')} ${r.started}`, started: r.started, step: s.step, seconds: s.seconds, decision: r.decision })));
  return {
    total: all.length,
    decisions,
    runs: shown.reverse().map((r) => ({ id: r.id, started: r.started, seconds: r.seconds, decision: r.decision, reason: r.reason, new_files: r.new_files.length, candidate: r.candidate ?? null, release: r.release, steps: r.steps })),
    charts: { steps: steps.length ? runStepsSpec(steps) : null },
  };
}
