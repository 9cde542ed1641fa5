import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listCsvFiles, parseCsvRecords, readCsvHeader } from '../../src/data/csvfiles.js';

describe('csv files', () => {
  it('splits quoted fields', () => {
    expect(parseCsvRecords('a,"b,c","d ""e"""', 'p')[0]!.fields).toEqual(['a', 'b,c', 'd "e"']);
    expect(parseCsvRecords('a,,b', 'p')[0]!.fields).toEqual(['a', '', 'b']);
    // a sample cut inside a quoted field: lenient parsing keeps the records before it
    expect(parseCsvRecords('1,2\n"3,4', 'p', true).map((r) => r.fields)).toEqual([['1', '2']]);
    expect(() => parseCsvRecords('1,2\n"3,4', 'p')).toThrow(/p: line 2: cannot parse CSV: unterminated or misplaced quote/);
  });

  it('lists .csv files in code-point order and ignores the rest', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mlops-csv-'));
    for (const n of ['b.csv', 'A.CSV', 'a.csv', '.hidden.csv', 'notes.txt']) writeFileSync(join(d, n), 'x,y\n1,2\n');
    const l = await listCsvFiles(d);
    expect(l.csv.map((f) => f.name)).toEqual(['A.CSV', 'a.csv', 'b.csv']);
    expect(l.ignored).toEqual(['.hidden.csv', 'notes.txt']);
  });

  it('reads a header with a BOM and CRLF, trimming names', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mlops-csv-'));
    writeFileSync(join(d, 'x.csv'), '\ufeff a ,b\r\n1,2\r\n');
    expect(await readCsvHeader(join(d, 'x.csv'))).toEqual(['a', 'b']);
    writeFileSync(join(d, 'y.csv'), 'a,,b\n');
    await expect(readCsvHeader(join(d, 'y.csv'))).rejects.toThrow(/column 2 of the header has no name/);
    writeFileSync(join(d, 'z.csv'), 'a,b,a\n');
    await expect(readCsvHeader(join(d, 'z.csv'))).rejects.toThrow(/column "a" appears twice/);
  });
});
