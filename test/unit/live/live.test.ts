import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { startExperiment, experimentPath } from '../../../src/live/experiment.js';
import { DEFAULT_LIVE, openLive, parseLiveSettings, renderLiveMetrics } from '../../../src/live/live.js';
import { HttpError } from '../../../src/server/requests.js';
import { eventually } from '../../helpers.js';

const cfg = () => {
  const root = mkdtempSync(join(tmpdir(), 'live-'));
  return { output_folder_path: join(root, 'out'), output_model_path: join(root, 'models') };
};

describe('live settings', () => {
  it('defaults, and names a bad key or value', () => {
    expect(parseLiveSettings(undefined, 'config.json')).toEqual(DEFAULT_LIVE);
    expect(parseLiveSettings({ flush_ms: 250, max_age_days: null }, 'config.json')).toMatchObject({ flush_ms: 250, max_age_days: null, log: true });
    expect(() => parseLiveSettings({ flush: 1 }, 'config.json')).toThrow(/unknown key "live.flush"/);
    expect(() => parseLiveSettings({ flush_ms: 0 }, 'config.json')).toThrow(ConfigError);
    expect(() => parseLiveSettings([], 'config.json')).toThrow(/"live" must be an object/);
  });
});

describe('the server handle', () => {
  it('routes, logs, takes feedback (400 bad body, 404 unknown id), and reports the experiment', async () => {
    const c = cfg();
    const live = await openLive(c, { ...DEFAULT_LIVE, experiment_poll_ms: 10 });
    expect(live.route('r1')).toEqual({ answer: 'champion', shadow: false });
    expect(await live.experimentStatus()).toBeNull();
    await startExperiment(experimentPath(c), { challenger: 'v0002', champion: 'v0001', mode: 'shadow' });
    // The server polls the experiment file every 10 ms: wait for it to notice (a loaded machine may be slow).
    await eventually(() => live.experiment());
    expect(live.experiment()?.challenger).toBe('v0002');
    expect(live.route('r1')).toEqual({ answer: 'champion', shadow: true });
    for (let i = 0; i < 10; i++) {
      live.log!.log({ requestId: `r${i}`, version: 'v0001', features: ['a'], x: [i], proba: 0.9, label: 1, shadow: [{ version: 'v0002', proba: 0.6, label: 1 }] });
    }
    await expect(live.postFeedback({ request_id: 'nope', label: 1 })).rejects.toMatchObject({ status: 404 });
    await expect(live.postFeedback({ items: [{ request_id: 'r1', label: 3 }] })).rejects.toBeInstanceOf(HttpError);
    expect(await live.postFeedback({ items: [{ request_id: 'r1', label: 1 }, { request_id: 'x', label: 0 }] })).toEqual({ accepted: 1, replaced: 0, unknown: 1, unknown_ids: ['x'] });
    expect(await live.postFeedback({ request_id: 'r1', label: 1 })).toMatchObject({ accepted: 1, replaced: 1 });
    const st = await live.experimentStatus();
    expect(st!.verdict).toMatchObject({ decision: 'continue', arms: { champion: { requests: 10, labelled: 1 }, challenger: { requests: 10, labelled: 1 } } });
    const text = renderLiveMetrics(live);
    expect(text).toContain('mlops_prediction_log_records_total{state="written"} 10');
    expect(text).toContain('mlops_feedback_labels_total{result="unknown"} 2');
    expect(text).toContain('mlops_experiment_info{challenger="v0002",mode="shadow",traffic="1"} 1');
    await live.close();
  });
});
