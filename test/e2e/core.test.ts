/** The classic workflow end to end through the real CLI, on the classic data nobody here wrote. */
import { existsSync, lstatSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, cli, cliJson, genData, project, read } from '../helpers.js';

describe('classic workflow: ingest, train, score, deploy', () => {
  const dir = project();

  it('ingest merges both files, drops the 10 duplicate rows and records what it read', () => {
    const r = cliJson<{ rows_read: number; duplicates_dropped: number; rows_written: number; files: { name: string; rows: number; sha256: string }[] }>(
      dir,
      'ingest',
    );
    expect(r.rows_read).toBe(36);
    expect(r.rows_written).toBe(26);
    expect(r.duplicates_dropped).toBe(10);
    expect(r.files.map((f) => [f.name, f.rows])).toEqual([
      ['dataset1.csv', 17],
      ['dataset2.csv', 19],
    ]);
    expect(r.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(read(join(dir, 'ingesteddata/ingestedfiles.txt'))).toBe('dataset1.csv\ndataset2.csv\n');
    const lines = read(join(dir, 'ingesteddata/finaldata.csv')).trim().split('\n');
    expect(lines[0]).toBe('corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited');
    expect(lines).toHaveLength(27);
    // first occurrence kept, in file order then row order
    expect(lines[1]).toBe(read(join(dir, 'practicedata/dataset1.csv')).split('\n')[1]);
    expect(new Set(lines).size).toBe(lines.length);
    const log = read(join(dir, 'ingesteddata/ingestion_log.jsonl')).trim().split('\n');
    expect(log).toHaveLength(1);
    expect(JSON.parse(log[0]!)).toMatchObject({ rows_read: 36, duplicates_dropped: 10, rows_written: 26 });
  });

  it('train writes the documented model contract at the exact optimum', () => {
    cli(dir, 'train');
    const m = JSON.parse(read(join(dir, 'practicemodels/trainedmodel.json')));
    expect(m.format).toBe('mlops-model/2');
    expect(m.type).toBe('logistic_regression');
    expect(m.task).toBe('classification');
    expect(m.labels).toEqual({ negative: 0, positive: 1 });
    // corporation: 26 distinct values in 26 rows, an identifier, never a feature
    expect(m.id_columns).toEqual(['corporation']);
    expect(m.target).toBe('exited');
    expect(m.features).toEqual(['lastmonth_activity', 'lastyear_activity', 'number_of_employees']);
    expect(m.training_rows).toBe(26);
    // Reference: scipy.optimize.minimize(method='trust-exact', gtol=1e-12) on the same
    // objective 0.5*||w||^2 + sum(log-loss), intercept unpenalised (scipy 1.17.1, numpy 2.4.6).
    expect(m.linear.intercept).toBeCloseTo(0.727037461, 7);
    expect(m.linear.coefficients[0]).toBeCloseTo(-1.0478208e-2, 9);
    expect(m.linear.coefficients[1]).toBeCloseTo(7.34777815e-5, 12);
    expect(m.linear.coefficients[2]).toBeCloseTo(2.51362302e-2, 9);
    expect(m.linear.terms.map((t: { name: string }) => t.name)).toEqual(m.features);
    expect(m.inputs.map((i: { kind: string }) => i.kind)).toEqual(['numeric', 'numeric', 'numeric']);
    expect(m.iterations).toBeGreaterThan(0);
    expect(m.data_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(m)).toEqual(
      expect.arrayContaining(['linear', 'inputs', 'labels', 'importances', 'settings', 'trained_at', 'training_rows', 'data_sha256', 'iterations']),
    );
  });

  it('deploy refuses a model whose score was not recomputed', () => {
    const r = cli(dir, 'deploy');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mlops score');
    expect(existsSync(join(dir, 'production_deployment/current'))).toBe(false);
  });

  it('score writes the F1 of the classic exercise and appends a history record', () => {
    const r = cliJson<{ metrics: Record<string, number>; rows: number }>(dir, 'score');
    expect(r.rows).toBe(5);
    // 5 test rows: the known F1 of this exercise's model on testdata.csv
    expect(read(join(dir, 'practicemodels/latestscore.txt'))).toBe('0.5714285714285714\n');
    expect(r.metrics.f1).toBeCloseTo(4 / 7, 12);
    expect(r.metrics.accuracy).toBeCloseTo(0.4, 12);
    const hist = read(join(dir, 'practicemodels/score_history.jsonl')).trim().split('\n');
    expect(hist).toHaveLength(1);
    expect(JSON.parse(hist[0]!).model_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('deploy publishes one release with a manifest; top-level names follow it', () => {
    const r = cliJson<{ version: number }>(dir, 'deploy');
    expect(r.version).toBe(1);
    const prod = join(dir, 'production_deployment');
    expect(readlinkSync(join(prod, 'current'))).toBe('releases/v0001');
    for (const f of ['trainedmodel.json', 'latestscore.txt', 'ingestedfiles.txt']) {
      expect(lstatSync(join(prod, f)).isSymbolicLink()).toBe(true);
    }
    expect(read(join(prod, 'latestscore.txt'))).toBe('0.5714285714285714\n');
    expect(read(join(prod, 'trainedmodel.json'))).toBe(read(join(dir, 'practicemodels/trainedmodel.json')));
    const manifest = JSON.parse(read(join(prod, 'releases/v0001/manifest.json')));
    expect(manifest.version).toBe(1);
    expect(manifest.score).toBeCloseTo(4 / 7, 12);
    expect(manifest.ingestion.files.map((f: { name: string }) => f.name)).toEqual(['dataset1.csv', 'dataset2.csv']);
  });

  it('a second deploy keeps the first; rollback restores it; a third rollback has nowhere to go', () => {
    // new data -> new model -> new score -> deploy v2
    writeFileSync(join(dir, 'config.json'), read(join(dir, 'config.json')).replace('"practicedata"', '"sourcedata"'));
    expect(cli(dir, 'ingest').code).toBe(0);
    expect(cli(dir, 'train').code).toBe(0);
    expect(cli(dir, 'score').code).toBe(0);
    expect(cliJson<{ version: number; previous: number }>(dir, 'deploy')).toMatchObject({ version: 2, previous: 1 });
    const prod = join(dir, 'production_deployment');
    expect(readdirSync(join(prod, 'releases')).sort()).toEqual(['v0001', 'v0002']);
    expect(read(join(prod, 'ingestedfiles.txt'))).toBe('dataset3.csv\ndataset4.csv\n');
    expect(cliJson(dir, 'deploy', '--rollback')).toEqual({ from: 2, to: 1, from_version: 2, to_version: 1 });
    expect(read(join(prod, 'ingestedfiles.txt'))).toBe('dataset1.csv\ndataset2.csv\n');
    const again = cli(dir, 'deploy', '--rollback');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('first release');
  });

  it('predict prints a prediction and probability per row', () => {
    const r = cli(dir, 'predict', '--input', 'testdata/testdata.csv');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    // the id column comes through
    expect(lines[0]).toBe('row,corporation,prediction,probability');
    expect(lines).toHaveLength(6);
    const j = cliJson<{ predictions: number[]; probabilities: number[]; ids: Record<string, string[]> }>(dir, 'predict', '--input', 'testdata/testdata.csv');
    expect(j.predictions).toHaveLength(5);
    expect(j.ids.corporation).toHaveLength(5);
    expect(lines[1]!.split(',')[1]).toBe(j.ids.corporation![0]);
    j.probabilities.forEach((p, i) => expect(j.predictions[i]).toBe(p > 0.5 ? 1 : 0));
  });
});

describe('mlops run on a fresh project', () => {
  it('chains the four verbs and prints one summary table', () => {
    const dir = project();
    const r = cli(dir, 'run');
    expect(r.code).toBe(0);
    for (const step of ['ingest', 'train', 'score', 'deploy']) expect(r.stdout).toMatch(new RegExp(`^${step}\\s+ok`, 'm'));
    expect(read(join(dir, 'production_deployment/latestscore.txt'))).toBe('0.5714285714285714\n');
  });

  it('--json prints exactly one JSON object; --quiet prints nothing', () => {
    const dir = project();
    const j = cli(dir, '--json', 'ingest');
    expect(j.code).toBe(0);
    expect(j.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(j.stdout).rows_written).toBe(26);
    const q = cli(dir, '--quiet', 'train');
    expect(q.code).toBe(0);
    expect(q.stdout).toBe('');
    // progress lines are for a terminal only: nothing on a piped stderr
    const piped = cli(dir, 'ingest');
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
  });

  it('--config resolves folders relative to the config file, from any working directory', () => {
    const dir = project();
    const r = cli('/', '--config', join(dir, 'config.json'), 'ingest');
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'ingesteddata/finaldata.csv'))).toBe(true);
  });
});

describe('ingest at a size where DuckDB runs in parallel', () => {
  it('keeps exactly the first occurrence of every row, in file order then row order', () => {
    const dir = project({ classic: false });
    genData('--rows', '300000', '--files', '3', '--dup', '0.2', '--out', join(dir, 'practicedata'), '--seed', '5');
    expect(cli(dir, 'ingest').code).toBe(0);
    // Independent reference: a set of the lines seen so far (the generator writes integers, so
    // text equality is value equality).
    const seen = new Set<string>();
    let header = '';
    const expected: string[] = [];
    for (const f of ['dataset1.csv', 'dataset2.csv', 'dataset3.csv']) {
      const lines = read(join(dir, 'practicedata', f)).split('\n').filter(Boolean);
      header = lines[0]!;
      for (const line of lines.slice(1)) {
        if (!seen.has(line)) {
          seen.add(line);
          expected.push(line);
        }
      }
    }
    const got = read(join(dir, 'ingesteddata/finaldata.csv'));
    expect(expected.length).toBeLessThan(300000 * 0.85);
    expect(got === [header, ...expected].join('\n') + '\n').toBe(true);
  });
});

describe('progress on a terminal', () => {
  // `script` (util-linux) gives the command a pseudo-terminal, as a person's shell would.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.runIf(hasScript)('ingest and train print their phases on stderr when it is a terminal', () => {
    const dir = project();
    const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} ingest && ${process.execPath} ${BIN} train`, '/dev/null'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/read 36 rows from 2 files \(\d+\.\d\d s\)/);
    expect(r.stdout).toMatch(/dropped duplicates, wrote 26 rows/);
    expect(r.stdout).toMatch(/fitted in \d+ Newton iterations/);
  });
});
