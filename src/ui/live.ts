/**
 * The Live page: the experiment and its always-valid interval over time (the looks recorded by
 * `experimentStatus`, src/ops/live.ts), requests over time and CBPE's estimated against the
 * realized performance per chunk (src/ui/livesummary.ts), latency percentiles from the server's
 * /metrics (src/ui/latency.ts); and the actions that start and stop an experiment.
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
import { liveSignatures, readSummary, type LiveSummary } from './livesummary.js';

/** At most this many looks in the interval chart (evenly thinned, the last always kept). */
const MAX_LOOKS = 500;
const WAIT_MS = 400;

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

  start(): void {
    this.latency.start();
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

  async answer() {
    const cfg = this.cfg;
    const [sig, exp, champ, listing] = await Promise.all([liveSignatures(cfg), readExperiment(experimentPath(cfg)), currentChampion(cfg), registryListing(cfg, this.metric)]);
    if (this.summary === undefined) this.summary = await readSummary(cfg);
    const needSummary = this.summary?.signature !== sig.summary && this.summaryError?.signature !== sig.summary;
    const needLook = exp?.status === 'running' && this.looked !== sig.status;
    if ((needSummary || needLook) && !this.job) this.job = this.refresh(sig, needSummary, needLook).finally(() => (this.job = null));
    const scraping = this.latency.scrape();
    if (this.job) await Promise.race([this.job, new Promise((r) => setTimeout(r, WAIT_MS))]);
    const [scrape, looks] = await Promise.all([scraping, exp ? this.looks(exp.id) : Promise.resolve([] as VerdictPoint[])]);
    const s = this.summary ?? null;
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
      computing: this.job !== null,
      errors: [this.summaryError?.signature === sig.summary ? this.summaryError.message : null, this.statusError].filter((e): e is string => e !== null),
      summary: s && {
        computed: s.computed,
        seconds: s.seconds,
        requests: s.requests,
        labelled: s.labelled,
        first: s.first,
        last: s.last,
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
