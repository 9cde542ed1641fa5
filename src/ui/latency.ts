/**
 * Latency of the running `mlops serve`, for the Live page. The prediction log keeps no timings,
 * so they come from the server's own request histograms on GET /metrics
 * (mlops_request_duration_seconds per endpoint, mlops_stage_duration_seconds per stage of a
 * prediction): percentiles since the server started, and, while the UI runs, per interval
 * between two scrapes (the difference of the cumulative counts). Without a server answering
 * there is no latency to show, and the page says so.
 */

/** A Prometheus histogram: cumulative counts per upper bound (the last one +Inf), ascending. */
export interface PromHistogram {
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/**
 * The histograms of one family in Prometheus text, keyed by the value of `label`
 * (`endpoint`, `stage`). Other families and malformed lines are ignored. Cost: O(text).
 */
export function parseHistograms(text: string, family: string, label: string): Map<string, PromHistogram> {
  const out = new Map<string, PromHistogram>();
  const get = (k: string) => {
    let h = out.get(k);
    if (!h) out.set(k, (h = { buckets: [], count: 0, sum: 0 }));
    return h;
  };
  const line = new RegExp(`^${family}_(bucket|sum|count)\\{([^}]*)\\}\\s+(\\S+)`);
  const labelRe = new RegExp(`(?:^|,)${label}="([^"]*)"`);
  for (const raw of text.split('\n')) {
    const m = line.exec(raw);
    if (!m) continue;
    const key = labelRe.exec(m[2]!)?.[1];
    const value = Number(m[3]);
    if (key === undefined || !Number.isFinite(value)) continue;
    const h = get(key);
    if (m[1] === 'sum') h.sum = value;
    else if (m[1] === 'count') h.count = value;
    else {
      const le = /(?:^|,)le="([^"]*)"/.exec(m[2]!)?.[1];
      if (le === undefined) continue;
      h.buckets.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: value });
    }
  }
  for (const h of out.values()) h.buckets.sort((a, b) => a.le - b.le);
  return out;
}

/**
 * The q-quantile of a histogram as Prometheus' histogram_quantile computes it: linear within
 * the bucket where the cumulative count reaches q * total (from 0 for the first bucket); in the
 * +Inf bucket, the largest finite bound. Null without observations.
 * histogramQuantile(0.5, {buckets: [{le: 1, count: 2}, {le: 2, count: 4}, {le: Infinity, count: 4}]}) === 1
 */
export function histogramQuantile(q: number, h: Pick<PromHistogram, 'buckets'>): number | null {
  const b = h.buckets;
  const total = b.at(-1)?.count ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const { le, count } of b) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return count === prevCount ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** What happened between two scrapes of one histogram; null after a restart (counts went down). */
export function histogramDelta(before: PromHistogram, after: PromHistogram): PromHistogram | null {
  if (after.count < before.count || before.buckets.length !== after.buckets.length) return null;
  const buckets = after.buckets.map((x, i) => ({ le: x.le, count: x.count - (before.buckets[i]?.count ?? 0) }));
  if (buckets.some((x) => x.count < 0)) return null;
  return { buckets, count: after.count - before.count, sum: after.sum - before.sum };
}

export interface LatencyRow {
  /** "/prediction", or a stage of a prediction ("stage: predict"). */
  what: string;
  requests: number;
  mean_ms: number | null;
  p50_ms: number | null;
  p90_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

const ms = (s: number | null) => (s === null ? null : Math.round(s * 1e6) / 1e3);

export function latencyRow(what: string, h: PromHistogram): LatencyRow {
  return {
    what,
    requests: h.count,
    mean_ms: h.count ? ms(h.sum / h.count) : null,
    p50_ms: ms(histogramQuantile(0.5, h)),
    p90_ms: ms(histogramQuantile(0.9, h)),
    p95_ms: ms(histogramQuantile(0.95, h)),
    p99_ms: ms(histogramQuantile(0.99, h)),
  };
}

/** The histograms of one /metrics answer that the Live page shows. */
export interface LatencyScrape {
  time: string;
  endpoints: Map<string, PromHistogram>;
  stages: Map<string, PromHistogram>;
}

export function readScrape(text: string, time = new Date()): LatencyScrape {
  return {
    time: time.toISOString(),
    endpoints: parseHistograms(text, 'mlops_request_duration_seconds', 'endpoint'),
    stages: parseHistograms(text, 'mlops_stage_duration_seconds', 'stage'),
  };
}

/** GET url/metrics within `timeoutMs`; null when no server answers there (or not with 200). */
export async function scrapeServer(url: string, timeoutMs = 300): Promise<LatencyScrape | null> {
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return null;
    return readScrape(await res.text());
  } catch {
    return null;
  }
}

/** Per-interval percentiles of /prediction, one point per scrape with requests in between. */
export interface LatencyPoint {
  time: string;
  requests: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
}

const WATCHED = '/prediction';
const EMPTY: PromHistogram = { buckets: [], count: 0, sum: 0 };

/**
 * Scrapes the server every `everyMs` while the UI runs and keeps the last `keep` interval
 * points (default a day at 30 s) in memory: latency over time, never written anywhere.
 */
export class LatencyWatch {
  private last: LatencyScrape | null = null;
  private readonly points: LatencyPoint[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly url: string,
    private readonly everyMs = 30_000,
    private readonly keep = 2880,
  ) {}

  start(): void {
    void this.scrape();
    this.timer = setInterval(() => void this.scrape(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Scrape now; also what a page view does. Returns the scrape (null: no server). */
  async scrape(): Promise<LatencyScrape | null> {
    const s = await scrapeServer(this.url);
    if (s) this.add(s);
    return s;
  }

  /**
   * Fold one scrape in: with the previous baseline at least `everyMs` (at most a minute) old, a
   * point for the requests in between, and this scrape becomes the baseline (so page views
   * between timer ticks make no noisy short intervals). A restarted server starts a new baseline.
   */
  add(s: LatencyScrape): void {
    const base = this.last;
    const d = base && histogramDelta(base.endpoints.get(WATCHED) ?? EMPTY, s.endpoints.get(WATCHED) ?? EMPTY);
    if (!base || !d) {
      this.last = s;
      return;
    }
    if (Date.parse(s.time) - Date.parse(base.time) < Math.min(this.everyMs, 60_000) * 0.9) return;
    if (d.count > 0) {
      const r = latencyRow(WATCHED, d);
      this.points.push({ time: s.time, requests: r.requests, p50_ms: r.p50_ms, p90_ms: r.p90_ms, p99_ms: r.p99_ms });
      if (this.points.length > this.keep) this.points.splice(0, this.points.length - this.keep);
    }
    this.last = s;
  }

  series(): readonly LatencyPoint[] {
    return this.points;
  }
}
