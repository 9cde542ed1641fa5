/**
 * Input folders with .csv, .csv.gz and .parquet files: read like the same rows in plain CSV
 * files, recorded by the input files' own bytes, skipped by the loop when unchanged, and a
 * corrupt file is exit 3 naming it with every earlier output intact.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { withDb } from '../../src/data/duck.js';
import { CLASSIC, cli, cliJson, project, read } from '../helpers.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The classic practice data as three files of rows: a.csv, b.csv, c.csv (header on each). */
function classicParts(): [string, string, string] {
  const [h1, ...r1] = read(join(CLASSIC, 'practicedata', 'dataset1.csv')).trim().split('\n');
  const [, ...r2] = read(join(CLASSIC, 'practicedata', 'dataset2.csv')).trim().split('\n');
  const half = Math.floor(r2.length / 2);
  const file = (rows: string[]) => `${h1}\n${rows.join('\n')}\n`;
  return [file(r1), file(r2.slice(0, half)), file(r2.slice(half))];
}

/** Write `csv` as a Parquet file at `path` (DuckDB's types for its columns). */
async function writeParquet(path: string, csv: string): Promise<void> {
  const tmp = `${path}.tmp.csv`;
  writeFileSync(tmp, csv);
  await withDb((db) => db.exec(`COPY (SELECT * FROM read_csv('${tmp}')) TO '${path}' (FORMAT parquet)`));
  rmSync(tmp);
}

/** A project whose practicedata holds a.csv, b.csv.gz and c.parquet with the classic rows. */
async function mixedProject(): Promise<string> {
  const dir = project({ classic: false });
  const [a, b, c] = classicParts();
  const input = join(dir, 'practicedata');
  writeFileSync(join(input, 'a.csv'), a);
  writeFileSync(join(input, 'b.csv.gz'), gzipSync(b));
  await writeParquet(join(input, 'c.parquet'), c);
  writeFileSync(join(dir, 'testdata', 'testdata.csv'), read(join(CLASSIC, 'testdata', 'testdata.csv')));
  return dir;
}

interface Ingested {
  files: { name: string; size: number; sha256: string; rows: number }[];
  rows_read: number;
  rows_written: number;
  roles: { name: string; role: string; reason: string }[];
}

describe('.csv, .csv.gz and .parquet inputs', () => {
  let dir: string;
  let ingested: Ingested;
  beforeAll(async () => {
    dir = await mixedProject();
    ingested = cliJson<Ingested>(dir, 'ingest');
  });

  it('ingest gives the finaldata.csv of the same rows as plain CSV files, byte for byte', () => {
    const plain = project({ classic: false });
    classicParts().forEach((text, i) => writeFileSync(join(plain, 'practicedata', `${'abc'[i]}.csv`), text));
    expect(cli(plain, 'ingest').code).toBe(0);
    expect(read(join(dir, 'ingesteddata/finaldata.csv'))).toBe(read(join(plain, 'ingesteddata/finaldata.csv')));
  });

  it('records each input file by its own name, size and bytes', () => {
    const input = join(dir, 'practicedata');
    expect(ingested.files.map((f) => f.name)).toEqual(['a.csv', 'b.csv.gz', 'c.parquet']);
    for (const f of ingested.files) {
      expect(f.sha256).toBe(sha256(join(input, f.name)));
      expect(f.size).toBe(readFileSync(join(input, f.name)).length);
    }
    const [a, b, c] = classicParts();
    expect(ingested.files.map((f) => f.rows)).toEqual([a, b, c].map((t) => t.trim().split('\n').length - 1));
    expect(read(join(dir, 'ingesteddata/ingestedfiles.txt'))).toBe('a.csv\nb.csv.gz\nc.parquet\n');
    // no copy is left in the input folder
    expect(readdirSync(input).sort()).toEqual(['a.csv', 'b.csv.gz', 'c.parquet']);
  });

  it('ingest --json gives every column its role and why, as diagnose does; the record holds no roles', () => {
    expect(ingested.roles).toEqual([
      { name: 'corporation', role: 'identifier', reason: expect.stringMatching(/distinct values in \d+ rows/) as unknown as string },
      { name: 'lastmonth_activity', role: 'numeric', reason: 'integers' },
      { name: 'lastyear_activity', role: 'numeric', reason: 'integers' },
      { name: 'number_of_employees', role: 'numeric', reason: 'integers' },
      { name: 'exited', role: 'target', reason: 'the target' },
    ]);
    // of the rows written (duplicates dropped), as diagnose sees finaldata.csv
    expect(cliJson<{ roles: unknown }>(dir, 'diagnose').roles).toEqual(ingested.roles);
    const log = read(join(dir, 'ingesteddata/ingestion_log.jsonl')).trim().split('\n');
    expect(JSON.parse(log.at(-1)!)).not.toHaveProperty('roles');
    const human = cli(dir, 'ingest').stdout;
    expect(human).toMatch(/column\s+role\s+why/);
    expect(human).toMatch(/corporation\s+identifier\s+\d+ distinct values/);
    expect(human).toMatch(/exited\s+target\s+the target/);
  });

  it('the loop: a second run with nothing new does no work; a changed .parquet is new data', async () => {
    const first = cli(dir, '--json', 'run');
    expect(first.code, first.stderr).toBe(0);
    const second = JSON.parse(cli(dir, '--json', 'run').stdout) as { decision: string; steps: { step: string }[] };
    expect(second.decision).toBe('no new data');
    expect(second.steps.map((s) => s.step)).toEqual(['check']);
    const [, , c] = classicParts();
    await writeParquet(join(dir, 'practicedata', 'c.parquet'), `${c}zzzz,1,2,3,1\n`);
    const third = cli(dir, '--json', 'run');
    expect([0, 4]).toContain(third.code);
    const rec = JSON.parse(third.stdout) as { decision: string; new_files: string[] };
    expect(rec.new_files).toEqual(['c.parquet']);
    expect(rec.decision).not.toBe('no new data');
  });

  it('score --data, predict --input and test data take .csv.gz and .parquet files', async () => {
    const test = read(join(CLASSIC, 'testdata', 'testdata.csv'));
    writeFileSync(join(dir, 't.csv'), test);
    writeFileSync(join(dir, 't.csv.gz'), gzipSync(test));
    await writeParquet(join(dir, 't.parquet'), test);
    const metrics = (p: string) => (cliJson<{ metrics: Record<string, number> }>(dir, 'score', '--data', p)).metrics;
    expect(metrics('t.csv.gz')).toEqual(metrics('t.csv'));
    expect(metrics('t.parquet')).toEqual(metrics('t.csv'));
    const preds = (p: string) => cliJson<{ predictions: unknown[] }>(dir, 'predict', '--input', p).predictions;
    expect(preds('t.parquet')).toEqual(preds('t.csv'));
    expect(preds('t.csv.gz')).toEqual(preds('t.csv'));
    // the reference test set as a Parquet file
    rmSync(join(dir, 'testdata', 'testdata.csv'));
    await writeParquet(join(dir, 'testdata', 'testdata.parquet'), test);
    const s = cliJson<{ data_files: { name: string; sha256: string }[] }>(dir, 'score');
    expect(s.data_files.map((f) => [f.name, f.sha256])).toEqual([['testdata.parquet', sha256(join(dir, 'testdata', 'testdata.parquet'))]]);
  });
});

describe('bad .csv.gz and .parquet inputs', () => {
  let dir: string;
  let before: Record<string, string>;
  const outputs = ['finaldata.csv', 'ingestedfiles.txt', 'ingestion_log.jsonl'];
  beforeAll(async () => {
    dir = await mixedProject();
    expect(cli(dir, 'ingest').code).toBe(0);
    before = Object.fromEntries(outputs.map((o) => [o, read(join(dir, 'ingesteddata', o))]));
  });
  const intact = (added: string) => {
    for (const o of outputs) expect(read(join(dir, 'ingesteddata', o)), o).toBe(before[o]);
    // no copy left in the input folder
    expect(readdirSync(join(dir, 'practicedata')).sort()).toEqual(['a.csv', 'b.csv.gz', 'c.parquet', added].sort());
  };
  const fails = (name: string, content: string | Buffer, expected: RegExp) => {
    const path = join(dir, 'practicedata', name);
    writeFileSync(path, content);
    try {
      const r = cli(dir, 'ingest');
      expect(r.code, r.stdout).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(expected);
      intact(name);
    } finally {
      rmSync(path);
    }
  };

  it('a truncated .csv.gz: exit 3 naming it', () => {
    const whole = gzipSync(classicParts()[1]);
    fails('d.csv.gz', whole.subarray(0, whole.length - 20), /practicedata\/d\.csv\.gz: not a readable gzip file/);
  });

  it('a .csv.gz that is not gzip: exit 3 naming it', () => {
    fails('d.csv.gz', 'corporation,exited\n', /d\.csv\.gz: not a readable gzip file \(incorrect header check\)/);
  });

  it('a corrupt .parquet: exit 3 naming it', () => {
    fails('d.parquet', Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 7), Buffer.from('PAR1')]), /practicedata\/d\.parquet: not a readable Parquet file/);
  });

  it('a bad value in a .csv.gz: its real line; in a .parquet: its row', async () => {
    const [a] = classicParts();
    const lines = a.trim().split('\n');
    lines[3] = lines[3]!.replace(/,\d+,/, ',lots,');
    fails('d.csv.gz', gzipSync(lines.join('\n') + '\n'), /d\.csv\.gz: line 4: column "lastmonth_activity" holds "lots", not a number/);
    // a quoted line break before the bad row: lines and rows part ways
    const tmp = join(dir, 'x.parquet');
    await withDb((db) =>
      db.exec(
        `COPY (SELECT CASE WHEN i = 1 THEN 'two' || chr(10) || 'lines' ELSE 'c' || i END AS corporation, ` +
          `CASE WHEN i = 4 THEN 'lots' ELSE '1' END AS lastmonth_activity, 2 AS lastyear_activity, 3 AS number_of_employees, ` +
          `i % 2 AS exited FROM range(8) t(i)) TO '${tmp}' (FORMAT parquet)`,
      ),
    );
    fails('d.parquet', readFileSync(tmp), /practicedata\/d\.parquet: row 5: column "lastmonth_activity" holds "lots", not a number/);
    await withDb((db) =>
      db.exec(`COPY (SELECT 'c' || i AS corporation, 1 AS lastmonth_activity, 2 AS lastyear_activity, 3 AS number_of_employees, CASE WHEN i = 6 THEN 2 ELSE i % 2 END AS exited FROM range(8) t(i)) TO '${tmp}' (FORMAT parquet)`),
    );
    fails('d.parquet', readFileSync(tmp), /d\.parquet: row 7: target column "exited" holds a third value 2/);
    rmSync(tmp);
  });

  it('a stray notes.txt is named in the normal output (of ingest, and of the loop\'s ingest step)', () => {
    writeFileSync(join(dir, 'practicedata', 'notes.txt'), 'hello');
    try {
      const r = cli(dir, 'ingest');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('skipped 1 file that is not data (.csv, .csv.gz, .parquet): "notes.txt"');
      const run = cli(dir, 'run');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('skipped 1 file that is not data (.csv, .csv.gz, .parquet): "notes.txt"');
    } finally {
      rmSync(join(dir, 'practicedata', 'notes.txt'));
    }
  });
});

describe('Parquet values', () => {
  it('every double and float of a Parquet file reads back as DuckDB reads it', async () => {
    const dir = project({ classic: false });
    const pq = join(dir, 'practicedata', 'v.parquet');
    const expected = await withDb(async (db) => {
      await db.exec(
        `COPY (SELECT 'r' || i AS name, random() * 1e6 - 5e5 AS d, (random() * 1e-300) AS tiny, (random() * 3)::FLOAT AS f, ` +
          `CASE WHEN i % 7 = 0 THEN NULL ELSE random() END AS m, i % 2 AS exited FROM range(3000) t(i)) TO '${pq}' (FORMAT parquet)`,
      );
      return db.rows<{ d: number; tiny: number; f: number; m: number | null }>(`SELECT d, tiny, f::DOUBLE AS f, m FROM read_parquet('${pq}')`);
    });
    expect(cli(dir, 'ingest').code).toBe(0);
    const rows = read(join(dir, 'ingesteddata/finaldata.csv')).trim().split('\n');
    expect(rows[0]).toBe('name,d,tiny,f,m,exited');
    const got = rows.slice(1).map((l) => l.split(','));
    expect(got).toHaveLength(expected.length);
    got.forEach((cells, i) => {
      const e = expected[i]!;
      expect([Number(cells[1]), Number(cells[2]), Number(cells[3]), cells[4] === '' ? null : Number(cells[4])]).toEqual([e.d, e.tiny, e.f, e.m]);
    });
  });
});
