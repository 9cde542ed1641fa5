/**
 * Vega-Lite specs of the Live page, in the look of src/report/charts.ts (same font, sizes and
 * schema): the experiment's always-valid interval over time, requests over time, latency
 * percentiles, and CBPE's estimated against the realized metric per chunk.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { VerdictPoint } from '../ops/live.js';
import type { CbpeChunk } from './livesummary.js';
import type { LatencyPoint, LatencyRow } from './latency.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = { font: 'DejaVu Sans' };
const TIME_AXIS = { format: '%b %d %H:%M:%S', labelOverlap: true, tickCount: 6 } as const;
const SERIES = ['estimated (CBPE)', 'realized'];
const WHEN = { field: 'time', type: 'temporal', format: '%Y-%m-%d %H:%M:%S' } as const;

/** The difference and its always-valid interval at every recorded look; 0 (no difference) marked. */
export function intervalSpec(points: readonly VerdictPoint[], statistic: string, alpha: number): TopLevelSpec {
  const values = points.map((p) => ({ time: p.time, difference: p.difference, lower: p.lower, upper: p.upper, n: p.n, p_value: p.p_value, decision: p.decision }));
  const bounded = values.filter((v) => v.lower !== null && v.upper !== null);
  const band = { x: { field: 'time', type: 'temporal' }, y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' } } as const;
  return {
    $schema: SCHEMA,
    title: `Always-valid ${Math.round((1 - alpha) * 100)}% interval of the difference, at each look`,
    width: 560,
    height: 220,
    config: FONT,
    layer: [
      // the interval as an area, and a bar per look (a single look has no area); none before a verdict
      ...(bounded.length
        ? [
            { data: { values: bounded }, mark: { type: 'area', opacity: 0.25, color: '#4c78a8' }, encoding: band } as const,
            { data: { values: bounded }, mark: { type: 'rule', color: '#4c78a8', opacity: 0.6 }, encoding: band } as const,
          ]
        : []),
      {
        data: { values },
        mark: { type: 'line', point: true, color: '#4c78a8' },
        encoding: {
          x: { field: 'time', type: 'temporal', title: 'time', axis: TIME_AXIS },
          y: { field: 'difference', type: 'quantitative', title: statistic },
          tooltip: [WHEN, { field: 'n', title: 'labelled' }, { field: 'difference', format: '.4f' }, { field: 'lower', format: '.4f' }, { field: 'upper', format: '.4f' }, { field: 'p_value', format: '.4f' }, { field: 'decision' }],
        },
      },
      { data: { values: [{ y: 0 }] }, mark: { type: 'rule', color: '#e45756', strokeDash: [4, 4] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
}

/** Requests per time bucket, stacked by the version that answered (stacked here: each bar spans [time, end)). */
export function volumeSpec(rows: readonly { time: string; end: string; version: string; requests: number }[], bucketSeconds: number): TopLevelSpec {
  const below = new Map<string, number>();
  const values = [...rows]
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.version < b.version ? -1 : 1))
    .map((r) => {
      const y0 = below.get(r.time) ?? 0;
      below.set(r.time, y0 + r.requests);
      return { ...r, y0, y1: y0 + r.requests };
    });
  return {
    $schema: SCHEMA,
    title: `Requests per ${bucketLabel(bucketSeconds)}`,
    width: 560,
    height: 200,
    config: FONT,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'time', type: 'temporal', title: 'time', axis: TIME_AXIS },
      x2: { field: 'end' },
      y: { field: 'y1', type: 'quantitative', title: 'requests' },
      y2: { field: 'y0' },
      color: { field: 'version', type: 'nominal', title: 'answered by' },
      tooltip: [WHEN, { field: 'version' }, { field: 'requests' }],
    },
  };
}

const PCTS = ['p50', 'p90', 'p99'] as const;

/** A row's p50, p90 and p99 as one value each (long form), with `keys`; missing ones left out. */
function long<K extends object>(r: Record<`${(typeof PCTS)[number]}_ms`, number | null>, keys: K) {
  return PCTS.flatMap((p) => {
    const ms = r[`${p}_ms`];
    return ms === null ? [] : [{ ...keys, percentile: p, ms }];
  });
}

/** p50, p90 and p99 per endpoint and prediction stage since the server started. */
export function latencySpec(rows: readonly LatencyRow[]): TopLevelSpec {
  const values = rows.flatMap((r) => long(r, { what: r.what, requests: r.requests }));
  return {
    $schema: SCHEMA,
    title: 'Latency percentiles since the server started',
    width: 480,
    height: { step: 12 },
    config: FONT,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'what', type: 'nominal', title: 'endpoint or stage', sort: null },
      yOffset: { field: 'percentile', type: 'nominal', sort: [...PCTS] },
      x: { field: 'ms', type: 'quantitative', title: 'milliseconds' },
      color: { field: 'percentile', type: 'nominal', title: 'percentile', sort: [...PCTS] },
      tooltip: [{ field: 'what' }, { field: 'percentile' }, { field: 'ms', format: '.3f' }, { field: 'requests' }],
    },
  };
}

/** /prediction latency percentiles per interval between the UI's scrapes. */
export function latencyTimeSpec(points: readonly LatencyPoint[]): TopLevelSpec {
  const values = points.flatMap((p) => long(p, { time: p.time, requests: p.requests }));
  return {
    $schema: SCHEMA,
    title: '/prediction latency over time (while this UI runs)',
    width: 560,
    height: 200,
    config: FONT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'time', type: 'temporal', title: 'time', axis: TIME_AXIS },
      y: { field: 'ms', type: 'quantitative', title: 'milliseconds' },
      color: { field: 'percentile', type: 'nominal', title: 'percentile', sort: [...PCTS] },
      tooltip: [WHEN, { field: 'percentile' }, { field: 'ms', format: '.3f' }, { field: 'requests' }],
    },
  };
}

/** One version's estimated (CBPE) and realized metric per chunk, with the alert band (estimates outside it marked red). */
export function cbpeSpec(version: string, metric: string, chunks: readonly CbpeChunk[], chunkSeconds: number): TopLevelSpec {
  type Metric = keyof CbpeChunk['estimated'];
  const values = chunks.flatMap((c) => [
    { time: c.time, series: SERIES[0], value: c.estimated[metric as Metric], rows: c.rows, labelled: c.labelled, alert: c.alert },
    ...(c.realized ? [{ time: c.time, series: SERIES[1], value: c.realized[metric as Metric], rows: c.rows, labelled: c.labelled, alert: false }] : []),
  ]).filter((v) => v.value !== null && Number.isFinite(v.value));
  const alerts = values.filter((v) => v.alert);
  const band = chunks.filter((c) => c.lower !== null && c.upper !== null).map((c) => ({ time: c.time, lower: c.lower, upper: c.upper }));
  return {
    $schema: SCHEMA,
    title: `${version}: estimated and realized ${metric} per ${bucketLabel(chunkSeconds)}`,
    width: 560,
    height: 200,
    config: FONT,
    layer: [
      ...(band.length ? [{ data: { values: band }, mark: { type: 'area', opacity: 0.15, color: '#888' }, encoding: { x: { field: 'time', type: 'temporal' }, y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' } } } as const] : []),
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'time', type: 'temporal', title: 'chunk start', axis: TIME_AXIS },
          y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: 'performance', scale: { domain: SERIES, range: ['#4c78a8', '#f58518'] } },
          strokeDash: { field: 'series', type: 'nominal', title: 'performance', scale: { domain: SERIES, range: [[1, 0], [5, 3]] } },
          tooltip: [WHEN, { field: 'series' }, { field: 'value', format: '.4f' }, { field: 'rows' }, { field: 'labelled' }, { field: 'alert' }],
        },
      },
      // estimates outside the alert band
      ...(alerts.length ? [{ data: { values: alerts }, mark: { type: 'point', shape: 'diamond', size: 90, filled: true, color: '#e45756' }, encoding: { x: { field: 'time', type: 'temporal' }, y: { field: 'value', type: 'quantitative' } } } as const] : []),
    ],
  };
}

function bucketLabel(seconds: number): string {
  const units: [number, string][] = [[604_800, 'week'], [86_400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [s, name] of units) if (seconds >= s && seconds % s === 0) return seconds === s ? name : `${seconds / s} ${name}s`;
  return `${seconds} s`;
}
