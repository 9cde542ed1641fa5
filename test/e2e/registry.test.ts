/**
 * The model registry end to end, as a model owner walks it: bootstrap; an ad-hoc score that
 * changes nothing; shifted data whose candidate is rejected and remembered; compare; promote an
 * earlier version; roll back through the champions; hooks; identical content is one version;
 * a project made before the registry brought into it.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, genData, project, read } from '../helpers.js';

interface ModelsJson {
  metric: string;
  test_data_sha256: string;
  total: number;
  models: { version: number; name: string; aliases: string[]; value: number | null; training_rows: number }[];
}
interface Event {
  kind: string;
  version: number | null;
  alias: string | null;
  previous: number | null;
  reason: string;
  command: string;
  forced?: boolean;
}

const events = (dir: string): Event[] =>
  read(join(dir, 'practicemodels/registry/events.jsonl')).trim().split('\n').map((l) => JSON.parse(l) as Event);
const champion = (dir: string) => cliJson<ModelsJson>(dir, 'models').models.find((m) => m.aliases.includes('champion'))?.name;
const history = (dir: string) => read(join(dir, 'practicemodels/score_history.jsonl')).trim().split('\n').map((l) => JSON.parse(l));

describe('the registry walk', () => {
  const dir = project({
    classic: false,
    config: {
      // the candidate on shifted data must beat the champion by 50%: it will not
      promotion: { min_relative_change: 0.5 },
      hooks: [{ events: ['promoted', 'rejected', 'rolled_back', 'drift_detected'], command: 'cat >> hook-events.jsonl' }],
    },
  });
  genData('--rows', '4000', '--files', '2', '--dup', '0.02', '--out', join(dir, 'practicedata'), '--seed', '1');
  genData('--rows', '1000', '--out', join(dir, 'testdata'), '--seed', '2', '--prefix', 'testdata.csv');
  genData('--rows', '1000', '--out', join(dir, 'other'), '--seed', '7', '--prefix', 'other.csv', '--shift', '1.5');
  genData('--rows', '4000', '--files', '2', '--out', join(dir, 'incoming'), '--seed', '3', '--shift', '1.5', '--prefix', 'newdata');

  it('bootstrap registers v0001 and makes it champion', () => {
    const r = cliJson<{ decision: string; reason: string }>(dir, 'run');
    expect(r.decision).toBe('bootstrap: deployed');
    expect(r.reason).toMatch(/^first deployment: v0001 trained and made champion/);
    const m = cliJson<ModelsJson>(dir, 'models');
    expect(m.total).toBe(1);
    expect(m.models[0]).toMatchObject({ version: 1, aliases: ['champion'], training_rows: expect.any(Number) });
    expect(m.models[0]!.value).toBeGreaterThan(0.5);
    const manifest = JSON.parse(read(join(dir, 'production_deployment/current/manifest.json')));
    expect(manifest.model_version).toBe(1);
    expect(manifest.evaluation).toMatchObject({ role: 'test', data_files: ['testdata.csv'] });
  });

  it('an ad-hoc score is printed and recorded, and changes nothing else: drift finds no drift', () => {
    const latest = read(join(dir, 'practicemodels/latestscore.txt'));
    const r = cliJson<{ role: string; version: number; metrics: { f1: number } }>(dir, 'score', '--data', join(dir, 'other'));
    expect(r.role).toBe('adhoc');
    expect(r.version).toBe(1);
    expect(read(join(dir, 'practicemodels/latestscore.txt'))).toBe(latest);
    expect(history(dir).at(-1)).toMatchObject({ role: 'adhoc', version: 1 });
    const d = cli(dir, '--json', 'drift', '--only', 'model', '--test', 'raw');
    expect(d.code).toBe(0);
    const md = JSON.parse(d.stdout).model;
    expect(md.champion).toBe(1);
    // the verdict is about the champion's test evidence only; the ad-hoc record is not in it
    expect(md.compared.new.role).toBe('test');
    expect([md.compared.new, ...md.compared.previous].map((c: { role: string }) => c.role)).not.toContain('adhoc');
    // --role test is the reference test set only
    const bad = cli(dir, 'score', '--data', join(dir, 'other'), '--role', 'test');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/reference test set/);
  });

  it('shifted data: drift, a candidate that fails the gate is rejected and remembered; the next run does no work', () => {
    for (const f of readdirSync(join(dir, 'incoming'))) cpSync(join(dir, 'incoming', f), join(dir, 'practicedata', f));
    const r = cli(dir, '--json', 'run');
    expect(r.code).toBe(4);
    const rec = JSON.parse(r.stdout);
    expect(rec.decision).toBe('drift: not deployed');
    expect(rec.candidate).toBe(2);
    const gate = rec.steps.find((s: { step: string }) => s.step === 'gate');
    expect(gate.outcome).toBe('rejected');
    expect(gate.detail).toMatch(/relative improvement .* < min_relative_change 0.5/);
    expect(champion(dir)).toBe('v0001');
    const kinds = events(dir).map((e) => e.kind).filter((k) => k !== 'evaluated');
    expect(kinds).toEqual(['registered', 'promoted', 'drift_detected', 'registered', 'rejected']);
    // every recorded evaluation of a version is an event too: the champion on the new data, the candidate on the test set
    const evaluated = events(dir).filter((e) => e.kind === 'evaluated');
    expect(evaluated.map((e) => e.version)).toEqual(expect.arrayContaining([1, 2]));
    expect(evaluated.some((e) => /^new-data data/.test(e.reason))).toBe(true);
    // human output: the gate row says rejected
    const runs = read(join(dir, 'ingesteddata/runs.jsonl')).trim().split('\n');
    expect(JSON.parse(runs.at(-1)!).steps.find((s: { step: string }) => s.step === 'gate').outcome).toBe('rejected');

    const before = { hist: read(join(dir, 'practicemodels/score_history.jsonl')), ev: events(dir).length, ing: read(join(dir, 'ingesteddata/ingestion_log.jsonl')) };
    const again = cli(dir, 'run');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^no new data \(.*candidate v0002 rejected at .*: test \(\d+ rows\): f1 /);
    expect(read(join(dir, 'practicemodels/score_history.jsonl'))).toBe(before.hist);
    expect(read(join(dir, 'ingesteddata/ingestion_log.jsonl'))).toBe(before.ing);
    expect(events(dir)).toHaveLength(before.ev);
  });

  it('compare shows settings and every metric side by side with differences', () => {
    const c = cliJson<{ versions: string[]; rows: { field: string; values: unknown[]; differences: number[] | null; differs: boolean }[] }>(dir, 'models', 'compare', 'v0001', '2');
    expect(c.versions).toEqual(['v0001', 'v0002']);
    const row = (f: string) => c.rows.find((r) => r.field === f)!;
    for (const m of ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss']) expect(row(`metrics.${m}`).values).toHaveLength(2);
    expect(row('training_rows').differs).toBe(true);
    expect(row('training_rows').differences![1]).toBe((row('training_rows').values[1] as number) - (row('training_rows').values[0] as number));
    expect(row('settings.C').differs).toBe(false);
    const human = cli(dir, 'models', 'compare', 'v0001', 'v0002');
    expect(human.stdout).toMatch(/metrics\.f1/);
    expect(human.stdout).toMatch(/v0002 - v0001/);
  });

  it('promote: the gate refuses (exit 4, recorded), --force promotes and says so; an earlier version can be promoted back', () => {
    const refused = cli(dir, 'promote', 'v0002');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/v0002 failed the promotion gate/);
    expect(champion(dir)).toBe('v0001');
    const p = cliJson<{ changed: boolean; forced: boolean; release: { name: string } }>(dir, 'promote', 'v0002', '--force');
    expect(p).toMatchObject({ changed: true, forced: true, release: { name: 'v0002' } });
    expect(champion(dir)).toBe('v0002');
    expect(read(join(dir, 'production_deployment/ingestedfiles.txt'))).toContain('newdata1.csv');
    expect(events(dir).at(-1)).toMatchObject({ kind: 'promoted', version: 2, previous: 1, forced: true, command: 'mlops --json promote v0002 --force' });
    // back to the earlier version: its release is reused, not duplicated
    cliJson(dir, 'promote', 'v0001', '--force');
    expect(champion(dir)).toBe('v0001');
    expect(readdirSync(join(dir, 'production_deployment/releases')).filter((n) => !n.startsWith('.')).sort()).toEqual(['v0001', 'v0002']);
    // promoting the champion again changes nothing
    expect(cliJson<{ changed: boolean }>(dir, 'promote', 'champion')).toMatchObject({ changed: false });
    // another alias
    cliJson(dir, 'promote', 'v0002', '--alias', 'challenger');
    expect(cliJson<ModelsJson>(dir, 'models').models.find((m) => m.version === 2)!.aliases).toEqual(['challenger']);
    expect(cliJson<{ version: number }>(dir, 'score', '--model', 'challenger')).toMatchObject({ version: 2 });
  });

  it('rollback steps back through the champions, one more each time', () => {
    // champions so far: v0001, v0002, v0001
    expect(cliJson(dir, 'deploy', '--rollback')).toMatchObject({ from_version: 1, to_version: 2 });
    expect(champion(dir)).toBe('v0002');
    expect(cliJson(dir, 'deploy', '--rollback')).toMatchObject({ from_version: 2, to_version: 1 });
    expect(champion(dir)).toBe('v0001');
    const none = cli(dir, 'deploy', '--rollback');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/is the first release/);
  });

  it('the hook command received every chosen event as JSON', () => {
    const got = read(join(dir, 'hook-events.jsonl')).trim().split('\n').map((l) => JSON.parse(l) as Event);
    expect(got.map((e) => e.kind)).toEqual(events(dir).filter((e) => ['promoted', 'rejected', 'rolled_back', 'drift_detected'].includes(e.kind)).map((e) => e.kind));
    expect(got.find((e) => e.kind === 'rejected')).toMatchObject({ version: 2, alias: 'champion' });
  });

  it('models lists, sorts and limits; show tells a version whole', () => {
    const byMetric = cliJson<ModelsJson>(dir, 'models', '--sort', 'metric');
    const values = byMetric.models.map((m) => m.value!);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    expect(cliJson<ModelsJson>(dir, 'models', '--limit', '1').models).toHaveLength(1);
    expect(cli(dir, 'models', '--sort', 'bogus').code).toBe(2);
    const s = cliJson<{ version: { name: string; replaces: number; source: string }; evaluations: { role: string }[]; events: Event[] }>(dir, 'models', 'show', 'v0002');
    expect(s.version).toMatchObject({ name: 'v0002', replaces: 1, source: 'train' });
    expect(s.evaluations.map((e) => e.role)).toContain('test');
    expect(s.events.map((e) => e.kind)).toContain('rejected');
    const missing = cli(dir, 'models', 'show', 'v0099');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no model version v0099/);
  });
});

describe('identical content is one version', () => {
  it('retraining on the same data registers nothing new, and deploying the champion again makes no release', () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    const model = read(join(dir, 'practicemodels/trainedmodel.json'));
    const t = cliJson<{ version: number; created: boolean }>(dir, 'train');
    expect(t).toMatchObject({ version: 1, created: false });
    // the file keeps the registered bytes (its training time too)
    expect(read(join(dir, 'practicemodels/trainedmodel.json'))).toBe(model);
    expect(cli(dir, 'score').code).toBe(0);
    const d = cliJson<{ changed: boolean; model_version: number }>(dir, 'deploy');
    expect(d).toMatchObject({ changed: false, model_version: 1 });
    expect(readdirSync(join(dir, 'production_deployment/releases'))).toEqual(['v0001']);
    expect(cliJson<ModelsJson>(dir, 'models').total).toBe(1);
  });
});

describe('a project made before the registry', () => {
  it('its releases become versions on first use; champion and rollback keep working', () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    writeFileSync(join(dir, 'config.json'), read(join(dir, 'config.json')).replace('"practicedata"', '"sourcedata"'));
    for (const v of ['ingest', 'train', 'score', 'deploy']) expect(cli(dir, v).code).toBe(0);
    // forget the registry and the registry fields, as a release layout of the previous mlops
    rmSync(join(dir, 'practicemodels/registry'), { recursive: true });
    for (const r of ['v0001', 'v0002']) {
      const path = join(dir, 'production_deployment/releases', r, 'manifest.json');
      const m = JSON.parse(read(path));
      delete m.model_version;
      delete m.model_content_sha256;
      delete m.evaluation;
      writeFileSync(path, JSON.stringify(m));
    }
    const hist = join(dir, 'practicemodels/score_history.jsonl');
    writeFileSync(hist, read(hist).trim().split('\n').map((l) => {
      const r = JSON.parse(l);
      delete r.version;
      delete r.role;
      delete r.data_sha256;
      return JSON.stringify(r);
    }).join('\n') + '\n');
    const m = cliJson<ModelsJson>(dir, 'models');
    expect(m.models.map((x) => [x.name, x.aliases])).toEqual([['v0002', ['champion']], ['v0001', []]]);
    expect(m.models.every((x) => x.value !== null)).toBe(true);
    expect(events(dir).map((e) => `${e.kind} ${e.version}`)).toEqual(['registered 1', 'promoted 1', 'registered 2', 'promoted 2']);
    expect(cliJson(dir, 'deploy', '--rollback')).toMatchObject({ from: 2, to: 1, to_version: 1 });
    expect(champion(dir)).toBe('v0001');
    expect(existsSync(join(dir, 'practicemodels/registry/versions/v0002/model.json'))).toBe(true);
    expect(readFileSync(join(dir, 'production_deployment/trainedmodel.json'), 'utf8')).toBe(read(join(dir, 'practicemodels/registry/versions/v0001/model.json')));
  });
});

describe('holdout and keep_challenger', () => {
  it('new rows are held out of training and score both models; a losing candidate becomes the challenger', () => {
    const dir = project({ classic: false, config: { promotion: { holdout: 0.25, seed: 7, keep_challenger: true, min_relative_change: 0.5 } } });
    genData('--rows', '4000', '--files', '2', '--out', join(dir, 'practicedata'), '--seed', '1');
    genData('--rows', '1000', '--out', join(dir, 'testdata'), '--seed', '2', '--prefix', 'testdata.csv');
    expect(cli(dir, 'run').code).toBe(0);
    genData('--rows', '4000', '--files', '1', '--out', join(dir, 'practicedata'), '--seed', '3', '--shift', '1.5', '--prefix', 'newdata');
    const r = cli(dir, '--json', 'run');
    expect(r.code).toBe(4);
    const rec = JSON.parse(r.stdout);
    expect(rec.steps.map((s: { step: string }) => s.step)).toEqual(['check', 'ingest', 'drift', 'holdout', 'train', 'score', 'gate']);
    const held = Number(/^(\d+) new rows held out/.exec(rec.steps[3].detail)![1]);
    // about a quarter of the 4000 new rows
    expect(held).toBeGreaterThan(800);
    expect(held).toBeLessThan(1200);
    const gate = rec.steps[6].detail as string;
    expect(gate).toMatch(/test \(1000 rows\): f1 .*; holdout \(\d+ rows\): f1 /);
    expect(rec.reason).toMatch(/kept as challenger/);
    const show = cliJson<{ version: { settings: { held_out_rows: number }; training_data: { rows: number } }; aliases: string[] }>(dir, 'models', 'show', '2');
    expect(show.aliases).toEqual(['challenger']);
    expect(show.version.settings.held_out_rows).toBe(held);
    const finalRows = read(join(dir, 'ingesteddata/finaldata.csv')).trim().split('\n').length - 1;
    expect(show.version.training_data.rows).toBe(finalRows - held);
    const holdout = read(join(dir, 'ingesteddata/holdout.csv')).trim().split('\n');
    expect(holdout).toHaveLength(held + 1);
    // both models were scored on the holdout
    const roles = history(dir).filter((h) => h.role === 'holdout').map((h) => h.version).sort();
    expect(roles).toEqual([1, 2]);
  });
});

describe('the listing cache never changes an answer', () => {
  it('appends are read incrementally; a damaged, stale or foreign cache is rebuilt', () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    const cache = join(dir, 'practicemodels/registry/listing-cache.json');
    const first = cliJson<ModelsJson>(dir, 'models');
    expect(existsSync(cache)).toBe(true);
    // a new version and a new score arrive: read from the logs' tails
    writeFileSync(join(dir, 'config.json'), read(join(dir, 'config.json')).replace('"practicedata"', '"sourcedata"'));
    for (const v of ['ingest', 'train', 'score']) expect(cli(dir, v).code).toBe(0);
    const second = cliJson<ModelsJson>(dir, 'models');
    expect(second.total).toBe(2);
    expect(second.models[0]!.value).not.toBeNull();
    for (const damage of ['{"format": "x"', 'null', JSON.stringify({ ...JSON.parse(read(cache)), rows: [] })]) {
      writeFileSync(cache, damage);
      expect(cliJson<ModelsJson>(dir, 'models')).toEqual(second);
    }
    // the test set changes: metrics on the new test set only (none yet)
    writeFileSync(join(dir, 'testdata/testdata.csv'), read(join(dir, 'testdata/testdata.csv')) + '\n');
    expect(cliJson<ModelsJson>(dir, 'models').models.every((m) => m.value === null)).toBe(true);
    expect(first.total).toBe(1);
  });

  it('remembers the test hash and the versions folder by their identity, and notices every change to them', () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    const test = join(dir, 'testdata/testdata.csv');
    const versions = join(dir, 'practicemodels/registry/versions');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(test, hourAgo, hourAgo);
    utimesSync(versions, hourAgo, hourAgo);
    const scored = cliJson<ModelsJson>(dir, 'models');
    expect(scored.models[0]!.value).not.toBeNull();
    const cache = () => JSON.parse(read(join(dir, 'practicemodels/registry/listing-cache.json'))) as { test_files: Record<string, string | null>; versions_folder: string | null };
    expect(cache().test_files['testdata.csv']).toMatch(/^\d+:\d+:\d+:\d+$/);
    expect(cache().versions_folder).not.toBeNull();
    expect(cliJson<ModelsJson>(dir, 'models')).toEqual(scored);
    // same size, other content, another (old) mtime: the identity differs, so it is hashed again
    const text = read(test);
    const at = text.lastIndexOf('1');
    writeFileSync(test, text.slice(0, at) + '0' + text.slice(at + 1));
    const twoHoursAgo = new Date(Date.now() - 7200_000);
    utimesSync(test, twoHoursAgo, twoHoursAgo);
    const changed = cliJson<ModelsJson>(dir, 'models');
    expect(changed.test_data_sha256).not.toBe(scored.test_data_sha256);
    expect(changed.models[0]!.value).toBeNull();
    // a version folder the index does not know (a crash before the index append) is listed
    const v2 = join(versions, 'v0002');
    cpSync(join(versions, 'v0001'), v2, { recursive: true });
    const rec = JSON.parse(read(join(v2, 'version.json')));
    writeFileSync(join(v2, 'version.json'), JSON.stringify({ ...rec, version: 2, name: 'v0002', content_sha256: 'x'.repeat(64) }));
    const listed = cliJson<ModelsJson>(dir, 'models');
    expect(listed.total).toBe(2);
    expect(listed.models.map((m) => m.name)).toEqual(['v0002', 'v0001']);
  });

  it('shows a page of versions by default, every one with --all', () => {
    const dir = project();
    expect(cli(dir, 'run').code).toBe(0);
    const reg = join(dir, 'practicemodels/registry');
    const index = read(join(reg, 'index.jsonl')).trim().split('\n').map((l) => JSON.parse(l));
    const v1 = index[0];
    const lines: string[] = [];
    for (let v = 2; v <= 60; v++) {
      const name = `v${String(v).padStart(4, '0')}`;
      cpSync(join(reg, 'versions/v0001'), join(reg, 'versions', name), { recursive: true });
      const rec = { ...v1, version: v, name, content_sha256: String(v).padStart(64, '0') };
      writeFileSync(join(reg, 'versions', name, 'version.json'), JSON.stringify({ ...JSON.parse(read(join(reg, 'versions/v0001/version.json'))), ...rec }));
      lines.push(JSON.stringify(rec));
    }
    writeFileSync(join(reg, 'index.jsonl'), read(join(reg, 'index.jsonl')) + lines.join('\n') + '\n');
    const page = cli(dir, 'models');
    expect(page.stdout).toContain('(50 of 60 versions; --limit N or --all to see more)');
    expect(page.stdout.split('\n').filter((l) => /^v\d{4}/.test(l))).toHaveLength(50);
    expect(cliJson<ModelsJson>(dir, 'models', '--all').models).toHaveLength(60);
    expect(cliJson<ModelsJson>(dir, 'models', '--limit', '5').models.map((m) => m.name)).toEqual(['v0060', 'v0059', 'v0058', 'v0057', 'v0056']);
  });
});
