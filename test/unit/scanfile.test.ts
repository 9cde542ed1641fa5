import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, statSync, utimesSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFile } from '../../src/store/atomic.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('scanFile', () => {
  it('hashes and counts lines of a large file, and scans it again once it changed in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-scan-'));
    const path = join(dir, 'big.csv');
    // 5 MiB of lines (above the one-read size of 1 MiB), the last one without a newline
    const line = 'a,1,2\n';
    const body = Buffer.from(line.repeat(Math.ceil((5 << 20) / line.length)) + 'z,9,9');
    writeFileSync(path, body);
    // a whole-second modification time, so that putting it back below restores it exactly
    utimesSync(path, 1_000_000, 1_000_000);
    const lines = body.toString().split('\n').length;
    expect(await scanFile(path)).toEqual({ sha256: sha(body), lines });
    expect(await scanFile(path)).toEqual({ sha256: sha(body), lines });
    // one byte changed in place, same size, the modification time put back: still read again
    const before = statSync(path, { bigint: true });
    const fd = openSync(path, 'r+');
    writeSync(fd, 'b', 0);
    closeSync(fd);
    utimesSync(path, 1_000_000, 1_000_000);
    const after = statSync(path, { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    const changed = Buffer.from(body);
    changed[0] = 'b'.charCodeAt(0);
    expect(await scanFile(path)).toEqual({ sha256: sha(changed), lines });
  });
});
