/** The live verbs in a real project (bootstrapped by the built CLI): estimate, feedback, live scores, experiments. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, genData, project } from '../helpers.js';
import { loadConfig, type Config } from '../../src/store/config.js';
import { estimate } from '../../src/ops/estimate.js';
import { experimentStart, experimentStatus, experimentStop, feedbackFile, scoreLiveTraffic } from '../../src/ops/live.js';
import { PredictionLog, predictionsDir } from '../../src/live/predlog.js';
import { readEvaluations } from '../../src/store/evaluations.js';
import { currentChampion } from '../../src/store/champion.js';
import { versionName } from '../../src/store/registry.js';

describe('live verbs', () => {
  let dir: string;
  let config: Config;
  beforeAll(() => {
    dir = project({ classic: false });
    genData('--rows', '4000', '--out', join(dir, 'practicedata'), '--seed', '21');
    genData('--rows', '2000', '--out', join(dir, 'testdata'), '--seed', '22', '--prefix', 'testdata.csv');
    expect(cli(dir, 'run').code).toBe(0);
    // a second version: the same data, other settings
    const cfgFile = join(dir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), model: { C: 0.01, max_iter: 100 } }));
    expect(cli(dir, 'train').code).toBe(0);
  });
  let champion: number;
  let other: number;
  beforeAll(async () => {
    config = await loadConfig(join(dir, 'config.json'));
    champion = (await currentChampion(config))!.version;
    other = 3 - champion;
  });

  it('estimate: CBPE of the champion on the labelled test data shows estimate and realized per chunk', async () => {
    const r = await estimate({ config, data: join(dir, 'testdata') });
    expect(r.version).toBe(champion);
    expect(r.labelled).toBe(true);
    expect(r.chunks.length).toBeGreaterThanOrEqual(6);
    for (const c of r.chunks) {
      expect(c.estimated.f1).toBeGreaterThanOrEqual(0);
      expect(c.realized).not.toBeNull();
    }
  });

  it('feedback from a CSV file, scored per version as live evaluations with the label delay', async () => {
    const log = await PredictionLog.open(predictionsDir(config));
    for (let i = 0; i < 40; i++) {
      const p = (i % 4) / 4 + 0.1;
      log.log({ requestId: `q${i}`, version: 'v0001', features: ['a'], x: [i], proba: p, label: p > 0.5 ? 1 : 0, shadow: [{ version: 'v0002', proba: 1 - p, label: 1 - p > 0.5 ? 1 : 0 }] });
    }
    await log.close();
    writeFileSync(join(dir, 'labels.csv'), 'request_id,label\n' + Array.from({ length: 30 }, (_, i) => `q${i},${i % 2}`).join('\n') + '\nzzz,1\n');
    expect(await feedbackFile({ config, file: join(dir, 'labels.csv') })).toMatchObject({ accepted: 30, replaced: 0, unknown: 1, unknown_ids: ['zzz'] });
    const scores = await scoreLiveTraffic({ config });
    expect(scores.map((s) => [s.version, s.rows, s.recorded])).toEqual([['v0001', 30, true], ['v0002', 30, true]]);
    const live = (await readEvaluations(config)).filter((e) => e.role === 'live');
    expect(live.map((e) => e.version)).toEqual([1, 2]);
    expect((live[0] as unknown as { label_delay_s: { max: number } }).label_delay_s.max).toBeGreaterThanOrEqual(0);
    const events = readFileSync(join(dir, 'practicemodels', 'registry', 'events.jsonl'), 'utf8');
    expect(events).toMatch(/"kind":"evaluated".*live traffic \(30 labelled requests/);
  });

  it('experiment start, status, stop', async () => {
    await expect(experimentStart({ config, challenger: 'champion', mode: 'shadow' })).rejects.toThrow(/is the champion already/);
    const s = await experimentStart({ config, challenger: String(other), mode: 'shadow' });
    expect(s).toMatchObject({ challenger: versionName(other), champion: versionName(champion), mode: 'shadow', status: 'running' });
    await expect(experimentStart({ config, challenger: String(other), mode: 'canary' })).rejects.toThrow(/an experiment is running/);
    const st = await experimentStatus({ config });
    expect(st!.verdict.decision).toBe('continue');
    const stopped = await experimentStop({ config });
    expect(stopped.experiment).toMatchObject({ status: 'stopped', stop_reason: 'stopped by hand', decision: null });
    await expect(experimentStop({ config })).rejects.toThrow(/no experiment is running/);
  });
});
