/**
 * Charts as vega-lite specs rendered to SVG (headless vega, no browser, no canvas) and to PNG
 * with resvg (a self-contained rasteriser shipped as a prebuilt registry package).
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Confusion } from '../model/metrics.js';
import type { FeatureProfile, SharedBins } from '../ops/profile.js';
import type { CalibrationBin, PrPoint, RocPoint } from '../stats/curves.js';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

export function confusionMatrixSpec(c: Confusion, title: string, target: string): TopLevelSpec {
  const one = `1 (${target})`;
  const cells = [
    { actual: one, predicted: '1', count: c.tp },
    { actual: one, predicted: '0', count: c.fn },
    { actual: '0', predicted: '1', count: c.fp },
    { actual: '0', predicted: '0', count: c.tn },
  ];
  const x = { field: 'predicted', type: 'nominal', title: 'predicted class', sort: ['0', '1'], axis: { labelAngle: 0 } } as const;
  const y = { field: 'actual', type: 'nominal', title: 'actual class', sort: ['0', one] } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 260,
    height: 260,
    data: { values: cells },
    config: { font: 'DejaVu Sans' },
    layer: [
      { mark: 'rect', encoding: { x, y, color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: null } } },
      {
        mark: { type: 'text', fontSize: 22, fontWeight: 'bold' },
        encoding: {
          x,
          y,
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${Math.max(c.tp, c.fn, c.fp, c.tn) / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/** Feature importances (or |coefficient| x std for linear models) as horizontal bars, largest first. */
export function importanceSpec(rows: { feature: string; importance: number }[], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: Math.max(60, 18 * rows.length),
    data: { values: rows },
    config: { font: 'DejaVu Sans' },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'feature', type: 'nominal', sort: '-x', title: null },
      x: { field: 'importance', type: 'quantitative', title: 'share of importance' },
      tooltip: [{ field: 'feature' }, { field: 'importance' }],
    },
  };
}

// ---- The charts the UI (vega-embed) and `mlops report` (SVG) share. Every one holds
// aggregates only (bins, curve points thinned to a few hundred), so its size does not grow
// with the data.

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = { font: 'DejaVu Sans' };

/** ROC curve with the chance diagonal. */
export function rocSpec(points: RocPoint[], auc: number, title: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: `${title} (AUC ${auc.toFixed(3)})`,
    width: 300,
    height: 300,
    config: FONT,
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: points },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
          y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
          tooltip: [{ field: 'threshold', format: '.3f' }, { field: 'fpr', format: '.3f' }, { field: 'tpr', format: '.3f' }],
        },
      },
    ],
  };
}

/** Precision-recall curve with the base rate (a classifier that guesses). */
export function prSpec(points: PrPoint[], baseRate: number, title: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    width: 300,
    height: 300,
    config: FONT,
    layer: [
      {
        data: { values: [{ y: baseRate }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#999' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: points },
        mark: { type: 'line' },
        encoding: {
          x: { field: 'recall', type: 'quantitative', title: 'recall', scale: { domain: [0, 1] } },
          y: { field: 'precision', type: 'quantitative', title: 'precision', scale: { domain: [0, 1] } },
          tooltip: [{ field: 'threshold', format: '.3f' }, { field: 'recall', format: '.3f' }, { field: 'precision', format: '.3f' }],
        },
      },
    ],
  };
}

/** Reliability diagram: observed rate against mean predicted probability per bin. */
export function calibrationSpec(bins: CalibrationBin[], title: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    width: 300,
    height: 300,
    config: FONT,
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: bins },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'predicted', type: 'quantitative', title: 'mean predicted probability', scale: { domain: [0, 1] } },
          y: { field: 'observed', type: 'quantitative', title: 'observed share of class 1', scale: { domain: [0, 1] } },
          tooltip: [{ field: 'rows' }, { field: 'predicted', format: '.3f' }, { field: 'observed', format: '.3f' }],
        },
      },
    ],
  };
}

/**
 * A feature's reference and current distributions: shares per level (categorical), shares per
 * shared bin (numeric, both sides on the same bins), or, with one side only, its histogram.
 */
export function distributionSpec(reference: FeatureProfile, current: FeatureProfile | null, shared?: SharedBins | null, title?: string): TopLevelSpec {
  const head = { $schema: SCHEMA, title: title ?? reference.feature, width: 300, height: 160, config: FONT } as const;
  const color = { field: 'data', type: 'nominal', title: null, scale: { domain: ['reference', 'current'], range: ['#4c78a8', '#f58518'] }, legend: { orient: 'top' } } as const;
  const sides = [['reference', reference] as const, ...(current ? [['current', current] as const] : [])];
  if (reference.kind === 'categorical') {
    const values = sides.flatMap(([data, p]) => {
      const n = (p.levels ?? []).reduce((s, l) => s + l.count, 0) || 1;
      return (p.levels ?? []).map((l) => ({ data, level: l.value, share: l.count / n, rows: l.count }));
    });
    return {
      ...head,
      data: { values },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'level', type: 'nominal', title: reference.feature, axis: { labelAngle: -30, labelLimit: 90 } },
        xOffset: { field: 'data', sort: ['reference', 'current'] },
        y: { field: 'share', type: 'quantitative', title: 'share of rows', axis: { format: '%' } },
        color,
        tooltip: [{ field: 'data' }, { field: 'level' }, { field: 'rows' }, { field: 'share', format: '.1%' }],
      },
    };
  }
  const share = (rows: { start: number; end: number; count: number }[], data: string) => {
    const n = rows.reduce((s, b) => s + b.count, 0) || 1;
    return rows.map((b) => ({ data, start: b.start, end: b.end, share: b.count / n, rows: b.count }));
  };
  const values = shared
    ? [
        ...share(shared.bins.map((b) => ({ start: b.start, end: b.end, count: b.reference })), 'reference'),
        ...share(shared.bins.map((b) => ({ start: b.start, end: b.end, count: b.current })), 'current'),
      ]
    : sides.flatMap(([data, p]) => share(p.bins ?? [], data));
  return {
    ...head,
    data: { values },
    mark: { type: 'rect', opacity: 0.55 },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: reference.feature, scale: { zero: false } },
      x2: { field: 'end' },
      y: { field: 'share', type: 'quantitative', title: 'share of rows', axis: { format: '%' } },
      y2: { datum: 0 },
      color,
      tooltip: [{ field: 'data' }, { field: 'start', format: '.4~g' }, { field: 'end', format: '.4~g' }, { field: 'rows' }, { field: 'share', format: '.1%' }],
    },
  };
}

/** The key metric of every version (in registration order), promotions to champion marked. */
export function versionMetricSpec(points: { version: number; name: string; value: number; promoted: boolean }[], metric: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: `${metric} on the test set across versions`,
    width: 560,
    height: 220,
    config: FONT,
    data: { values: points },
    layer: [
      {
        mark: { type: 'line', color: '#4c78a8' },
        encoding: {
          x: { field: 'version', type: 'quantitative', title: 'model version', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 90, shape: 'diamond', color: '#e45756' },
        transform: [{ filter: 'datum.promoted' }],
        encoding: {
          x: { field: 'version', type: 'quantitative' },
          y: { field: 'value', type: 'quantitative' },
          tooltip: [{ field: 'name', title: 'promoted' }, { field: 'value', format: '.4f' }],
        },
      },
    ],
  };
}

/** Scores by date (per data role), releases as vertical rules. */
export function scoreTimelineSpec(
  points: { time: string; score: number; series: string; version: string }[],
  releases: { time: string; label: string }[],
  metric: string,
): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: `${metric} of the champions by date, releases marked`,
    width: 560,
    height: 220,
    config: FONT,
    layer: [
      {
        data: { values: releases },
        mark: { type: 'rule', color: '#bbb', strokeDash: [3, 3] },
        encoding: { x: { field: 'time', type: 'temporal' }, tooltip: [{ field: 'label', title: 'release' }, { field: 'time', type: 'temporal', format: '%Y-%m-%d %H:%M' }] },
      },
      {
        data: { values: points },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'time', type: 'temporal', title: 'date', axis: { format: '%b %d %H:%M', labelOverlap: true, tickCount: 6 } },
          y: { field: 'score', type: 'quantitative', title: metric, scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: 'data' },
          tooltip: [{ field: 'version' }, { field: 'series' }, { field: 'score', format: '.4f' }, { field: 'time', type: 'temporal', format: '%Y-%m-%d %H:%M' }],
        },
      },
    ],
  };
}

/** The loop's runs: seconds per step, stacked, one bar per run. */
export function runStepsSpec(rows: { run: string; started: string; step: string; seconds: number; decision: string }[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: 'Step timings of recent runs',
    width: 560,
    height: 220,
    config: FONT,
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'run', type: 'ordinal', title: 'run (oldest first)', sort: null, axis: { labels: false, ticks: false } },
      y: { field: 'seconds', type: 'quantitative', title: 'seconds', aggregate: 'sum' },
      color: { field: 'step', type: 'nominal', title: 'step' },
      tooltip: [{ field: 'started' }, { field: 'step' }, { field: 'seconds', aggregate: 'sum', format: '.3f' }, { field: 'decision' }],
    },
  };
}

/** The share of drifted features at each drift snapshot. */
export function driftTimelineSpec(points: { time: string; share: number; drifted: number; features: number }[], threshold: number): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: 'Drifted features over time',
    width: 560,
    height: 180,
    config: FONT,
    layer: [
      {
        data: { values: [{ y: threshold }] },
        mark: { type: 'rule', color: '#e45756', strokeDash: [4, 4] },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: points },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'time', type: 'temporal', title: 'computed', axis: { format: '%b %d %H:%M', labelOverlap: true, tickCount: 6 } },
          y: { field: 'share', type: 'quantitative', title: 'share of features drifted', scale: { domain: [0, 1] }, axis: { format: '%' } },
          tooltip: [{ field: 'time', type: 'temporal', format: '%Y-%m-%d %H:%M' }, { field: 'drifted' }, { field: 'features' }],
        },
      },
    ],
  };
}
