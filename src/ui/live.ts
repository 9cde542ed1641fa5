/**
 * The Live page: the experiment and its always-valid interval over time (the looks recorded by
 * `experimentStatus`, src/ops/live.ts), requests over time and CBPE's estimated against the
 * realized performance per chunk (src/ui/livesummary.ts), latency percentiles from the server's
 * /metrics (src/ui/latency.ts); and the actions that start and stop an experiment. The
 * Overview's live cards (throughput, latency, the champion's latest chunk) come from the same.
 *
 * A page view never waits for the log to be read at scale: it answers from the stored summary
 * and the recorded looks, and when the log, the labels or the experiment changed since, one
 * background job (at a time, in a worker thread: livejob.ts) recomputes the summary and takes a
 * new look at the verdict; the view waits up to 0.4 s for it, else answers with what is stored
 * and `computing: true` (the page asks again).
 */
import { stat } from 'node:fs/promises';
import { HttpError } from '../server/requests.js';
import { serverUrl } from '../ops/apicalls.js';
import { parseVersion } from '../ops/models.js';
import { experimentHistoryPath, experimentStart, experimentStop, readVerdictHistory, type VerdictPoint } from '../ops/live.js';
import { experimentPath, readExperiment, type ExperimentState } from '../live/experiment.js';
import { currentChampion } from '../store/champion.js';
import type { Config } from '../store/config.js';
import { registryListing } from '../store/listingcache.js';
import { versionName } from '../store/registry.js';
import { LatencyWatch, latencyRow, type LatencyRow, type LatencyScrape } from './latency.js';
import { cbpeSpec, intervalSpec, latencySpec, latencyTimeSpec, volumeSpec } from './livecharts.js';
import { LiveJobs, type LiveJob } from './livejob.js';
import type { Alert } from './api.js';
import { liveSignatures, MIN_CHUNK_ROWS, readSummary, type LiveSummary } from './livesummary.js';

/** At most this many looks in the interval chart (evenly thinned, the last always kept). */
const MAX_LOOKS = 500;
/** How long a page view waits for background work before it answers "computing". */
export const WAIT_MS = 400;

/** p's value if it settles within `ms`, else undefined (p goes on; its rejection, if any, is thrown when it settles in time). */
export function within<T>(p: Promise<T>, ms = WAIT_MS): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function thin<T>(xs: readonly T[], most: number): T[] {
  if (xs.length <= most) return [...xs];
  const step = (xs.length - 1) / (most - 1);
  return Array.from({ length: most }, (_, i) => xs[Math.round(i * step)]!);
}

/** The axis title of the experiment's difference: positive is the challenger better. */
const statisticOf = (e: ExperimentState) =>
  e.mode === 'canary' ? 'accuracy(challenger) - accuracy(champion)' : `${e.metric}(champion) - ${e.metric}(challenger)`;

const SHOWN_ENDPOINTS = ['/prediction', '/feedback'];

/** The latency rows worth showing: the prediction and feedback endpoints, then the stages of a prediction. */
export function latencyRows(s: LatencyScrape): LatencyRow[] {
  const rows: LatencyRow[] = [];
  for (const e of SHOWN_ENDPOINTS) {
    const h = s.endpoints.get(e);
    if (h?.count) rows.push(latencyRow(e, h));
  }
  for (const [stage, h] of s.stages) if (h.count) rows.push(latencyRow(`stage: ${stage}`, h));
  return rows;
}

export class LiveView {
  /** undefined: not read from ui-cache yet. */
  private summary: LiveSummary | null | undefined;
  private job: Promise<void> | null = null;
  private summaryError: { signature: string; message: string } | null = null;
  private statusError: string | null = null;
  private looked: string | null = null;
  private readonly jobs: LiveJobs;
  private history: { key: string; points: VerdictPoint[] } | null = null;
  readonly latency: LatencyWatch;

  constructor(
    private readonly cfg: Config,
    private readonly metric: string,
  ) {
    this.latency = new LatencyWatch(serverUrl(cfg));
    this.jobs = new LiveJobs(cfg);
  }

  /** Scrape the server's latency every 30 s, and bring the summary up to date in the background. */
  start(): void {
    this.latency.start();
    void this.kick().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.latency.stop();
    await this.jobs.close();
  }

  /** The background job: the summary and/or a new look at the verdict (in a worker thread). */
  private async refresh(signatures: LiveJob['signatures'], summary: boolean, look: boolean): Promise<void> {
    const r = await this.jobs.run({ signatures, metric: this.metric, summary, look });
    if (summary) {
      if (r.summary) this.summary = r.summary;
      this.summaryError = r.summaryError === null ? null : { signature: signatures.summary, message: r.summaryError };
    }
    if (look) {
      this.statusError = r.statusError;
      this.looked = signatures.status;
    }
  }

  /** The experiment's recorded looks, read again only when the history file changed. */
  private async looks(id: string): Promise<VerdictPoint[]> {
    const st = await stat(experimentHistoryPath(this.cfg)).catch(() => null);
    const key = `${id}:${st?.size}:${st?.mtimeMs}`;
    if (this.history?.key !== key) this.history = { key, points: await readVerdictHistory(this.cfg, id) };
    return this.history.points;
  }

  /** Start the background job when the summary's sources or the running experiment changed (one at a time). */
  private async kick() {
    const [sig, exp] = await Promise.all([liveSignatures(this.cfg), readExperiment(experimentPath(this.cfg))]);
    if (this.summary === undefined) this.summary = await readSummary(this.cfg);
    const needSummary = this.summary?.signature !== sig.summary && this.summaryError?.signature !== sig.summary;
    const needLook = exp?.status === 'running' && this.looked !== sig.status;
    if ((needSummary || needLook) && !this.job) this.job = this.refresh(sig, needSummary, needLook).finally(() => (this.job = null));
    return { sig, exp };
  }

  /**
   * The summary as it stands after waiting up to WAIT_MS for the job kick() started, the
   * experiment, and the server's latency (scraped meanwhile).
   */
  private async current() {
    const { sig, exp } = await this.kick();
    const scraping = this.latency.scrape();
    if (this.job) await within(this.job);
    return {
      sig,
      exp,
      scrape: await scraping,
      summary: this.summary ?? null,
      computing: this.job !== null,
      errors: [this.summaryError?.signature === sig.summary ? this.summaryError.message : null, this.statusError].filter((e): e is string => e !== null),
    };
  }

  async answer() {
    const cfg = this.cfg;
    const [{ exp, scrape, summary: s, computing, errors }, champ, listing] = await Promise.all([this.current(), currentChampion(cfg), registryListing(cfg, this.metric)]);
    const looks = exp ? await this.looks(exp.id) : [];
    const latency = scrape ? latencyRows(scrape) : [];
    const series = this.latency.series();
    const champion = champ ? versionName(champ.version) : null;
    const versions = listing.columns.version;
    const challengers: string[] = [];
    for (let i = versions.length - 1; i >= 0 && challengers.length < 200; i--) if (versions[i] !== champ?.version) challengers.push(versionName(versions[i]!));
    const cbpe = s?.cbpe.filter((c) => c.chunks.length) ?? [];
    return {
      champion,
      challengers,
      experiment: exp,
      verdict: looks.at(-1) ?? null,
      looks: looks.length,
      statistic: exp ? statisticOf(exp) : null,
      computing,
      errors,
      summary: s && {
        computed: s.computed,
        seconds: s.seconds,
        requests: s.requests,
        labelled: s.labelled,
        first: s.first,
        last: s.last,
        throughput: s.throughput,
        bucket_seconds: s.bucket_seconds,
        chunk_seconds: s.chunk_seconds,
        metric: s.metric,
        cbpe: s.cbpe.map((c) => ({ version: c.version, note: c.note, reference_rows: c.reference_rows, chunk_size: c.chunk_size, chunks: c.chunks.length, alerts: c.chunks.filter((k) => k.alert).length, last: c.chunks.at(-1) ?? null })),
      },
      latency: { server: serverUrl(cfg), answering: scrape !== null, rows: latency, points: series.length },
      charts: {
        interval: exp && looks.length ? intervalSpec(thin(looks, MAX_LOOKS), statisticOf(exp), exp.alpha) : null,
        volume: s?.volume.length ? volumeSpec(s.volume, s.bucket_seconds) : null,
        latency: latency.length ? latencySpec(latency) : null,
        latency_time: series.length >= 2 ? latencyTimeSpec(series) : null,
        cbpe: s ? cbpe.map((c) => ({ version: c.version, spec: cbpeSpec(c.version, s.metric, c.chunks, s.chunk_seconds) })) : [],
      },
    };
  }

  /**
   * The Overview's live cards: throughput of the latest window, the /prediction latency, and the
   * champion's estimated and realized key metric in the latest CBPE chunk, with the alerts they
   * raise. From the same stored summary and scrape as the Live page (never the log itself).
   */
  async overview(champion: string | null) {
    const { sig, scrape, summary: s, computing, errors } = await this.current();
    const pred = scrape?.endpoints.get('/prediction');
    const series = champion ? s?.cbpe.find((c) => c.version === champion) : undefined;
    const last = series?.chunks.at(-1);
    const alerts: Alert[] = errors.map((e) => ({ level: 'error', text: `live summary: ${e}`, source: 'live' }));
    const chunk = s && last ? { time: last.time, end: last.end, rows: last.rows, labelled: last.labelled, estimated: last.estimated[s.metric], realized: last.realized?.[s.metric] ?? null, lower: last.lower, upper: last.upper, alert: last.alert } : null;
    if (chunk?.alert) {
      const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
      alerts.push({ level: 'warning', text: `performance: ${champion}'s estimated ${s!.metric} ${f(chunk.estimated)} in the latest chunk (from ${chunk.time}) is outside its band [${f(chunk.lower)}, ${f(chunk.upper)}] (CBPE)`, source: 'live' });
    }
    return {
      computing,
      /** No prediction logged: no segment, or an up-to-date summary of none. */
      no_traffic: sig.segments === 0 || (s?.signature === sig.summary && s.requests === 0),
      logged: s && { predictions: s.requests, labelled: s.labelled, first: s.first, last: s.last, computed: s.computed },
      throughput: s?.throughput ?? null,
      latency: { server: serverUrl(this.cfg), answering: scrape !== null, prediction: pred?.count ? latencyRow('/prediction', pred) : null },
      performance:
        champion && s?.requests
          ? { version: champion, metric: s.metric, chunk_seconds: s.chunk_seconds, note: series ? series.note ?? (last ? null : `no chunk with ${MIN_CHUNK_ROWS} or more predictions yet`) : `no prediction of ${champion} logged`, chunk }
          : null,
      alerts,
    };
  }
}

/** POST /api/experiment/start {"challenger": "v0002", "mode": "shadow"|"canary", "traffic": 0.1}. */
export async function startFromUi(cfg: Config, body: Record<string, unknown>): Promise<ExperimentState> {
  if (typeof body.challenger !== 'string' && typeof body.challenger !== 'number') throw new HttpError(400, '"challenger" must be a version such as "v0002"');
  const version = parseVersion(String(body.challenger));
  if (body.mode !== 'shadow' && body.mode !== 'canary') throw new HttpError(400, '"mode" must be "shadow" or "canary"');
  let traffic: number | undefined;
  if (body.mode === 'canary' && body.traffic !== undefined && body.traffic !== null) {
    traffic = typeof body.traffic === 'number' ? body.traffic : typeof body.traffic === 'string' && body.traffic.trim() ? Number(body.traffic) : Number.NaN;
    if (!(traffic > 0 && traffic <= 1)) throw new HttpError(400, `"traffic" must be a share in (0, 1], not ${JSON.stringify(body.traffic)}`, 'e.g. 0.1 sends 10% of requests to the challenger');
  }
  return experimentStart({ config: cfg, challenger: versionName(version), mode: body.mode, traffic });
}

/** POST /api/experiment/stop: the running experiment stopped with its verdict as it stands. */
export async function stopFromUi(cfg: Config) {
  const r = await experimentStop({ config: cfg, reason: 'stopped in mlops ui' });
  return { experiment: r.experiment, decision: r.verdict.decision, p_value: r.verdict.p_value, n: r.verdict.n };
}
