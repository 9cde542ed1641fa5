/** Latency for the Live page: the server's own /metrics text, read back as percentiles. */
import { describe, expect, it } from 'vitest';
import { ServerMetrics } from '../../src/server/metrics.js';
import { histogramDelta, histogramQuantile, LatencyWatch, latencyRow, parseHistograms, readScrape } from '../../src/ui/latency.js';
import { latencyRows } from '../../src/ui/live.js';

const hist = (pairs: [number, number][]) => ({ buckets: pairs.map(([le, count]) => ({ le, count })), count: pairs.at(-1)![1], sum: 0 });

describe('histogramQuantile', () => {
  it('interpolates within the bucket as Prometheus does', () => {
    // 10 observations: 4 in (0, 1], 4 in (1, 2], 2 in (2, 4]
    const h = hist([[1, 4], [2, 8], [4, 10], [Infinity, 10]]);
    expect(histogramQuantile(0.2, h)).toBeCloseTo(0.5, 12); // rank 2 of 4 in [0, 1]
    expect(histogramQuantile(0.5, h)).toBeCloseTo(1.25, 12); // rank 5: 1 of 4 into (1, 2]
    expect(histogramQuantile(0.9, h)).toBeCloseTo(3, 12); // rank 9: 1 of 2 into (2, 4]
    expect(histogramQuantile(1, h)).toBe(4);
  });

  it('gives the largest finite bound in the +Inf bucket, and null without observations', () => {
    expect(histogramQuantile(0.99, hist([[1, 1], [2, 1], [Infinity, 10]]))).toBe(2);
    expect(histogramQuantile(0.5, hist([[1, 0], [Infinity, 0]]))).toBeNull();
  });
});

describe('the server metrics read back', () => {
  it('parses the histograms ServerMetrics renders, per endpoint and stage', () => {
    const m = new ServerMetrics();
    for (const s of [0.0002, 0.0004, 0.0008, 0.003, 0.2]) m.observe('/prediction', 200, s);
    m.observe('/feedback', 200, 0.004);
    m.observe('/metrics', 200, 0.001);
    m.stage('predict', 0.0003);
    const text = m.render('v0001');
    m.close();
    const s = readScrape(text);
    const p = s.endpoints.get('/prediction')!;
    expect(p.count).toBe(5);
    expect(p.sum).toBeCloseTo(0.2044, 10);
    expect(p.buckets.map((b) => b.count)).toEqual([2, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5]);
    // p50: rank 2.5 lies in (0.5 ms, 1 ms], which holds 1 observation: halfway; p95: rank 4.75
    // is 0.75 of the one observation in (100 ms, 250 ms]: 100 + 0.75 * 150
    expect(latencyRow('/prediction', p)).toEqual({ what: '/prediction', requests: 5, mean_ms: 40.88, p50_ms: 0.75, p90_ms: 175, p95_ms: 212.5, p99_ms: 242.5 });
    // the rows shown: prediction and feedback (not /metrics, which the UI's own scrapes fill), then the stages
    expect(latencyRows(s).map((r) => r.what)).toEqual(['/prediction', '/feedback', 'stage: predict']);
    expect(parseHistograms('garbage\nmlops_request_duration_seconds_bucket{le="x"} 1\n', 'mlops_request_duration_seconds', 'endpoint').size).toBe(0);
  });

  it('takes the difference of two scrapes, and none across a restart', () => {
    const a = hist([[1, 4], [Infinity, 5]]);
    const b = hist([[1, 6], [Infinity, 9]]);
    expect(histogramDelta(a, b)!.buckets.map((x) => x.count)).toEqual([2, 4]);
    expect(histogramDelta(b, a)).toBeNull();
  });

  it('makes one point per interval with requests, at most one per tick', () => {
    const w = new LatencyWatch('http://127.0.0.1:9', 30_000);
    const at = (t: number, counts: [number, number]) => {
      const text = [
        `mlops_request_duration_seconds_bucket{endpoint="/prediction",le="0.001"} ${counts[0]}`,
        `mlops_request_duration_seconds_bucket{endpoint="/prediction",le="+Inf"} ${counts[1]}`,
        `mlops_request_duration_seconds_count{endpoint="/prediction"} ${counts[1]}`,
      ].join('\n');
      w.add(readScrape(text, new Date(Date.UTC(2026, 0, 1) + t)));
    };
    at(0, [10, 10]);
    at(5_000, [20, 20]); // a page view 5 s later: too soon for a point
    at(30_000, [30, 40]); // 20 of 30 since the baseline under 1 ms
    at(60_000, [30, 40]); // nothing served: no point, new baseline
    at(90_000, [10, 10]); // the server restarted: a new baseline
    at(120_000, [12, 20]);
    // after the restart 2 of 10 under 1 ms: the median is in the +Inf bucket, so the largest finite bound
    expect(w.series().map((p) => [p.requests, p.p50_ms])).toEqual([[30, 0.75], [10, 1]]);
  });
});
