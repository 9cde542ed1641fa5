import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, StateError } from '../../../src/errors.js';
import {
  autoAction, experimentStats, readExperiment, routeRequest, startExperiment, stopExperiment, verdict, type ExperimentState,
} from '../../../src/live/experiment.js';
import { FeedbackStore } from '../../../src/live/feedback.js';
import { PredictionLog, type Output } from '../../../src/live/predlog.js';
import { rng } from '../../../src/tools/gendata.js';
import { normal, sigmoid } from '../simulation.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'experiment-'));
const T0 = Date.parse('2026-12-01T00:00:00Z');

describe('experiment state', () => {
  it('starts, reads back, refuses a second, stops', async () => {
    const path = join(tmp(), 'experiment.json');
    expect(await readExperiment(path)).toBeNull();
    const s = await startExperiment(path, { challenger: 'v0004', champion: 'v0003', mode: 'canary', traffic: 0.2, sticky_key: 'corporation' }, T0);
    expect(s).toMatchObject({ id: 'exp-20261201T000000000Z', mode: 'canary', traffic: 0.2, alpha: 0.05, tau: null, metric: 'brier', status: 'running' });
    expect(await readExperiment(path)).toEqual(s);
    await expect(startExperiment(path, { challenger: 'v0005', mode: 'shadow' })).rejects.toThrow(StateError);
    const stopped = await stopExperiment(path, 'by hand', null, T0 + 1000);
    expect(stopped).toMatchObject({ status: 'stopped', stop_reason: 'by hand', stopped_at: '2026-12-01T00:00:01.000Z' });
    await expect(stopExperiment(path, 'again')).rejects.toThrow(/no experiment is running/);
    expect((await startExperiment(path, { challenger: 'v0005', mode: 'shadow', traffic: 0.3 })).traffic).toBe(1);
  });

  it('names bad settings and a damaged state file', async () => {
    const dir = tmp();
    const path = join(dir, 'experiment.json');
    await expect(startExperiment(path, { challenger: 'v2', mode: 'canary', traffic: 1.5 })).rejects.toThrow(ConfigError);
    await expect(startExperiment(path, { challenger: 'v2', mode: 'canary', alpha: 0 })).rejects.toThrow(/alpha must be in \(0, 1\)/);
    await expect(startExperiment(path, { challenger: 'v2', champion: 'v2', mode: 'shadow' })).rejects.toThrow(/is the champion already/);
    writeFileSync(path, '{"id": "x", "challenger": "v2", "mode": "ab", "traffic": 1, "alpha": 0.05, "started_at": "t", "status": "running"}');
    await expect(readExperiment(path)).rejects.toThrow(/experiment.json: not an experiment state: mode "ab"/);
    writeFileSync(path, '{"id": "x"');
    await expect(readExperiment(path)).rejects.toThrow(/experiment.json: not valid JSON/);
  });
});

describe('routing', () => {
  const exp = (o: Partial<ExperimentState>): ExperimentState => ({
    id: 'exp-1', challenger: 'v2', champion: 'v1', mode: 'canary', traffic: 0.1, sticky_key: null, metric: 'brier', alpha: 0.05, tau: null,
    started_at: 't', status: 'running', stopped_at: null, stop_reason: null, decision: null, ...o,
  });

  it('canary: the share of traffic, sticky by key; shadow: the champion answers and the challenger scores; none: the champion', () => {
    const e = exp({});
    let n = 0;
    for (let i = 0; i < 100_000; i++) if (routeRequest(e, `req-${i}`).answer === 'challenger') n++;
    expect(n / 100_000).toBeGreaterThan(0.095);
    expect(n / 100_000).toBeLessThan(0.105);
    for (let i = 0; i < 100; i++) expect(routeRequest(e, `a${i}`, 'acme').answer).toBe(routeRequest(e, `b${i}`, 'acme').answer);
    // another experiment splits the keys afresh
    const other = exp({ id: 'exp-2' });
    let both = 0;
    for (let i = 0; i < 100_000; i++) if (routeRequest(e, `req-${i}`).answer === 'challenger' && routeRequest(other, `req-${i}`).answer === 'challenger') both++;
    expect(both / 100_000).toBeLessThan(0.02);
    expect(routeRequest(exp({ mode: 'shadow', traffic: 1 }), 'x')).toEqual({ answer: 'champion', shadow: true });
    expect(routeRequest(null, 'x')).toEqual({ answer: 'champion', shadow: false });
    expect(routeRequest(exp({ status: 'stopped' }), 'x').answer).toBe('champion');
  });
});

describe('verdict from the log and the labels', () => {
  /** A served experiment: n requests, true probability q, each model off by its own noise. */
  async function serve(mode: 'shadow' | 'canary', n: number, noise: { champion: number; challenger: number }, seed: number) {
    const dir = tmp();
    const predictions = join(dir, 'predictions');
    const feedback = join(dir, 'feedback.jsonl');
    const path = join(dir, 'experiment.json');
    const exp = await startExperiment(path, { challenger: 'v0002', champion: 'v0001', mode, traffic: 0.5 }, T0);
    let now = T0 + 1;
    const log = await PredictionLog.open(predictions, { flush_ms: 60_000 }, () => now);
    const rand = rng(seed);
    const gauss = normal(rand);
    const labels: { request_id: string; label: number }[] = [];
    for (let i = 0; i < n; i++) {
      const z = gauss();
      const id = `r${i}`;
      const out = (version: string, sd: number): Output => {
        const proba = sigmoid(z + sd * gauss());
        return { version, proba, label: proba > 0.5 ? 1 : 0 };
      };
      const route = routeRequest(exp, id);
      const champ = out('v0001', noise.champion);
      const chall = out('v0002', noise.challenger);
      const answer = route.answer === 'champion' ? champ : chall;
      log.log({ requestId: id, version: answer.version, features: ['z'], x: [z], proba: answer.proba, label: answer.label, answeredBy: route.answer, shadow: route.shadow ? [chall] : undefined });
      if (i % 2 === 0) labels.push({ request_id: id, label: rand() < sigmoid(z) ? 1 : 0 });
      now += 10;
    }
    const store = await FeedbackStore.open(feedback);
    await store.add(labels, (ids) => log.known(ids), now + 5000);
    await store.close();
    await log.close();
    const s = await experimentStats(exp, { predictions, feedback });
    return { exp, s, v: verdict(exp, s) };
  }

  it('shadow: a better challenger is found; per-arm requests, labels and losses are reported', async () => {
    const { exp, s, v } = await serve('shadow', 20_000, { champion: 1.5, challenger: 0.5 }, 1);
    expect(s.champion.requests).toBe(20_000);
    expect(s.challenger.requests).toBe(20_000);
    expect(v.arms.champion.labelled).toBe(10_000);
    expect(v.decision).toBe('challenger_better');
    expect(v.interval[0]).toBeGreaterThan(0);
    expect(v.arms.champion.mean_loss!).toBeGreaterThan(v.arms.challenger.mean_loss!);
    expect(autoAction(exp, v)).toBe('promote');
  });

  it('shadow: equal models stay undecided', async () => {
    const { v } = await serve('shadow', 4_000, { champion: 1, challenger: 1 }, 2);
    expect(v.decision).toBe('continue');
    expect(v.p_value).toBeGreaterThan(0.05);
  });

  it('canary: a worse challenger is found and stopped', async () => {
    const { exp, s, v } = await serve('canary', 20_000, { champion: 0.3, challenger: 3 }, 3);
    expect(s.champion.requests + s.challenger.requests).toBe(20_000);
    expect(s.challenger.requests / 20_000).toBeCloseTo(0.5, 1);
    expect(v.decision).toBe('challenger_worse');
    expect(v.difference).toBeLessThan(0);
    expect(autoAction(exp, v)).toBe('stop');
  });
});
