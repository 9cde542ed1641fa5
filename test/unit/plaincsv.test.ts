import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { withPlainCsv } from '../../src/data/plaincsv.js';
import { loadSmallCsv } from '../../src/data/smallcsv.js';
import { isAlive } from '../../src/store/releases.js';

describe('plain copies of .csv.gz files', () => {
  it('are read like the CSV, named as the input in errors, and removed after', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mlops-plain-'));
    const path = join(d, 'a.csv.gz');
    writeFileSync(path, gzipSync('x,y\n1,2\n3,oops\n'));
    const file = { path, name: 'a.csv.gz', size: 1 };
    let copy = '';
    const err = await withPlainCsv([file], null, async (plain) => {
      copy = plain[0]!.plain!;
      expect(copy.startsWith(d)).toBe(false);
      return loadSmallCsv(plain, ['y']);
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe(`${path}: line 3: column "y" holds "oops", not a number`);
    expect(existsSync(copy)).toBe(false);
  });

  it("remove the copies a killed process left, never a running one's", async () => {
    let dead = 4_000_000;
    while (isAlive(dead)) dead--;
    const stale = join(tmpdir(), `mlops-inputs-${dead}-test`);
    const mine = join(tmpdir(), `mlops-inputs-${process.pid}-test`);
    mkdirSync(stale, { recursive: true });
    mkdirSync(mine, { recursive: true });
    const d = mkdtempSync(join(tmpdir(), 'mlops-plain-'));
    writeFileSync(join(d, 'a.csv.gz'), gzipSync('x,y\n1,2\n'));
    const rows = await withPlainCsv([{ path: join(d, 'a.csv.gz'), name: 'a.csv.gz', size: 1 }], null, async (plain) => (await loadSmallCsv(plain, [])).table.rows);
    expect(rows).toBe(1);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(mine)).toBe(true);
    rmSync(mine, { recursive: true });
  });
});
