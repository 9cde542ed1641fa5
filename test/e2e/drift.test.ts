/** mlops drift end to end on generated data: exit 4 exactly when drift is real. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, genData, project } from '../helpers.js';

interface Feature {
  feature: string;
  verdict: string;
  pValue: number | null;
  psi: number | null;
}
interface DriftJson {
  model: { tests: { test: string; verdict: string; threshold: number | null }[]; newScore: number } | null;
  data: { features: Feature[]; datasetDrift: boolean; drifted: number } | null;
  drift: boolean;
}

const driftJson = (dir: string, ...args: string[]) => {
  const r = cli(dir, '--json', 'drift', ...args);
  return { code: r.code, json: JSON.parse(r.stdout) as DriftJson, stderr: r.stderr };
};

describe('data drift', () => {
  let dir: string;
  beforeAll(() => {
    dir = project({ classic: false });
    genData('--rows', '1000000', '--files', '4', '--dup', '0.01', '--out', join(dir, 'practicedata'), '--seed', '11');
    genData('--rows', '5000', '--out', join(dir, 'testdata'), '--seed', '12', '--prefix', 'testdata.csv');
    const r = cli(dir, 'run');
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('a million fresh rows from a barely shifted distribution do not drift (effect-size gate)', () => {
    genData('--rows', '1000000', '--files', '2', '--out', join(dir, 'fresh'), '--seed', '13', '--shift', '0.02');
    const { code, json } = driftJson(dir, '--only', 'data', '--current', join(dir, 'fresh'));
    expect(code).toBe(0);
    expect(json.data!.datasetDrift).toBe(false);
    for (const f of json.data!.features) expect(f.verdict).toBe('no drift');
    // at this size the KS test alone would flag the tiny shift: that is what the gate is for
    expect(json.data!.features.some((f) => f.pValue! < 0.05 && f.psi! < 0.1)).toBe(true);
  }, 60_000);

  it('shifted data drifts: exit 4, every feature flagged', () => {
    genData('--rows', '3000', '--out', join(dir, 'shifted'), '--seed', '14', '--shift', '0.6');
    const { code, json } = driftJson(dir, '--only', 'data', '--current', join(dir, 'shifted'));
    expect(code).toBe(4);
    expect(json.data!.datasetDrift).toBe(true);
    expect(json.data!.drifted).toBe(3);
  });

  it('8 shifted rows are "too few rows", not drift', () => {
    genData('--rows', '8', '--out', join(dir, 'tiny'), '--seed', '15', '--shift', '0.6');
    const { code, json } = driftJson(dir, '--only', 'data', '--current', join(dir, 'tiny'));
    expect(code).toBe(0);
    for (const f of json.data!.features) expect(f.verdict).toBe('too few rows');
  });

  it('the human output names every feature and the verdict', () => {
    const r = cli(dir, 'drift', '--only', 'data', '--current', join(dir, 'shifted'));
    expect(r.code).toBe(4);
    for (const f of ['lastmonth_activity', 'lastyear_activity', 'number_of_employees']) expect(r.stdout).toContain(f);
    expect(r.stdout).toContain('drift detected');
  });
});

describe('model drift from the score history', () => {
  it('a clearly worse new score exits 4 for the tests that should fire', () => {
    const dir = project({ classic: false });
    genData('--rows', '20000', '--files', '2', '--out', join(dir, 'practicedata'), '--seed', '21');
    genData('--rows', '2000', '--out', join(dir, 'testdata'), '--seed', '22', '--prefix', 'testdata.csv');
    expect(cli(dir, 'run').code).toBe(0);
    // four more scores of the same model on fresh samples of the same distribution ...
    for (let k = 0; k < 4; k++) {
      const d = join(dir, `t${k}`);
      genData('--rows', '2000', '--out', d, '--seed', String(30 + k), '--prefix', 'testdata.csv');
      expect(cli(dir, 'score', '--model', 'champion', '--role', 'new-data', '--data', d).code).toBe(0);
    }
    let r = driftJson(dir, '--only', 'model', '--test', 'raw,parametric,nonparametric');
    expect(r.code).toBe(0);
    // ... then one on concept-drifted data, where the model is much worse
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    genData('--rows', '2000', '--out', bad, '--seed', '40', '--prefix', 'testdata.csv', '--shift', '1.5');
    // an ad-hoc look first: it is recorded but never enters a verdict
    expect(cli(dir, 'score', '--model', 'champion', '--data', bad).code).toBe(0);
    expect(driftJson(dir, '--only', 'model', '--test', 'raw,parametric,nonparametric').code).toBe(0);
    expect(cli(dir, 'score', '--model', 'champion', '--role', 'new-data', '--data', bad).code).toBe(0);
    r = driftJson(dir, '--only', 'model', '--test', 'all');
    expect(r.code).toBe(4);
    const verdicts = Object.fromEntries(r.json.model!.tests.map((t) => [t.test, t.verdict]));
    expect(verdicts).toMatchObject({ raw: 'drift', parametric: 'drift', nonparametric: 'drift' });
    // the same model throughout: nothing to compare two models with
    expect(verdicts.welch).toBe('no history');
    // log loss is lower-is-better: the tests flip. On that data the model's log loss was lower
    // (confident on easy rows) so no log-loss drift; data shifted the other way raises it.
    r = driftJson(dir, '--only', 'model', '--metric', 'log_loss', '--test', 'raw');
    expect(r.code).toBe(0);
    const worse = join(dir, 'worse');
    genData('--rows', '2000', '--out', worse, '--seed', '41', '--prefix', 'testdata.csv', '--shift', '-0.5');
    expect(cli(dir, 'score', '--model', 'champion', '--role', 'new-data', '--data', worse).code).toBe(0);
    r = driftJson(dir, '--only', 'model', '--metric', 'log_loss', '--test', 'raw');
    expect(r.code).toBe(4);
    expect(r.json.model!.tests[0]!.threshold).toBeGreaterThan(0.5);
  });

  it('bad flags are usage errors', () => {
    const dir = project();
    expect(cli(dir, 'drift', '--test', 'bogus').code).toBe(2);
    expect(cli(dir, 'drift', '--metric', 'bogus').code).toBe(2);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...JSON.parse('{}'), input_folder_path: 'practicedata', output_folder_path: 'o', test_data_path: 'testdata', output_model_path: 'm', prod_deployment_path: 'p', drift: { psi: -1 } }));
    const r = cli(dir, 'drift');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"drift\.psi" has an invalid value -1/);
  });
});
