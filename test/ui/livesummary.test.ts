/** The Live page's summary of a prediction log written by the log's own writer, checked against cbpe.ts directly. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateChunk, fitCbpe, realizedChunk } from '../../src/live/cbpe.js';
import { FeedbackStore, feedbackPath } from '../../src/live/feedback.js';
import { PredictionLog, predictionsDir } from '../../src/live/predlog.js';
import type { Config } from '../../src/store/config.js';
import { rng } from '../../src/tools/gendata.js';
import { computeSummary, LADDER_MS, startsRequest, widthFor } from '../../src/ui/livesummary.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;

describe('widthFor', () => {
  it('takes the finest ladder width with few enough buckets, never finer than the counted one', () => {
    expect(widthFor(T0, T0 + 10_000, 1000, 240)).toBe(1000);
    expect(widthFor(T0, T0 + 6 * HOUR, 1000, 240)).toBe(600_000); // 36 ten-minute bars (1 min: 360)
    expect(widthFor(T0, T0 + 6 * HOUR, 1000, 40)).toBe(600_000);
    expect(widthFor(T0, T0 + 48 * HOUR, 1000, 40)).toBe(3 * HOUR);
    expect(widthFor(T0, T0 + 10_000, HOUR, 240)).toBe(HOUR);
    expect(widthFor(T0, T0 + 1e12, 1000, 10)).toBe(LADDER_MS.at(-1));
  });
});

describe('startsRequest', () => {
  it('counts a single row, or the first row of a batch (ID/0), as a request', () => {
    expect(['3f2a9c1e-07b4-4d5e-9a10-00000000002a', 'batch0/0', 'a/b'].map(startsRequest)).toEqual([true, true, true]);
    expect(['batch0/1', 'batch0/599'].map(startsRequest)).toEqual([false, false]);
  });
});

describe('computeSummary', () => {
  it('counts requests per bucket and version, and estimates and realizes each chunk as cbpe.ts does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-summary-'));
    const cfg = { output_folder_path: dir } as Config;
    const rand = rng(5);
    // 3,000 requests over 6 hours: v0001 answers, v0002 in shadow; labels for the first 2,000
    let now = T0;
    const log = await PredictionLog.open(predictionsDir(cfg), { max_age_days: null }, () => now);
    const sent: { t: number; p: number; q: number; y: number | null }[] = [];
    for (let i = 0; i < 3000; i++) {
      now = T0 + Math.floor((6 * HOUR * i) / 3000);
      const p = rand();
      const q = rand();
      log.log({ requestId: `r${i}`, version: 'v0001', features: ['a'], x: [i], proba: p, label: p > 0.5 ? 1 : 0, shadow: [{ version: 'v0002', proba: q, label: q > 0.5 ? 1 : 0 }] });
      sent.push({ t: now, p, q, y: i < 2000 ? (rand() < p ? 1 : 0) : null });
    }
    await log.close();
    const fb = await FeedbackStore.open(feedbackPath(cfg));
    const items = sent.flatMap((s, i) => (s.y === null ? [] : [{ request_id: `r${i}`, label: s.y }]));
    await fb.add(items, async (ids) => new Set(ids));
    await fb.close();

    // the reference: calibrated probabilities of 1,000 rows
    const refP = Array.from({ length: 1000 }, () => rand());
    const refY = refP.map((p) => (rand() < p ? 1 : 0));
    const cbpe = fitCbpe(refP, refY, { threshold: 0.5, chunk_size: 100 });
    const s = await computeSummary(cfg, 'sig', 'f1', async (v) => (v === 'v0002' ? { note: 'not registered' } : { cbpe }));

    expect(s).toMatchObject({ requests: 3000, labelled: 2000, first: '2026-12-01T00:00:00.000Z', bucket_seconds: 600, chunk_seconds: 600, metric: 'f1' });
    expect(s.volume.every((v) => v.version === 'v0001')).toBe(true);
    expect(s.volume.reduce((a, v) => a + v.requests, 0)).toBe(3000);
    expect(s.volume).toHaveLength(36);
    // throughput: the last 60 whole seconds to the newest record's (single-row requests: as many requests)
    const lastSec = Math.floor(sent.at(-1)!.t / 1000);
    const recent = sent.filter((x) => Math.floor(x.t / 1000) > lastSec - 60).length;
    expect(recent).toBe(9);
    const rate = Math.round((recent / 60) * 1000) / 1000;
    expect(s.throughput).toEqual({ from: new Date((lastSec - 59) * 1000).toISOString(), to: new Date((lastSec + 1) * 1000).toISOString(), seconds: 60, predictions: recent, requests: recent, predictions_per_s: rate, requests_per_s: rate });
    expect(s.cbpe.map((c) => [c.version, c.note])).toEqual([['v0001', null], ['v0002', 'not registered']]);
    const chunks = s.cbpe[0]!.chunks;
    expect(chunks).toHaveLength(36);
    for (const c of chunks) {
      const inside = sent.filter((x) => x.t >= Date.parse(c.time) && x.t < Date.parse(c.end));
      expect(c.rows).toBe(inside.length);
      expect(c.estimated).toEqual(estimateChunk(cbpe.calibration, inside.map((x) => x.p), 0.5).metrics);
      const lab = inside.filter((x) => x.y !== null);
      expect(c.labelled).toBe(lab.length);
      if (lab.length >= 20) expect(c.realized).toEqual(realizedChunk(lab.map((x) => x.p), lab.map((x) => x.y!), 0.5));
      else expect(c.realized).toBeNull();
      const half = 3 * cbpe.bands.f1!.std * Math.sqrt(100 / c.rows);
      expect(c.lower).toBeCloseTo(cbpe.bands.f1!.mean - half, 12);
      expect(c.alert).toBe(Math.abs(c.estimated.f1! - cbpe.bands.f1!.mean) > half);
    }
    // the last third has no labels: no realized values there
    expect(chunks.slice(-11).every((c) => c.realized === null)).toBe(true);
    // aggregates only: no request id in it
    expect(JSON.stringify(s)).not.toMatch(/"r\d+"/);
  });

  it('is empty for an empty log', async () => {
    const cfg = { output_folder_path: mkdtempSync(join(tmpdir(), 'live-summary-')) } as Config;
    const s = await computeSummary(cfg, 'sig', 'roc_auc', async () => ({ note: 'unused' }));
    expect(s).toMatchObject({ requests: 0, labelled: 0, first: null, volume: [], throughput: null, cbpe: [], metric: 'roc_auc' });
  });
});
