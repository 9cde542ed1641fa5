/**
 * The live model through the real server: every prediction logged with its request id, a
 * shadow challenger scored beside the champion, labels posted to /feedback, the experiment's
 * verdict on GET /experiment, live evaluations, drift of the logged inputs, and the labelled
 * traffic ingested as training data.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, genData, project, read, startServe } from '../helpers.js';

const post = (url: string, route: string, body: unknown, id?: string) =>
  fetch(url + route, { method: 'POST', headers: { 'content-type': 'application/json', ...(id ? { 'x-request-id': id } : {}) }, body: JSON.stringify(body) });

describe('mlops serve with a shadow challenger', () => {
  it('logs, joins feedback, gives a verdict, scores live traffic and feeds the next training', async () => {
    const dir = project({ config: { live: { flush_ms: 50 } } });
    expect(cli(dir, 'run').code).toBe(0);
    writeFileSync(join(dir, 'config.json'), read(join(dir, 'config.json')).replace('"live"', '"model": {"C": 0.01}, "live"'));
    expect(cli(dir, 'train').code).toBe(0);
    expect(cli(dir, 'experiment', 'start', '--challenger', 'v0002', '--mode', 'shadow').code).toBe(0);
    const { url, child } = await startServe(dir);
    const rows = read(join(dir, 'testdata/testdata.csv')).trim().split('\n').slice(1).map((l) => l.split(','));
    for (let k = 0; k < 40; k++) {
      const r = rows[k % rows.length]!;
      const res = await post(url, '/prediction', { rows: [{ lastmonth_activity: Number(r[1]) + k, lastyear_activity: Number(r[2]), number_of_employees: Number(r[3]) }] }, `q${k}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { request_id: string }).request_id).toBe(`q${k}`);
    }
    const fb = await post(url, '/feedback', { items: Array.from({ length: 30 }, (_, k) => ({ request_id: `q${k}`, label: k % 2 })) });
    expect(fb.status).toBe(200);
    expect(await fb.json()).toMatchObject({ accepted: 30, unknown: 0 });
    expect((await post(url, '/feedback', { request_id: 'never', label: 1 })).status).toBe(404);
    const exp = (await (await fetch(url + '/experiment')).json()) as { experiment: { challenger: string }; verdict: { decision: string; n: number } };
    expect(exp.experiment.challenger).toBe('v0002');
    expect(exp.verdict.n).toBe(30);
    expect(exp.verdict.decision).toBe('continue');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    // every prediction logged once, with the shadow's answer beside the champion's
    const seg = join(dir, 'ingesteddata/predictions');
    const lines = readdirSync(seg).flatMap((f) => readFileSync(join(seg, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l) as { request_id: string; version: string; shadow?: { version: string }[] });
    expect(lines).toHaveLength(40);
    expect(lines.every((l) => l.version === 'v0001' && l.shadow?.[0]?.version === 'v0002')).toBe(true);
    const live = cliJson<{ version: string; rows: number; recorded: boolean }[]>(dir, 'score', '--role', 'live');
    // the champion's answers, and the shadow's scored on the same labels
    expect(live.map((x) => [x.version, x.rows, x.recorded])).toEqual([['v0001', 30, true], ['v0002', 30, true]]);
    expect(read(join(dir, 'practicemodels/score_history.jsonl'))).toContain('"role":"live"');
    const d = cli(dir, 'drift', '--only', 'data', '--current', 'live', '--since', '1h');
    expect([0, 4]).toContain(d.code);
    expect(d.stdout).toMatch(/live traffic since/);
    const fed = cliJson<{ files: { name: string }[]; rows_written: number }>(dir, 'ingest', '--from-feedback');
    expect(fed.files.some((f) => /^feedback-.*\.csv$/.test(f.name))).toBe(true);
    expect(cli(dir, 'experiment', 'stop').code).toBe(0);
    expect(cliJson<{ experiment: { status: string } }>(dir, 'experiment', 'status').experiment.status).toBe('stopped');
  });

  it('promotion.auto: a challenger found better on labelled live traffic is promoted through the gate', async () => {
    const dir = project({ classic: false, config: { promotion: { auto: true }, live: { flush_ms: 50 }, model: { C: 1e-7 } } });
    genData('--rows', '4000', '--files', '1', '--out', join(dir, 'practicedata'), '--seed', '5');
    genData('--rows', '1500', '--files', '1', '--out', join(dir, 'testdata'), '--seed', '6');
    expect(cli(dir, 'run').code).toBe(0); // v0001: all but intercept-only, a poor champion
    writeFileSync(join(dir, 'config.json'), read(join(dir, 'config.json')).replace('"C": 1e-7', '"C": 1'));
    expect(cli(dir, 'train').code).toBe(0);
    expect(cli(dir, 'experiment', 'start', '--challenger', 'v0002', '--mode', 'shadow').code).toBe(0);
    const { url, child } = await startServe(dir);
    const lines = read(join(dir, 'testdata', readdirSync(join(dir, 'testdata'))[0]!)).trim().split('\n');
    const header = lines[0]!.split(',');
    const at = (c: string) => header.indexOf(c);
    const labels: { request_id: string; label: number }[] = [];
    for (let k = 1; k < lines.length; k++) {
      const r = lines[k]!.split(',');
      const row = Object.fromEntries(['lastmonth_activity', 'lastyear_activity', 'number_of_employees'].map((c) => [c, r[at(c)] === '' ? null : Number(r[at(c)])]));
      const res = await post(url, '/prediction', { rows: [row] }, `p${k}`);
      expect(res.status).toBe(200);
      if (r[at('exited')] !== '') labels.push({ request_id: `p${k}`, label: Number(r[at('exited')]) });
    }
    expect((await post(url, '/feedback', { items: labels })).status).toBe(200);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const st = cliJson<{ verdict: { decision: string }; auto: string | null }>(dir, 'experiment', 'status');
    expect(st.verdict.decision).toBe('challenger_better');
    expect(st.auto).toBe('promoted');
    const models = cliJson<{ models: { name: string; aliases: string[] }[] }>(dir, 'models');
    expect(models.models.find((m) => m.aliases.includes('champion'))?.name).toBe('v0002');
    expect(read(join(dir, 'practicemodels/registry/events.jsonl'))).toMatch(/"kind":"promoted","version":2.*live experiment/);
    expect(cliJson<{ experiment: { status: string } }>(dir, 'experiment', 'status').experiment.status).toBe('stopped');
  });
});
