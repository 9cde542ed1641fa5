/**
 * The columnar copy beside finaldata.csv (issue 13): train reads it instead of parsing the CSV,
 * with the same model; a damaged, truncated or stale copy, or a hand-edited finaldata.csv, gives
 * the CSV's answer.
 */
import { existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, genData, project, read } from '../helpers.js';

const trainVersion = (dir: string) => {
  const r = cli(dir, '--json', 'train');
  expect(r.code).toBe(0);
  const j = JSON.parse(r.stdout) as { version: number; model: { linear: { coefficients: number[] } } };
  return { version: j.version, coefficients: j.model.linear.coefficients, timing: r.stderr };
};

describe('the columnar copy of finaldata.csv', () => {
  it("gives the CSV reader's model, and the CSV's answer when damaged, truncated, stale or hand-edited", () => {
    const dir = project({ classic: false });
    // over 1 MiB, so the CSV would be read by DuckDB
    genData('--rows', '70000', '--files', '2', '--out', join(dir, 'practicedata'), '--seed', '3');
    genData('--rows', '500', '--files', '1', '--out', join(dir, 'testdata'), '--seed', '4');
    expect(cli(dir, 'ingest').code).toBe(0);
    const copy = join(dir, 'ingesteddata/finaldata.columns');
    const final = join(dir, 'ingesteddata/finaldata.csv');
    expect(existsSync(copy)).toBe(true);
    const viaCopy = trainVersion(dir);
    const bytes = readFileSync(copy);
    // without the copy: the CSV, the same model (so the same registered version)
    rmSync(copy);
    expect(trainVersion(dir)).toMatchObject({ version: viaCopy.version, coefficients: viaCopy.coefficients });
    // a flipped byte in a column block: its CRC fails, the CSV is read
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 100]! ^= 0xff;
    writeFileSync(copy, damaged);
    expect(trainVersion(dir).version).toBe(viaCopy.version);
    // truncated
    writeFileSync(copy, bytes);
    truncateSync(copy, Math.floor(bytes.length / 2));
    expect(trainVersion(dir).version).toBe(viaCopy.version);
    // a hand edit of finaldata.csv: the edit counts, whatever the copy says
    writeFileSync(copy, bytes);
    const lines = read(final).split('\n');
    const cells = lines[1]!.split(',');
    cells[1] = String(Number(cells[1]) + 12345);
    lines[1] = cells.join(',');
    writeFileSync(final, lines.join('\n'));
    const edited = trainVersion(dir);
    expect(edited.version).not.toBe(viaCopy.version);
    rmSync(copy);
    expect(trainVersion(dir).coefficients).toEqual(edited.coefficients);
    expect(statSync(final).size).toBeGreaterThan(1 << 20);
    // a fresh ingest writes the copy again, and score and diagnose are unchanged by it
    expect(cli(dir, 'ingest').code).toBe(0);
    expect(existsSync(copy)).toBe(true);
    expect(cliJson<{ version: number }>(dir, 'train').version).toBe(viaCopy.version);
  });
});
