/**
 * The JavaScript reader for small files against the DuckDB path: same numbers, same row
 * counts and hashes, same errors (file, line, column) for every kind of bad file.
 */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDataset, type DatasetSpec } from '../dataset.js';
import { withDb } from '../../src/data/duck.js';
import { parseCsvRecords } from '../../src/data/csvfiles.js';

const HEADER = 'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited';
const spec: DatasetSpec = { target: 'exited', name: 't' };

function files(contents: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-small-'));
  return contents.map((c, i) => {
    const path = join(dir, `f${i}.csv`);
    writeFileSync(path, c);
    return { path, name: `f${i}.csv`, size: statSync(path).size };
  });
}

const viaJs = (f: ReturnType<typeof files>) => readDataset(f, spec);
const viaDuck = (f: ReturnType<typeof files>) => withDb((db) => readDataset(f, spec, db));

describe('small-file reader', () => {
  it('reads the same numbers, rows and hashes as DuckDB', async () => {
    const f = files([
      `\ufeff${HEADER}\r\nab,1,2,3,0\r\n"c,d",,5.5,NA,1\r\n\r\nef,7,8,9,\r\n`,
      'exited,number_of_employees,corporation,lastyear_activity,lastmonth_activity\n1,4,"two\nlines",6,"7"\n0,1e3,"q""uote",-2.5,+3',
    ]);
    const [a, b] = [await viaJs(f), await viaDuck(f)];
    expect(a.features).toEqual(b.features);
    expect(a.features).toEqual(['lastmonth_activity', 'lastyear_activity', 'number_of_employees']);
    expect(a.X.map((c) => Array.from(c))).toEqual(b.X.map((c) => Array.from(c)));
    expect(Array.from(a.y!)).toEqual(Array.from(b.y!));
    expect([a.rows, a.unlabelled]).toEqual([b.rows, b.unlabelled]);
    expect(a.table.files.map((x) => [x.rows, x.sha256])).toEqual(b.table.files.map((x) => [x.rows, x.sha256]));
    expect(a.table.columns.map((c) => [c.name, c.missing])).toEqual(b.table.columns.map((c) => [c.name, c.missing]));
  });

  const bad: [string, string, RegExp][] = [
    ['too many fields', `${HEADER}\nab,1,2,3,0\ncd,1,2,3,0,9\n`, /f0\.csv: line 3: cannot parse CSV: expected 5 fields, found 6/],
    ['too few fields', `${HEADER}\nab,1,2,3\n`, /f0\.csv: line 2: cannot parse CSV: expected 5 fields, found 4/],
    ['an unterminated quote', `${HEADER}\n"ab,1,2,3,0\n`, /f0\.csv: line 2: cannot parse CSV: unterminated or misplaced quote/],
    ['a non-numeric value', `${HEADER}\nab,1,2,3,0\ncd,1,lots,3,0\n`, /f0\.csv: line 3: column "lastyear_activity" holds "lots", not a number/],
    ['an infinite value', `${HEADER}\nab,1,2,3,0\ncd,1,2,-inf,0\n`, /f0\.csv: line 3: column "number_of_employees" holds -Infinity, not a finite number/],
    ['a header-only file', `${HEADER}\n`, /f0\.csv: has a header but no data rows/],
    ['a label that is neither class of a 0/1 model', `${HEADER}\nab,1,2,3,2\n`, /f0\.csv: line 2: target column "exited" holds 2, which is neither class of the model/],
    [
      'a label 0.5 after a quoted line break and a blank line',
      `${HEADER}\n"a\nb",1,2,3,0\n\ncd,1,2,3,0.5\n`,
      /f0\.csv: line 5: target column "exited" holds 0\.5, which is neither class of the model/,
    ],
    [
      'an infinite value after a quoted line break',
      `${HEADER}\n"a\nb",1,2,3,0\ncd,1,2,inf,0\n`,
      /f0\.csv: line 4: column "number_of_employees" holds Infinity, not a finite number/,
    ],
    [
      'a bad value after mixed CRLF and LF line endings',
      `${HEADER}\r\nab,1,2,3,0\ncd,1,2,3,1\r\nef,1,x,3,0\n`,
      /f0\.csv: line 4: column "lastyear_activity" holds "x", not a number/,
    ],
    ['an empty file', '', /f0\.csv: file is empty/],
  ];
  for (const [name, content, message] of bad) {
    it(`${name}: the same error as DuckDB`, async () => {
      const f = files([content]);
      await expect(viaJs(f)).rejects.toThrow(message);
      await expect(viaDuck(f)).rejects.toThrow(message);
    });
  }

  it('reads a file mixing CRLF and LF line endings like an LF one', async () => {
    const rows = ['ab,1,2,3,0', '"c\r\nd",4,5,6,1', 'ef,7,8,9,0', 'gh,1,1,1,1'];
    const mixed = files([`${HEADER}\r\n${rows[0]}\n${rows[1]}\r\n${rows[2]}\n${rows[3]}\r\n`])
    const lf = files([`${HEADER}\n${rows.join('\n')}\n`]);
    const [a, b, ref] = [await viaJs(mixed), await viaDuck(mixed), await viaJs(lf)];
    for (const x of [a, b]) {
      expect(x.X.map((c) => Array.from(c))).toEqual(ref.X.map((c) => Array.from(c)));
      expect(Array.from(x.y!)).toEqual(Array.from(ref.y!));
      expect(x.table.files.map((f) => [f.rows, f.sha256])).toEqual(a.table.files.map((f) => [f.rows, f.sha256]));
    }
    expect(a.rows).toBe(4);
  });

  it('splits records as RFC 4180, a quote opening a field only at its start', () => {
    const r = parseCsvRecords('a,b\n1,"x\ny"\n2,a"b\n\n3,""\n', 'p');
    expect(r.map((x) => [x.line, x.fields])).toEqual([
      [1, ['a', 'b']],
      [2, ['1', 'x\ny']],
      [4, ['2', 'a"b']],
      [6, ['3', '']],
    ]);
  });
});
