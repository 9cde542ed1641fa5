/**
 * `mlops run` with the drift check on logged live traffic (drift.source "live", or --drift-from
 * live): no traffic, traffic like the training data, and shifted traffic, through the real
 * server and the real loop.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { championOf, cli, genData, project, read, startServe } from '../helpers.js';
import type { RunRecord } from '../../src/ops/run.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];

/** Serve the project, send every row of a generated CSV file as one-row requests, stop. */
async function traffic(dir: string, csv: string): Promise<void> {
  const { url, child } = await startServe(dir);
  const lines = read(csv).trim().split('\n');
  const header = lines[0]!.split(',');
  for (const line of lines.slice(1)) {
    const r = line.split(',');
    const row = Object.fromEntries(FEATURES.map((c) => [c, r[header.indexOf(c)] === '' ? null : Number(r[header.indexOf(c)])]));
    const res = await fetch(`${url}/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rows: [row] }) });
    expect(res.status).toBe(200);
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

const run = (dir: string, ...args: string[]) => {
  const r = cli(dir, '--json', 'run', ...args);
  return { code: r.code, stderr: r.stderr, rec: r.code === 0 || r.code === 4 ? (JSON.parse(r.stdout) as RunRecord) : null };
};

describe('mlops run, drift from live traffic', () => {
  it('no traffic, unshifted traffic, shifted traffic: the decision the loop takes, recorded', async () => {
    const dir = project({ classic: false, config: { live: { flush_ms: 50 } } });
    genData('--rows', '3000', '--out', join(dir, 'practicedata'), '--seed', '5');
    genData('--rows', '600', '--out', join(dir, 'testdata'), '--seed', '6');
    const gen = mkdtempSync(join(tmpdir(), 'mlops-live-traffic-'));
    genData('--rows', '300', '--out', gen, '--seed', '7', '--prefix', 'same.csv');
    genData('--rows', '300', '--out', gen, '--seed', '8', '--shift', '1', '--prefix', 'shifted.csv');
    expect(cli(dir, 'run').code).toBe(0); // bootstrap: v0001

    // nothing logged yet: a clear decision, exit 0, in the run history
    const none = run(dir, '--drift-from', 'live', '--since', '1h');
    expect(none.code).toBe(0);
    expect(none.rec).toMatchObject({ decision: 'no live traffic', drift_source: 'live' });
    expect(none.rec!.reason).toMatch(/^0 predictions logged since .*fewer than drift\.min_rows \(30\).*mlops serve/);
    const usage = cli(dir, 'run', '--since', '1h');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--since applies to the live drift check/);

    // traffic like the training data: no drift, nothing retrained
    await traffic(dir, join(gen, 'same.csv'));
    const same = run(dir, '--drift-from', 'live', '--since', '1h');
    expect(same.code).toBe(0);
    expect(same.rec).toMatchObject({ decision: 'no drift', drift_source: 'live' });
    expect(same.rec!.steps.map((s) => s.step)).toEqual(['check', 'drift']);
    expect(same.rec!.steps[1]!.detail).toMatch(/live traffic since .*: 300 predictions, [01] of 3 features drifted/);

    // shifted traffic, with the setting in config.json: drift; retrained on the same files the
    // model is the champion itself (exit 4); with the shifted labelled file, a new champion
    const t = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await traffic(dir, join(gen, 'shifted.csv'));
    const cfg = JSON.parse(read(join(dir, 'config.json'))) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, drift: { source: 'live', since: '1h' } }));
    const drifted = run(dir, '--since', t);
    expect(drifted.code).toBe(4);
    expect(drifted.rec).toMatchObject({ decision: 'drift: not deployed', drift_source: 'live', drift_since: t });
    expect(drifted.rec!.reason).toMatch(/identical to the champion v0001/);
    expect(drifted.rec!.steps.map((s) => s.step)).toEqual(['check', 'drift', 'ingest', 'train', 'score']);
    expect(drifted.rec!.steps[1]!.detail).toMatch(/300 predictions, [23] of 3 features drifted/);
    expect(read(join(dir, 'practicemodels/registry/events.jsonl'))).toMatch(/"kind":"drift_detected".*"source":"live"/);

    cpSync(join(gen, 'shifted.csv'), join(dir, 'practicedata', 'shifted.csv'));
    const retrained = run(dir, '--since', t, '--force');
    expect(retrained.code).toBe(0);
    expect(retrained.rec).toMatchObject({ decision: 'drift: redeployed', candidate: 2 });
    expect(retrained.rec!.reason).toMatch(/^data drift of the live traffic; v0002 is champion/);
    expect(championOf(dir)).toBe('v0002');
    const history = read(join(dir, 'ingesteddata', 'runs.jsonl'));
    expect(history.trim().split('\n').map((l) => (JSON.parse(l) as RunRecord).decision)).toEqual(['bootstrap: deployed', 'no live traffic', 'no drift', 'drift: not deployed', 'drift: redeployed']);
  });
});
