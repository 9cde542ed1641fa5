import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/errors.js';
import {
  FeedbackStore, feedbackFromBody, feedbackFromCsv, labelledPredictions, readFeedback, scoreLive, writeLabelledCsv,
} from '../../../src/live/feedback.js';
import { knownOnDisk, PredictionLog } from '../../../src/live/predlog.js';
import { classificationMetrics } from '../../../src/model/metrics.js';
import { setQuietWarnings } from '../../../src/warnings.js';

const FEATURES = ['a', 'b'];
const bad = (m: string) => new Error(`400: ${m}`);

async function project(n: number) {
  const root = mkdtempSync(join(tmpdir(), 'feedback-'));
  const predictions = join(root, 'predictions');
  const feedback = join(root, 'feedback', 'feedback.jsonl');
  let now = Date.parse('2026-12-01T00:00:00Z');
  const log = await PredictionLog.open(predictions, { flush_ms: 60_000 }, () => now);
  for (let i = 0; i < n; i++) {
    const proba = (i % 10) / 10 + 0.05;
    log.log({
      requestId: `r${i}`, version: 'v0001', features: FEATURES, x: [i, -i], proba, label: proba > 0.5 ? 1 : 0,
      shadow: [{ version: 'v0002', proba: 1 - proba, label: 1 - proba > 0.5 ? 1 : 0 }],
    });
    now += 1000;
  }
  await log.flush();
  return { root, predictions, feedback, log, at: (t: number) => Date.parse('2026-12-01T00:00:00Z') + t };
}

describe('feedback labels', () => {
  it('parses a POST body: one item or {"items": [...]}, naming what is wrong', () => {
    expect(feedbackFromBody({ request_id: 'a', label: 1 }, bad)).toEqual([{ request_id: 'a', label: 1 }]);
    expect(feedbackFromBody({ items: [{ request_id: 'a', label: 0 }, { request_id: 'b', label: 1 }] }, bad)).toHaveLength(2);
    expect(() => feedbackFromBody({ items: [] }, bad)).toThrow(/400: "items" must be a non-empty array/);
    expect(() => feedbackFromBody({ items: [{ request_id: 'a', label: 1 }, { request_id: 'b', label: 2 }] }, bad)).toThrow(/items\[1\] "label" must be 0 or 1, not 2/);
    expect(() => feedbackFromBody({ label: 1 }, bad)).toThrow(/the body "request_id" must be a non-empty string/);
  });

  it('parses a CSV file request_id,label, naming the line of a bad label', () => {
    expect(feedbackFromCsv('label,request_id\n1,a\n0,"b,c"\n', 'labels.csv')).toEqual([{ request_id: 'a', label: 1 }, { request_id: 'b,c', label: 0 }]);
    expect(() => feedbackFromCsv('request_id,label\na,yes\n', 'labels.csv')).toThrow(DataError);
    expect(() => feedbackFromCsv('request_id,label\na,yes\n', 'labels.csv')).toThrow(/labels.csv: line 2: label "yes"/);
    expect(() => feedbackFromCsv('id,y\na,1\n', 'labels.csv')).toThrow(/header must name the columns request_id and label/);
  });

  it('stores labels of known ids, counts unknown ones and replacements; the last label wins, also after a reopen', async () => {
    const p = await project(10);
    const store = await FeedbackStore.open(p.feedback);
    const known = (ids: string[]) => p.log.known(ids);
    expect(await store.add([{ request_id: 'r1', label: 1 }, { request_id: 'nope', label: 0 }], known)).toEqual({ accepted: 1, replaced: 0, unknown: 1, unknown_ids: ['nope'] });
    expect(await store.add([{ request_id: 'r1', label: 0 }], known)).toMatchObject({ accepted: 1, replaced: 1 });
    expect(store.counts()).toEqual({ labels: 1, accepted: 2, replaced: 1, unknown: 1 });
    await store.close();
    expect((await readFeedback(p.feedback)).get('r1')!.label).toBe(0);
    // the CLI's way: ids looked up on disk
    const again = await FeedbackStore.open(p.feedback);
    expect(await again.add([{ request_id: 'r1', label: 1 }, { request_id: 'r2', label: 1 }], (ids) => knownOnDisk(p.predictions, new Set(ids)))).toMatchObject({ accepted: 2, replaced: 1 });
    await again.close();
    await p.log.close();
  });

  it('a torn last line is skipped and the next append starts a fresh line', async () => {
    setQuietWarnings(true);
    const p = await project(5);
    const store = await FeedbackStore.open(p.feedback);
    await store.add([{ request_id: 'r0', label: 1 }], (ids) => p.log.known(ids));
    await store.close();
    appendFileSync(p.feedback, '{"request_id":"r1","la');
    const s2 = await FeedbackStore.open(p.feedback);
    await s2.add([{ request_id: 'r2', label: 0 }], (ids) => p.log.known(ids));
    await s2.close();
    expect([...(await readFeedback(p.feedback)).keys()]).toEqual(['r0', 'r2']);
    expect(readFileSync(p.feedback, 'utf8').split('\n')).toHaveLength(4);
    await p.log.close();
    setQuietWarnings(false);
  });

  it('joins labels to predictions per version with the label delay, and scores them like `mlops score`', async () => {
    const p = await project(100);
    const store = await FeedbackStore.open(p.feedback);
    const items = Array.from({ length: 60 }, (_, i) => ({ request_id: `r${i}`, label: i % 3 === 0 ? 1 : 0 }));
    await store.add(items, (ids) => p.log.known(ids), p.at(3_600_000));
    await store.close();
    const rows = [];
    for await (const r of labelledPredictions({ predictions: p.predictions, feedback: p.feedback, version: 'v0001' })) rows.push(r);
    expect(rows).toHaveLength(60);
    expect(rows[10]).toMatchObject({ request_id: 'r10', version: 'v0001', answered: true, label: 0, label_delay_s: 3600 - 10 });
    const scores = await scoreLive({ predictions: p.predictions, feedback: p.feedback });
    expect(scores.map((s) => [s.version, s.rows])).toEqual([['v0001', 60], ['v0002', 60]]);
    const y = items.map((i) => i.label);
    const proba = items.map((_, i) => (i % 10) / 10 + 0.05);
    const { confusion, ...want } = classificationMetrics(y, proba, 0.5);
    expect(scores[0]!.metrics).toEqual(want);
    expect(scores[0]!.confusion).toEqual(confusion);
    expect(scores[0]!.label_delay_s.max).toBe(3600);
    expect(scores[0]!.label_delay_s.median).toBeCloseTo(3600 - 29.5, 9);
    await p.log.close();
  });

  it('writes labelled live traffic as a training CSV: inputs and the label, one row per request', async () => {
    const p = await project(5);
    const store = await FeedbackStore.open(p.feedback);
    await store.add([{ request_id: 'r3', label: 1 }, { request_id: 'r1', label: 0 }], (ids) => p.log.known(ids));
    await store.close();
    const out = join(p.root, 'practicedata', 'feedback.csv');
    expect(await writeLabelledCsv({ predictions: p.predictions, feedback: p.feedback, path: out, features: ['a', 'b', 'c'], target: 'exited' })).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('a,b,c,exited\n1,-1,,0\n3,-3,,1\n');
    await p.log.close();
  });
});
