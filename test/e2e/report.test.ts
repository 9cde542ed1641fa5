/** mlops report: a real PNG, an HTML page with the numbers, earlier reports kept. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, genData, project, read } from '../helpers.js';

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(buf.subarray(12, 16).toString('ascii')).toBe('IHDR');
  expect(buf.subarray(-8, -4).toString('ascii')).toBe('IEND');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

describe('mlops report', () => {
  it('needs a deployed model', () => {
    const r = cli(project(), 'report');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nothing is deployed');
  });

  it('writes the confusion matrix PNG and a self-contained HTML page, and keeps earlier reports', () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    expect(cli(dir, 'diagnose').code).toBe(0);
    const first = cliJson<{ png: string; html: string; archive: string }>(dir, 'report');
    const png = readFileSync(first.png);
    const { width, height } = pngSize(png);
    expect(width).toBeGreaterThanOrEqual(300);
    expect(width).toBeLessThanOrEqual(2000);
    expect(height).toBeGreaterThanOrEqual(300);
    expect(height).toBeLessThanOrEqual(2000);
    expect(png.length).toBeGreaterThan(5000);

    const html = read(first.html);
    // the classic model on testdata.csv: F1 4/7, precision 0.5, recall 2/3, accuracy 0.4
    for (const s of ['0.5714', '0.5000', '0.6667', '0.4000', 'v0001', 'Confusion matrix', 'Score history', 'Drift', 'Diagnostics', 'Feature distributions']) {
      expect(html).toContain(s);
    }
    // confusion counts appear in the inline chart (tp 2, fp 2, fn 1, tn 0)
    expect(html).toMatch(/<svg[\s\S]*>2<\/text>[\s\S]*<\/svg>/);
    // summary statistics from diagnostics.json
    expect(html).toContain('165.6538');
    // self-contained: no scripts, no external fetches
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);

    const second = cliJson<{ archive: string }>(dir, 'report');
    expect(second.archive).not.toBe(first.archive);
    const kept = readdirSync(join(dir, 'practicemodels', 'reports'));
    expect(kept).toHaveLength(2);
    for (const k of kept) expect(readdirSync(join(dir, 'practicemodels', 'reports', k)).sort()).toEqual(['confusionmatrix.png', 'report.html']);
  });

  it('shows ROC, PR, calibration, distributions, the dated score history and the importances, and stays under 2 MB on 200,000 rows', () => {
    const dir = project({ classic: false });
    genData('--rows', '200000', '--files', '2', '--out', join(dir, 'practicedata'), '--seed', '1');
    genData('--rows', '5000', '--out', join(dir, 'testdata'), '--seed', '2');
    expect(cli(dir, 'run').code).toBe(0);
    genData('--rows', '100000', '--out', join(dir, 'practicedata'), '--shift', '0.5', '--seed', '3', '--prefix', 'shifted');
    expect([0, 4]).toContain(cli(dir, 'ingest').code);
    const r = cliJson<{ html: string }>(dir, 'report');
    const html = read(r.html);
    expect(Buffer.byteLength(html)).toBeLessThan(2 * 1024 * 1024);
    for (const s of ['ROC, release v0001', 'false positive rate', 'Precision-recall', 'Calibration', 'mean predicted probability', 'share of rows', 'lastmonth_activity', 'of the champions by date, releases marked', 'Importance (|coefficient| x std), release v0001', 'share of importance']) {
      expect(html, s).toContain(s);
    }
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(9);
  });
});
