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

describe('summary statistics far from zero and near the largest doubles', () => {
  /** |got - want| / |want| */
  const relErr = (got: number | null | undefined, want: number) => Math.abs(got! - want) / Math.abs(want);
  type Summary = { name?: string; column?: string; mean?: number | null; std?: number | null };
  const byName = (rows: Summary[]) => Object.fromEntries(rows.map((r) => [r.name ?? r.column, r]));
  const ingestRecord = (dir: string) => {
    const log = read(join(dir, 'ingesteddata/ingestion_log.jsonl')).trim().split('\n');
    return JSON.parse(log.at(-1)!) as { columns: Summary[] };
  };

  it('offsets 1e6, 1e9, 1e12 plus a spread of std 3.65: mean and std to the last digit, at ingest and in diagnose', () => {
    const dir = project({ classic: false });
    // x = offset + k, k = ((37 i) mod 101 - 50) / 8, i < 1000: every value and every k exact in binary
    const ks = Array.from({ length: 1000 }, (_, i) => (((37 * i) % 101) - 50) / 8);
    const lines = ks.map((k, i) => `c${i},${1e6 + k},${1e9 + k},${1e12 + k},${i % 2}`);
    writeFileSync(join(dir, 'practicedata', 'offsets.csv'), ['corporation,o6,o9,o12,exited', ...lines].join('\n') + '\n');
    // Exact, with Python's fractions: the k have mean 1/800 and sample variance 13.3171593468468...,
    // so std(ddof=1) = sqrt(that) = 3.64926833034333703637640788753661... for every offset.
    // DuckDB's stddev_samp gave relative errors 1.4e-13, 5.0e-11 and 2.7e-7; pandas 1e-13 at 1e9
    // and 3.6e-8 at 1e12.
    const STD = 3.649268330343337; // the double nearest
    const MEAN = { o6: 1e6 + 0.00125, o9: 1e9 + 0.00125, o12: 1e12 + 0.00125 };
    expect(cli(dir, 'ingest').code).toBe(0);
    const d = cliJson<Diag>(dir, 'diagnose');
    for (const [where, rows] of [['ingest', ingestRecord(dir).columns], ['diagnose', d.summary]] as const) {
      const s = byName(rows);
      for (const [col, mean] of Object.entries(MEAN)) {
        expect(relErr(s[col]!.std, STD), `${where} ${col} std ${s[col]!.std}`).toBeLessThanOrEqual(2.3e-16);
        expect(relErr(s[col]!.mean, mean), `${where} ${col} mean ${s[col]!.mean}`).toBeLessThanOrEqual(1.2e-16);
      }
    }
  });

  it('values up to 1.7e308: ingest and diagnose succeed, the statistics are finite or null', () => {
    const dir = project({ classic: false });
    // big: 0..999 with 1e155 and -1.7e308 in rows 3 and 5; huge: the sum overflows, the std does
    // not; wide: the std (2.4e308) is beyond the doubles
    const huge = [1.7e308, 1.7e308, 1.6e308];
    const wide = [1.7e308, -1.7e308];
    const lines = Array.from({ length: 1000 }, (_, i) => {
      const big = i === 3 ? '1e155' : i === 5 ? '-1.7e308' : String(i);
      return `c${i},${big},${huge[i] ?? ''},${wide[i] ?? ''},${i % 2}`;
    });
    writeFileSync(join(dir, 'practicedata', 'big.csv'), ['corporation,big,huge,wide,exited', ...lines].join('\n') + '\n');
    const ingest = cli(dir, 'ingest');
    expect(ingest.stderr).toBe('');
    expect(ingest.code).toBe(0);
    const d = cliJson<Diag>(dir, 'diagnose');
    // the doubles nearest the exact values (Python's fractions on the doubles as read)
    const want = {
      big: { mean: -1.6999999999999999e305, std: 5.3758720222862445e306 },
      huge: { mean: 1.6666666666666666e308, std: 5.773502691896255e306 },
    };
    for (const [where, rows] of [['ingest', ingestRecord(dir).columns], ['diagnose', d.summary]] as const) {
      const s = byName(rows);
      for (const [col, w] of Object.entries(want)) {
        expect(relErr(s[col]!.mean, w.mean), `${where} ${col} mean`).toBeLessThanOrEqual(1e-15);
        expect(relErr(s[col]!.std, w.std), `${where} ${col} std`).toBeLessThanOrEqual(1e-15);
      }
      expect(s.wide!.mean).toBe(0);
      expect(s.wide!.std).toBeNull();
    }
  });
});
