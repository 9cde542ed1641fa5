/**
 * Charts as vega-lite specs rendered to SVG (headless vega, no browser, no canvas) and to PNG
 * with resvg (a self-contained rasteriser shipped as a prebuilt registry package).
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Confusion } from '../model/metrics.js';

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
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
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

export function scoreHistorySpec(points: { run: number; timestamp: string; score: number; model: string }[], metric: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${metric} over the score history`,
    width: 560,
    height: 220,
    data: { values: points },
    config: { font: 'DejaVu Sans' },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'run', type: 'quantitative', title: 'score record', axis: { tickMinStep: 1 } },
      y: { field: 'score', type: 'quantitative', title: metric, scale: { zero: false } },
      tooltip: [{ field: 'timestamp' }, { field: 'score' }, { field: 'model' }],
    },
  };
}

/** Feature importances (or |coefficient| x std for linear models) as horizontal bars, largest first. */
export function importanceSpec(rows: { feature: string; importance: number }[], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
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
