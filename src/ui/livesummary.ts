/**
 * The Live page's aggregates of the prediction log and the feedback labels: requests per time
 * bucket and answering version, and per chunk of time the estimated (CBPE, live/cbpe.ts) and
 * the realized performance of each version's outputs. One pass over the log through its reader
 * (readPredictions) and the labels through readFeedback; the result (aggregates only) is stored
 * in <output_model_path>/ui-cache/live-summary.json with the signature of its sources (segment
 * names, sizes and times, the feedback log's, the test files'), so it is recomputed only when
 * one of them changed, in the background of the page (src/ui/live.ts).
 *
 * Buckets adapt to the log's span: records are counted on the finest width of a ladder (1 s,
 * 10 s, 1 min, 10 min, 1, 3, 6, 12 h, 1 day, 1 week) that keeps at most 5,000 buckets, then shown on
 * the finest that gives at most 240 bars, and CBPE chunks on the finest with at most 40.
 *
 * Throughput (the Overview's card) is of the latest window: the last 60 whole seconds of logged
 * traffic, up to the second of the newest record (the log's whole span when shorter). A log
 * record is one prediction (one row); a request of several rows logs them as ID/0, ID/1, ...
 * (src/server/app.ts), so a record starts a request when its id has no /N suffix or ends in /0.
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { csvFilesAt } from '../data/csvfiles.js';
import { predictEncoded } from '../model/family.js';
import { CBPE_METRICS, estimateChunk, fitCbpe, realizedChunk, type Band, type CbpeMetric, type CbpeModel, type MetricValues } from '../live/cbpe.js';
import { experimentPath } from '../live/experiment.js';
import { feedbackPath, readFeedback } from '../live/feedback.js';
import { listSegments, predictionsDir, readPredictions } from '../live/predlog.js';
import { loadModelFrom } from '../ops/modelchoice.js';
import { readForModel } from '../ops/modeldata.js';
import { cacheDir } from '../ops/profile.js';
import { sha256Text, writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { readRecord, shape } from '../store/statefile.js';

const SECOND = 1000;
export const LADDER_MS = [1, 10, 60, 600, 3600, 10_800, 21_600, 43_200, 86_400, 604_800].map((s) => s * SECOND);
const MAX_COUNTED = 5000;
const MAX_BARS = 240;
const MAX_CHUNKS = 40;
/** Chunks with fewer outputs (or labels) get no estimate (or realized value): too noisy. */
export const MIN_CHUNK_ROWS = 20;
/** At most this many versions get CBPE charts (those with the most outputs). */
const MAX_VERSIONS = 4;
/** The throughput window, in seconds. */
export const THROUGHPUT_SECONDS = 60;

export interface CbpeChunk {
  time: string;
  end: string;
  rows: number;
  labelled: number;
  estimated: MetricValues;
  realized: MetricValues | null;
  /** The alert band of the key metric for a chunk of this size; estimates outside it alert. */
  lower: number | null;
  upper: number | null;
  alert: boolean;
}

export interface CbpeSeries {
  version: string;
  /** Null when it could be fitted; else why not (a regression model, too few test rows...). */
  note: string | null;
  reference_rows: number | null;
  chunk_size: number | null;
  chunks: CbpeChunk[];
}

/** Predictions and requests per second in the latest window [from, to) of logged traffic. */
export interface Throughput {
  from: string;
  to: string;
  seconds: number;
  predictions: number;
  requests: number;
  predictions_per_s: number;
  requests_per_s: number;
}

export interface LiveSummary {
  format: typeof FORMAT;
  signature: string;
  computed: string;
  seconds: number;
  /** Logged requests, and those with a label. */
  requests: number;
  labelled: number;
  first: string | null;
  last: string | null;
  bucket_seconds: number;
  /** Requests per bucket and answering version (canary: both arms). */
  volume: { time: string; end: string; version: string; requests: number }[];
  /** Null for an empty log. */
  throughput: Throughput | null;
  chunk_seconds: number;
  /** The metric the CBPE charts show (the promotion metric when CBPE estimates it, else f1). */
  metric: CbpeMetric;
  cbpe: CbpeSeries[];
}

/** Bumped when the summary gains a field: an older stored one is then computed again. */
const FORMAT = 'mlops-live/2';
const SUMMARY = shape<LiveSummary>('live summary', { format: 'string', signature: 'string', volume: 'array', cbpe: 'array' });
export const summaryPath = (cfg: Config) => join(cacheDir(cfg), 'live-summary.json');

const stamp = (path: string) => stat(path).then((s) => `${s.size}:${s.mtimeMs}`, () => '-');

/** Fingerprints of what the summary and the experiment's verdict are computed from, and the number of log segments. Cost: a stat per segment. */
export async function liveSignatures(cfg: Config): Promise<{ summary: string; status: string; test: string; segments: number }> {
  const segs = await listSegments(predictionsDir(cfg));
  const log = segs.map((s) => `${s.name}:${s.size}:${s.mtimeMs}`).join(',');
  const tests = await csvFilesAt(cfg.test_data_path).catch(() => []);
  const [feedback, experiment, test] = await Promise.all([
    stamp(feedbackPath(cfg)),
    stamp(experimentPath(cfg)),
    Promise.all(tests.map(async (f) => `${f.name}:${await stamp(f.path)}`)),
  ]);
  return { summary: sha256Text(`${log}|${feedback}|${test.join(',')}`), status: sha256Text(`${log}|${feedback}|${experiment}`), test: test.join(','), segments: segs.length };
}

/** The stored summary, or null (none yet, or of an older format). */
export async function readSummary(cfg: Config): Promise<LiveSummary | null> {
  const s = await readRecord(summaryPath(cfg), SUMMARY, 'delete it: the Live page computes it again').catch(() => null);
  return s?.format === FORMAT ? s : null;
}

/** One version's outputs in one bucket. */
interface Cell {
  answered: number;
  proba: number[];
  /** The true label, NaN while none came. */
  label: number[];
}

/** Cells by bucket start and version, on a width that coarsens as the span grows. */
class Buckets {
  level = 0;
  readonly cells = new Map<number, Map<string, Cell>>();

  get width(): number {
    return LADDER_MS[this.level]!;
  }

  cell(t: number, version: string): Cell {
    const key = t - (t % this.width);
    let byVersion = this.cells.get(key);
    if (!byVersion) {
      if (this.cells.size >= MAX_COUNTED && this.level < LADDER_MS.length - 1) {
        this.coarsen();
        return this.cell(t, version);
      }
      this.cells.set(key, (byVersion = new Map()));
    }
    let c = byVersion.get(version);
    if (!c) byVersion.set(version, (c = { answered: 0, proba: [], label: [] }));
    return c;
  }

  private coarsen(): void {
    this.level++;
    const old = [...this.cells];
    this.cells.clear();
    for (const [key, byVersion] of old) for (const [v, c] of byVersion) merge(this.cell(key, v), c);
  }
}

function merge(into: Cell, c: Cell): void {
  into.answered += c.answered;
  for (let i = 0; i < c.proba.length; i++) {
    into.proba.push(c.proba[i]!);
    into.label.push(c.label[i]!);
  }
}

/** The finest ladder width, at least `from`, that covers [lo, hi) with at most `most` buckets. */
export function widthFor(lo: number, hi: number, from: number, most: number): number {
  for (const w of LADDER_MS) if (w >= from && Math.floor((hi - 1) / w) - Math.floor(lo / w) + 1 <= most) return w;
  return LADDER_MS.at(-1)!;
}

/** Cells regrouped on a coarser width: bucket start -> version -> cell. */
function regroup(b: Buckets, width: number): Map<number, Map<string, Cell>> {
  const out = new Map<number, Map<string, Cell>>();
  for (const [key, byVersion] of b.cells) {
    const k = key - (key % width);
    let into = out.get(k);
    if (!into) out.set(k, (into = new Map()));
    for (const [v, c] of byVersion) {
      let d = into.get(v);
      if (!d) into.set(v, (d = { answered: 0, proba: [], label: [] }));
      merge(d, c);
    }
  }
  return new Map([...out].sort(([a], [b2]) => a - b2));
}

/** CBPE fitted on the reference test set for a version, or why it cannot be. */
export type Reference = { cbpe: CbpeModel } | { note: string };

/** fitCbpe on the test set with the version's probabilities, as `mlops estimate` does. */
export async function fitReference(cfg: Config, version: string): Promise<Reference> {
  try {
    const { model } = await loadModelFrom(cfg, version);
    if (model.task !== 'classification') return { note: `a ${model.type} model: CBPE estimates classifiers only` };
    const ref = await readForModel(model, await csvFilesAt(cfg.test_data_path), { name: 'reference', target: true });
    const chunkSize = Math.max(10, Math.floor(ref.rows / 10));
    return { cbpe: fitCbpe(predictEncoded(model, ref.X), ref.y!, { threshold: model.threshold, chunk_size: chunkSize }) };
  } catch (err) {
    return { note: (err as Error).message.split(cfg.root + '/').join('') };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Does this logged prediction start a request? (a single row's id, or the first row's ID/0) */
export function startsRequest(id: string): boolean {
  const m = /\/(\d+)$/.exec(id);
  return m === null || m[1] === '0';
}

/** Predictions and requests per whole second, keeping only the latest THROUGHPUT_SECONDS seconds seen. */
class Recent {
  private readonly bySecond = new Map<number, { predictions: number; requests: number }>();
  private newest = Number.NEGATIVE_INFINITY;

  add(t: number, id: string): void {
    const sec = Math.floor(t / SECOND);
    if (sec <= this.newest - THROUGHPUT_SECONDS) return;
    if (sec > this.newest) this.newest = sec;
    let c = this.bySecond.get(sec);
    if (!c) {
      if (this.bySecond.size >= 2 * THROUGHPUT_SECONDS) this.prune();
      this.bySecond.set(sec, (c = { predictions: 0, requests: 0 }));
    }
    c.predictions++;
    if (startsRequest(id)) c.requests++;
  }

  private prune(): void {
    for (const k of this.bySecond.keys()) if (k <= this.newest - THROUGHPUT_SECONDS) this.bySecond.delete(k);
  }

  /** The window from the second of `first` (the log's oldest record) at the earliest. */
  result(first: number): Throughput | null {
    if (!Number.isFinite(this.newest)) return null;
    this.prune();
    const from = Math.max(Math.floor(first / SECOND), this.newest - THROUGHPUT_SECONDS + 1);
    const seconds = this.newest + 1 - from;
    let predictions = 0;
    let requests = 0;
    for (const [k, c] of this.bySecond) {
      if (k < from) continue;
      predictions += c.predictions;
      requests += c.requests;
    }
    const rate = (n: number) => Math.round((n / seconds) * 1000) / 1000;
    return { from: iso(from * SECOND), to: iso((this.newest + 1) * SECOND), seconds, predictions, requests, predictions_per_s: rate(predictions), requests_per_s: rate(requests) };
  }
}
const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * Compute the summary: one pass over the log (yielding to the event loop every 20,000 records,
 * so the UI keeps answering), then the estimates per chunk. `reference` fits CBPE for a version
 * (the caller caches it per version and test set).
 */
export async function computeSummary(cfg: Config, signature: string, metric: string, reference: (version: string) => Promise<Reference>): Promise<LiveSummary> {
  const t0 = performance.now();
  const labels = await readFeedback(feedbackPath(cfg));
  const b = new Buckets();
  let requests = 0;
  let labelled = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  const outputs = new Map<string, number>();
  const recent = new Recent();
  for await (const r of readPredictions(predictionsDir(cfg))) {
    const t = Date.parse(r.time);
    if (!Number.isFinite(t)) continue;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
    recent.add(t, r.request_id);
    const y = labels.get(r.request_id)?.label ?? Number.NaN;
    if (y === y) labelled++;
    const c = b.cell(t, r.version);
    c.answered++;
    c.proba.push(r.proba);
    c.label.push(y);
    outputs.set(r.version, (outputs.get(r.version) ?? 0) + 1);
    for (const s of r.shadow ?? []) {
      const d = b.cell(t, s.version);
      d.proba.push(s.proba);
      d.label.push(y);
      outputs.set(s.version, (outputs.get(s.version) ?? 0) + 1);
    }
    if (++requests % 20_000 === 0) await tick();
  }
  const key = (CBPE_METRICS as readonly string[]).includes(metric) ? (metric as CbpeMetric) : 'f1';
  const summary: LiveSummary = {
    format: FORMAT,
    signature,
    computed: new Date().toISOString(),
    seconds: 0,
    requests,
    labelled,
    first: requests ? iso(lo) : null,
    last: requests ? iso(hi) : null,
    bucket_seconds: b.width / SECOND,
    volume: [],
    throughput: recent.result(lo),
    chunk_seconds: b.width / SECOND,
    metric: key,
    cbpe: [],
  };
  if (requests) {
    const barWidth = widthFor(lo, hi + 1, b.width, MAX_BARS);
    summary.bucket_seconds = barWidth / SECOND;
    for (const [k, byVersion] of regroup(b, barWidth)) {
      for (const [v, c] of byVersion) if (c.answered) summary.volume.push({ time: iso(k), end: iso(k + barWidth), version: v, requests: c.answered });
    }
    const chunkWidth = widthFor(lo, hi + 1, barWidth, MAX_CHUNKS);
    const chunks = regroup(b, chunkWidth);
    const versions = [...outputs].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, MAX_VERSIONS).map(([v]) => v);
    for (const v of versions) {
      const ref = await reference(v);
      if ('note' in ref) {
        summary.cbpe.push({ version: v, note: ref.note, reference_rows: null, chunk_size: null, chunks: [] });
        continue;
      }
      const series: CbpeSeries = { version: v, note: null, reference_rows: ref.cbpe.reference_rows, chunk_size: ref.cbpe.chunk_size, chunks: [] };
      for (const [k, byVersion] of chunks) {
        const c = byVersion.get(v);
        if (c && c.proba.length >= MIN_CHUNK_ROWS) series.chunks.push(chunkResult(ref.cbpe, c, key, k, chunkWidth));
      }
      summary.cbpe.push(series);
      await tick();
    }
    summary.chunk_seconds = chunkWidth / SECOND;
  }
  summary.seconds = Math.round(performance.now() - t0) / 1000;
  return summary;
}

/** Estimated and realized metrics of one version's outputs in a chunk, with the key metric's band. */
function chunkResult(m: CbpeModel, c: Cell, metric: CbpeMetric, start: number, width: number): CbpeChunk {
  const { metrics } = estimateChunk(m.calibration, c.proba, m.threshold);
  const lp: number[] = [];
  const ly: number[] = [];
  for (let i = 0; i < c.label.length; i++) {
    if (c.label[i] === c.label[i]) {
      lp.push(c.proba[i]!);
      ly.push(c.label[i]!);
    }
  }
  const band: Band | null = m.bands[metric];
  // the band of the reference chunks' size, widened for a smaller chunk by sqrt(chunk_size / rows), as estimateChunks does
  const half = band ? m.sigmas * band.std * Math.sqrt(m.chunk_size / c.proba.length) : null;
  const v = metrics[metric];
  return {
    time: iso(start),
    end: iso(start + width),
    rows: c.proba.length,
    labelled: ly.length,
    estimated: metrics,
    realized: ly.length >= MIN_CHUNK_ROWS ? realizedChunk(lp, ly, m.threshold) : null,
    lower: band && half !== null ? band.mean - half : null,
    upper: band && half !== null ? band.mean + half : null,
    alert: band !== null && half !== null && v !== null && Math.abs(v - band.mean) > half,
  };
}

export async function writeSummary(cfg: Config, s: LiveSummary): Promise<void> {
  await writeFileAtomic(summaryPath(cfg), JSON.stringify(s) + '\n');
}
