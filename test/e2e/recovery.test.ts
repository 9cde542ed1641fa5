/**
 * Recovery and damaged state: the next run finishes what a killed one left (post-deploy steps,
 * top-level links, staging folders, temp files), and every state file torn, nulled or replaced
 * gets a one-line answer naming it, never an internal error.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, genData, project } from '../helpers.js';

let template: string;
const scratch: string[] = [];
beforeAll(() => {
  template = project({ classic: false });
  genData('--rows', '3000', '--files', '2', '--out', join(template, 'practicedata'), '--seed', '1');
  genData('--rows', '800', '--out', join(template, 'testdata'), '--seed', '2', '--prefix', 'testdata.csv');
  expect(cli(template, 'run').code).toBe(0);
  genData('--rows', '3000', '--files', '1', '--out', join(template, 'incoming'), '--seed', '3', '--shift', '1.5', '--prefix', 'newdata');
  genData('--rows', '800', '--out', join(template, 'newtest'), '--seed', '4', '--shift', '1.5', '--prefix', 'testdata.csv');
}, 60_000);
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

function copy(newData = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-recovery-'));
  scratch.push(dir);
  cpSync(template, dir, { recursive: true, verbatimSymlinks: true });
  if (newData) {
    for (const f of readdirSync(join(dir, 'incoming'))) cpSync(join(dir, 'incoming', f), join(dir, 'practicedata', f));
    cpSync(join(dir, 'newtest', 'testdata.csv'), join(dir, 'testdata', 'testdata.csv'));
  }
  return dir;
}

function killAt(dir: string, point: string): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'run'], { cwd: dir, env: { ...process.env, MLOPS_PAUSE_AT: point, NO_COLOR: '1', npm_config_registry: 'http://127.0.0.1:9/' } });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(`paused at ${point}`)) child.kill('SIGKILL');
    });
    child.on('exit', (_code, sig) => (sig === 'SIGKILL' ? resolve() : reject(new Error(`run ended before ${point}: ${err}`))));
  });
}

const runJson = (dir: string) => {
  const r = cli(dir, '--json', 'run');
  return { ...r, json: r.stdout ? JSON.parse(r.stdout) : null };
};

describe('the next run finishes what a killed run left', () => {
  for (const point of ['run:diagnose', 'run:report']) {
    it(`kill -9 at ${point}: the next run writes the diagnostics and report of the release it deployed`, async () => {
      const dir = copy(true);
      await killAt(dir, point);
      const release = readFileSync(join(dir, 'production_deployment/current/manifest.json'), 'utf8');
      expect(JSON.parse(release).name).toBe('v0002');
      if (point === 'run:diagnose') expect(existsSync(join(dir, 'practicemodels/diagnostics.json'))).toBe(false);
      const next = runJson(dir);
      expect(next.code, next.stderr).toBe(0);
      expect(next.json.decision).toBe('no new data');
      expect(next.json.reason).toMatch(/finished (diagnose, )?report of release v0002, left by an interrupted run/);
      const d = JSON.parse(readFileSync(join(dir, 'practicemodels/diagnostics.json'), 'utf8'));
      expect(d.predictions.release).toBe('v0002');
      expect(readFileSync(join(dir, 'practicemodels/report.html'), 'utf8')).toContain('v0002');
      // and only once
      const third = runJson(dir);
      expect(third.json.steps.map((s: { step: string }) => s.step)).toEqual(['check']);
    });
  }

  it('missing top-level links, staging folders and temp files of killed processes are repaired or removed', () => {
    const dir = copy();
    const prod = join(dir, 'production_deployment');
    for (const f of ['trainedmodel.json', 'latestscore.txt', 'ingestedfiles.txt']) unlinkSync(join(prod, f));
    mkdirSync(join(prod, 'releases', '.staging-999999-deadbeef'));
    writeFileSync(join(prod, 'releases', '.staging-999999-deadbeef', 'trainedmodel.json'), '{');
    writeFileSync(join(dir, 'ingesteddata', '.finaldata.csv.999999.deadbeef.tmp'), 'x'.repeat(100_000));
    symlinkSync('releases/v0001', join(prod, 'current.999999.deadbeef.tmp'));
    // a live writer's temp file is not touched
    const live = join(dir, 'ingesteddata', `.finaldata.csv.${process.pid}.cafebabe.tmp`);
    writeFileSync(live, 'in progress');
    const r = runJson(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.reason).toMatch(/restored the production links trainedmodel.json, latestscore.txt, ingestedfiles.txt/);
    for (const f of ['trainedmodel.json', 'latestscore.txt', 'ingestedfiles.txt']) expect(existsSync(join(prod, f))).toBe(true);
    expect(readdirSync(join(prod, 'releases')).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(readdirSync(prod).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'ingesteddata', '.finaldata.csv.999999.deadbeef.tmp'))).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});

describe('damaged state files get a clear answer', () => {
  const oneLine = (r: { stderr: string }) => expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('mlops: warning')).length).toBe(1);

  it('a truncated manifest.json of the current release', () => {
    const dir = copy();
    const m = join(dir, 'production_deployment/releases/v0001/manifest.json');
    writeFileSync(m, readFileSync(m, 'utf8').slice(0, 40));
    for (const args of [['run'], ['models'], ['drift'], ['report']]) {
      const r = cli(dir, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/manifest\.json: not valid JSON .*damaged or truncated release manifest/);
      oneLine(r);
    }
  });

  it('a null line in score_history.jsonl, ingestion_log.jsonl, runs.jsonl and events.jsonl names the file and line', () => {
    const cases: [string, string[]][] = [
      ['practicemodels/score_history.jsonl', ['drift', '--only', 'model']],
      ['ingesteddata/ingestion_log.jsonl', ['train']],
      ['ingesteddata/runs.jsonl', ['runs']],
      ['practicemodels/registry/events.jsonl', ['models', 'show', 'v0001']],
      ['practicemodels/registry/index.jsonl', ['models']],
      ['practicemodels/training_log.jsonl', ['diagnose']],
    ];
    for (const [file, args] of cases) {
      const dir = copy();
      const path = join(dir, file);
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      writeFileSync(path, [lines[0], 'null', ...lines.slice(1)].join('\n') + '\n');
      const r = cli(dir, ...args);
      expect(r.code, `${file}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`${file.split('/').at(-1)}: line 2: not a`);
      expect(r.stderr).toMatch(/fix or delete line 2/);
      oneLine(r);
    }
  });

  it('a torn last line of a log is skipped with a warning; the next append starts a new line', () => {
    const dir = copy(true);
    appendFileSync(join(dir, 'ingesteddata/ingestion_log.jsonl'), '{"timestamp":"2026-');
    appendFileSync(join(dir, 'practicemodels/score_history.jsonl'), '{"timestamp":');
    const r = runJson(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/mlops: warning: .*score_history\.jsonl: line \d+: not a complete record/);
    expect(r.json.decision).toBe('drift: redeployed');
    // the deployed manifest still has its ingestion record
    const manifest = JSON.parse(readFileSync(join(dir, 'production_deployment/current/manifest.json'), 'utf8'));
    expect(manifest.ingestion.files.map((f: { name: string }) => f.name)).toContain('newdata1.csv');
    const log = readFileSync(join(dir, 'ingesteddata/ingestion_log.jsonl'), 'utf8').split('\n');
    expect(log).toContain('{"timestamp":"2026-');
    expect(JSON.parse(log.at(-2)!).files.length).toBe(3);
  });

  it('`current` or `releases` replaced by a regular file, or `current` pointing at a file', () => {
    const cases: [string, (prod: string) => void, RegExp][] = [
      ['current', (p) => (rmSync(join(p, 'current')), writeFileSync(join(p, 'current'), 'v0001')), /current: is not a link to a release/],
      ['releases', (p) => (rmSync(join(p, 'releases'), { recursive: true }), writeFileSync(join(p, 'releases'), '')), /releases: is not a folder/],
      ['current -> file', (p) => (rmSync(join(p, 'current')), symlinkSync('releases/v0001/manifest.json', join(p, 'current'))), /current: points at .*which is not a release folder/],
    ];
    for (const [name, damage, message] of cases) {
      const dir = copy();
      damage(join(dir, 'production_deployment'));
      for (const args of [['run'], ['deploy', '--rollback'], ['models'], ['score', '--model', 'champion']]) {
        const r = cli(dir, ...args);
        expect(r.code, `${name}: ${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(message);
        oneLine(r);
      }
    }
  });

  it('a hand-edited version.json is named; a bare name that is no alias says so', () => {
    const dir = copy();
    writeFileSync(join(dir, 'practicemodels/registry/versions/v0001/version.json'), '{"version": 1}');
    const r = cli(dir, 'models', 'show', 'v0001');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/versions\/v0001\/version\.json: not a version record: "name" is not a string/);
    oneLine(r);
    const alias = cli(dir, 'score', '--model', 'challenger');
    expect(alias.code).toBe(2);
    expect(alias.stderr).toMatch(/"challenger": no alias of that name is set and no such model file exists/);
  });

  it('a damaged aliases.json or loop_state.json', () => {
    const dir = copy();
    writeFileSync(join(dir, 'practicemodels/registry/aliases.json'), '{"challenger": "x"}');
    const r = cli(dir, 'models');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/aliases\.json: not a registry alias file \(alias -> version number\): alias "challenger" must be a version number/);
    rmSync(join(dir, 'practicemodels/registry/aliases.json'));
    writeFileSync(join(dir, 'ingesteddata/loop_state.json'), '{"files": 3');
    const run = runJson(dir);
    expect(run.code).toBe(0);
    expect(run.json.reason).toMatch(/loop_state\.json: damaged, ignored/);
  });
});
