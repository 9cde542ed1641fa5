import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsError, lineOfDuckDbLine, lineOfRow, listCsvFiles, parseCsvRecords, readCsvHeader, rowOfLine, skippedNote } from '../../src/data/csvfiles.js';
import { literalGlob } from '../../src/data/table.js';

describe('csv files', () => {
  it('splits quoted fields', () => {
    expect(parseCsvRecords('a,"b,c","d ""e"""', 'p')[0]!.fields).toEqual(['a', 'b,c', 'd "e"']);
    expect(parseCsvRecords('a,,b', 'p')[0]!.fields).toEqual(['a', '', 'b']);
    // a sample cut inside a quoted field: lenient parsing keeps the records before it
    expect(parseCsvRecords('1,2\n"3,4', 'p', true).map((r) => r.fields)).toEqual([['1', '2']]);
    expect(() => parseCsvRecords('1,2\n"3,4', 'p')).toThrow(/p: line 2: cannot parse CSV: unterminated or misplaced quote/);
  });

  it('lists data files in code-point order and names the rest that is not hidden', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mlops-csv-'));
    for (const n of ['b.csv', 'A.CSV', 'a.csv', 'c.csv.gz', 'd.PARQUET', '.hidden.csv', 'notes.txt', 'x.gz']) writeFileSync(join(d, n), 'x,y\n1,2\n');
    mkdirSync(join(d, 'old.csv'));
    const l = await listCsvFiles(d);
    expect(l.csv.map((f) => f.name)).toEqual(['A.CSV', 'a.csv', 'b.csv', 'c.csv.gz', 'd.PARQUET']);
    expect(l.ignored).toEqual(['.hidden.csv', 'notes.txt', 'old.csv', 'x.gz']);
    expect(l.skipped).toEqual(['notes.txt', 'old.csv/', 'x.gz']);
    expect(skippedNote(l.skipped)).toBe('skipped 3 files that are not data (.csv, .csv.gz, .parquet): "notes.txt", "old.csv/", "x.gz"');
    expect(skippedNote([])).toBeNull();
  });

  it("maps DuckDB's record-numbered error lines and lines to rows", async () => {
    const d = mkdtempSync(join(tmpdir(), 'mlops-csv-'));
    // DuckDB counts the blank line 3 as a record and not the quoted break of line 4
    writeFileSync(join(d, 'x.csv'), 'a,b\n1,2\n\n"m\nn",2\nq,x\n');
    expect(await lineOfDuckDbLine(join(d, 'x.csv'), 5)).toBe(6);
    expect(await lineOfDuckDbLine(join(d, 'x.csv'), 2)).toBe(2);
    // rows as parseCsvRecords counts them (blank lines skipped): the line of a record, or any line it spans
    expect(await rowOfLine(join(d, 'x.csv'), 2)).toBe(1);
    expect(await rowOfLine(join(d, 'x.csv'), 4)).toBe(2);
    expect(await rowOfLine(join(d, 'x.csv'), 5)).toBe(2);
    expect(await rowOfLine(join(d, 'x.csv'), 6)).toBe(3);
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

  it('finds the line of a data row as parseCsvRecords splits the file', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mlops-csv-'));
    const text = '\ufeffa,b\r\n1,"x\ny"\n\n2,a"b\r\n\r\n3,"q""\n"\n4,5';
    writeFileSync(join(d, 'x.csv'), text);
    const records = parseCsvRecords(text, 'p').slice(1);
    const lines = [];
    for (let r = 0; r <= records.length; r++) lines.push(await lineOfRow(join(d, 'x.csv'), r));
    expect(lines).toEqual([...records.map((r) => r.line), undefined]);
    expect(lines).toEqual([2, 5, 7, 9, undefined]);
  });

  it('escapes glob characters for DuckDB', () => {
    expect(literalGlob('/d/*.csv')).toBe('/d/[*].csv');
    expect(literalGlob('/d[1]/a?.csv')).toBe('/d[[]1]/a[?].csv');
  });

  it('refuses a dangling link, a link loop and an unreadable file, naming it', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mlops-csv-'));
    writeFileSync(join(d, 'a.csv'), 'x,y\n1,2\n');
    symlinkSync(join(d, 'gone.csv'), join(d, 'dangling.csv'));
    await expect(listCsvFiles(d)).rejects.toThrow(/dangling\.csv: a symbolic link to ".*gone\.csv", which does not exist/);
    const e = mkdtempSync(join(tmpdir(), 'mlops-csv-'));
    symlinkSync(join(e, 'loop.csv'), join(e, 'loop.csv'));
    await expect(listCsvFiles(e)).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/loop\.csv: a symbolic link loop/) });
    // dangling links with other names are not data: ignored like any other non-.csv entry
    const f = mkdtempSync(join(tmpdir(), 'mlops-csv-'));
    symlinkSync(join(f, 'gone'), join(f, 'notes.txt'));
    expect((await listCsvFiles(f)).ignored).toEqual(['notes.txt']);
    const g = join(f, 'locked.csv');
    writeFileSync(g, 'x,y\n1,2\n');
    chmodSync(g, 0);
    // root reads a chmod 000 file anyway: nothing to refuse then
    expect(fsError(g, Object.assign(new Error('EACCES'), { code: 'EACCES' }))).toMatchObject({ exitCode: 2 });
    if (process.getuid?.() !== 0) {
      await expect(readCsvHeader(g)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/locked\.csv: cannot read \(permission denied\)/) });
    }
  });
});
