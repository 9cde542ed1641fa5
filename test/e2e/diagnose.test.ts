/** mlops diagnose on the classic data and on data with missing values. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, project, read } from '../helpers.js';

interface Diag {
  summary: { column: string; count: number; mean: number; std: number; min: number; q25: number; median: number; q75: number; max: number }[];
  missing: { column: string; missing: number; percent: number }[];
  predictions: { predictions: number[]; probabilities: number[]; release: string } | null;
  timings: { source: string; ingest_seconds: number; train_seconds: number; repeat?: number; ingest_runs?: number[] };
  dependencies: { reachable: boolean; dependencies: { name: string; installed: string; status: string }[] };
  stability: { previous: string | null; rows_read: number[]; columns: { column: string; flagged: string | null; missing_after_pct: number }[] };
  imputed: { output: string; columns: { column: string; filled: number; value: number }[] } | null;
}

describe('mlops diagnose', () => {
  const dir = project();
  it('summary statistics match pandas (sample std, linear quartiles)', () => {
    expect(cli(dir, 'run').code).toBe(0);
    const d = cliJson<Diag>(dir, 'diagnose');
    const byName = Object.fromEntries(d.summary.map((s) => [s.column, s]));
    // numpy 2.4.6 on finaldata.csv: mean, std(ddof=1), percentile 25/50/75, min, max
    const ref = {
      lastmonth_activity: [165.65384615384616, 284.0332293669447, 16.75, 73, 100.75, 0, 1090],
      lastyear_activity: [1502.923076923077, 2192.6449584568304, 406.25, 955, 1615.5, 18, 10983],
      number_of_employees: [26.884615384615383, 31.353885785435814, 7.25, 14, 34.5, 1, 103],
    };
    for (const [col, [mean, std, q25, med, q75, min, max]] of Object.entries(ref)) {
      const s = byName[col]!;
      expect(s.count).toBe(26);
      expect(s.mean).toBeCloseTo(mean!, 10);
      expect(s.std).toBeCloseTo(std!, 9);
      expect([s.q25, s.median, s.q75, s.min, s.max]).toEqual([q25, med, q75, min, max]);
    }
    expect(d.missing.every((m) => m.percent === 0)).toBe(true);
    expect(d.predictions!.predictions).toHaveLength(5);
    expect(d.predictions!.release).toBe('v0001');
    expect(d.timings.source).toBe('recorded');
    expect(d.timings.ingest_seconds).toBeGreaterThan(0);
    expect(d.timings.train_seconds).toBeGreaterThan(0);
    // the registry is unreachable in tests: said in the table, still exit 0
    expect(d.dependencies.reachable).toBe(false);
    const duck = d.dependencies.dependencies.find((x) => x.name === '@duckdb/node-api')!;
    expect(duck.installed).toMatch(/^1\./);
    expect(duck.status).toBe('registry unreachable');
    expect(JSON.parse(read(join(dir, 'practicemodels/diagnostics.json'))).summary).toHaveLength(4);
  });

  it('--time re-runs ingest and train on a scratch copy and leaves the real outputs alone', () => {
    const final = join(dir, 'ingesteddata/finaldata.csv');
    const model = join(dir, 'practicemodels/trainedmodel.json');
    const before = [statSync(final).mtimeMs, statSync(model).mtimeMs, read(final), read(model)];
    const logBefore = read(join(dir, 'ingesteddata/ingestion_log.jsonl'));
    const d = cliJson<Diag>(dir, 'diagnose', '--time', '--repeat', '2');
    expect(d.timings.source).toBe('measured');
    expect(d.timings.repeat).toBe(2);
    expect(d.timings.ingest_runs).toHaveLength(2);
    expect(d.timings.ingest_seconds).toBeGreaterThan(0);
    expect([statSync(final).mtimeMs, statSync(model).mtimeMs, read(final), read(model)]).toEqual(before);
    expect(read(join(dir, 'ingesteddata/ingestion_log.jsonl'))).toBe(logBefore);
  });

  it('missing data, stability against the previous ingestion, and --impute mean', () => {
    const HEADER = 'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited';
    writeFileSync(join(dir, 'practicedata', 'dataset3.csv'), `${HEADER}\nm1,,100,5,1\nm2,,200,6,0\nm3,10,300,,1\nm4,20,90000,8,0\n`);
    expect(cli(dir, 'ingest').code).toBe(0);
    const d = cliJson<Diag>(dir, 'diagnose', '--impute', 'mean');
    const miss = Object.fromEntries(d.missing.map((m) => [m.column, m]));
    expect(miss.lastmonth_activity).toMatchObject({ missing: 2, percent: (100 * 2) / 30 });
    expect(miss.number_of_employees).toMatchObject({ missing: 1 });
    expect(d.stability.previous).not.toBeNull();
    expect(d.stability.rows_read).toEqual([36, 40]);
    const flags = Object.fromEntries(d.stability.columns.map((c) => [c.column, c.flagged]));
    expect(flags.lastyear_activity).toContain('mean moved the most');
    expect(flags.lastmonth_activity).toContain('missing share moved the most');
    // imputed copy: no missing cells, the fill is the column mean of the observed values
    const fills = Object.fromEntries(d.imputed!.columns.map((c) => [c.column, c]));
    const observed = d.summary.find((s) => s.column === 'lastmonth_activity')!;
    expect(fills.lastmonth_activity).toMatchObject({ filled: 2, value: observed.mean });
    const lines = readFileSync(d.imputed!.output, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(31);
    expect(lines.some((l) => l.includes(',,'))).toBe(false);
    // a filled integer column becomes a float column, as in pandas
    expect(lines.find((l) => l.startsWith('m1,'))).toBe(`m1,${observed.mean},100,5.0,1`);
  });

  it('without ingested data it says which command to run', () => {
    const r = cli(project(), 'diagnose');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mlops ingest');
  });
});
