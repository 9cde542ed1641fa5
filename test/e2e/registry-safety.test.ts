/**
 * The model registry under real processes: SIGKILL at every pause point of `promote`, `deploy`
 * and `run`; `promote` racing `run`; two `deploy` at once. After each: production serves a
 * complete release, aliases point at complete versions, the event log parses and agrees with
 * production, the next command completes, and nothing is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, type CliResult, genData, project } from '../helpers.js';

const ENV = { ...process.env, NO_COLOR: '1', npm_config_registry: 'http://127.0.0.1:9/' };

/** The CLI as a child process, without blocking the event loop (so cases can run concurrently). */
function mlops(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...ENV, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface Paused {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Start a command and resolve once it says "paused at <point>". */
function startPaused(cwd: string, args: string[], point: string, env: Record<string, string> = {}): Promise<Paused> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...ENV, MLOPS_PAUSE_AT: point, ...env } });
  let err = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.stdout!.resume();
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(`paused at ${point}`)) resolve({ child, stderr: () => err, exited });
    });
    child.on('exit', (code) => reject(new Error(`mlops ${args.join(' ')} exited ${code} before pausing at ${point}: ${err}`)));
  });
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const vname = (v: number) => `v${String(v).padStart(4, '0')}`;

interface Manifest {
  version: number;
  model_version: number;
  files: Record<string, { sha256: string }>;
}

/** (a) `current` is a complete release whose files match its manifest; its manifest. */
function currentRelease(dir: string): Manifest {
  const prod = join(dir, 'production_deployment');
  const release = realpathSync(join(prod, 'current'));
  expect(existsSync(join(release, 'manifest.json')), release).toBe(true);
  expect(existsSync(join(release, 'trainedmodel.json')), release).toBe(true);
  const m = JSON.parse(readFileSync(join(release, 'manifest.json'), 'utf8')) as Manifest;
  for (const [name, f] of Object.entries(m.files)) expect(sha(join(release, name)), `${release}/${name}`).toBe(f.sha256);
  for (const name of ['trainedmodel.json', 'latestscore.txt', 'ingestedfiles.txt']) {
    expect(readFileSync(join(prod, name), 'utf8')).toBe(readFileSync(join(release, name), 'utf8'));
  }
  expect(Number.isInteger(m.model_version)).toBe(true);
  return m;
}

const registry = (dir: string) => join(dir, 'practicemodels', 'registry');

interface Event {
  kind: string;
  version: number | null;
  alias: string | null;
  command: string;
}

/** (c) events.jsonl: every line JSON, except at most a torn last line (no trailing newline). */
function events(dir: string): Event[] {
  const path = join(registry(dir), 'events.jsonl');
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const torn = lines.pop()!; // '' when the file ends with a newline
  const out: Event[] = [];
  lines.forEach((l, i) => {
    let e: Event;
    try {
      e = JSON.parse(l) as Event;
    } catch {
      throw new Error(`${path}: line ${i + 1} is not JSON: ${l.slice(0, 120)}`);
    }
    out.push(e);
  });
  if (torn !== '') {
    try {
      out.push(JSON.parse(torn) as Event);
    } catch {
      // a torn last line is allowed
    }
  }
  return out;
}

const championEvents = (evs: Event[]) => evs.filter((e) => e.alias === 'champion' && (e.kind === 'promoted' || e.kind === 'rolled_back'));

/** (b) from the files, without running mlops: every alias of aliases.json is a complete version. */
function aliasesComplete(dir: string): void {
  const path = join(registry(dir), 'aliases.json');
  const aliases = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>) : {};
  for (const [a, v] of Object.entries(aliases)) versionComplete(dir, v, a);
}

function versionComplete(dir: string, v: number, why: string): void {
  const folder = join(registry(dir), 'versions', vname(v));
  expect(existsSync(join(folder, 'version.json')), `${why} -> ${folder}/version.json`).toBe(true);
  expect(existsSync(join(folder, 'model.json')), `${why} -> ${folder}/model.json`).toBe(true);
}

interface ModelsJson {
  models: { version: number; aliases: string[] }[];
}

/** (b) + (d): `models --json` aliases point at complete versions; champion = production = event log. */
async function consistent(dir: string): Promise<number> {
  const m = currentRelease(dir);
  const r = await mlops(dir, ['--json', 'models']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/internal error/);
  const models = JSON.parse(r.stdout) as ModelsJson;
  const champions: number[] = [];
  for (const row of models.models) {
    for (const a of row.aliases) {
      versionComplete(dir, row.version, a);
      if (a === 'champion') champions.push(row.version);
    }
  }
  expect(champions).toEqual([m.model_version]);
  expect(championEvents(events(dir)).at(-1)?.version).toBe(m.model_version);
  return m.model_version;
}

/** (e) nothing left behind: staging folders, the registry mutex. */
function nothingLeft(dir: string): void {
  const releases = join(dir, 'production_deployment', 'releases');
  expect(readdirSync(releases).filter((n) => n.startsWith('.staging-'))).toEqual([]);
  const versions = join(registry(dir), 'versions');
  expect(readdirSync(versions).filter((n) => n.startsWith('.staging-'))).toEqual([]);
  expect(existsSync(join(registry(dir), '.mutex')), 'registry/.mutex left behind').toBe(false);
}

const noInternal = (...stderrs: string[]) => {
  for (const s of stderrs) {
    expect(s).not.toMatch(/internal error/);
    expect(s).not.toMatch(/ENOTEMPTY/);
  }
};

// ---------------------------------------------------------------------------------------------
// Templates, copied per case:
//   booted:  v0001 trained and deployed by `mlops run` (release v0001); shifted new data and a
//            refreshed test set waiting in incoming/ and newtest/
//   trained: booted + the new data arrived + ingest, train (v0002), score: v0002 not deployed
//   two:     trained + deploy: v0002 champion (release v0002), v0001 the earlier champion
let booted: string;
let trained: string;
let two: string;
const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

function copyOf(template: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-regsafe-'));
  scratch.push(dir);
  cpSync(template, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** booted, with the new files arrived (as loop.test.ts's withNewData). */
function withNewData(): string {
  const dir = copyOf(booted);
  for (const f of readdirSync(join(dir, 'incoming'))) cpSync(join(dir, 'incoming', f), join(dir, 'practicedata', f));
  cpSync(join(dir, 'newtest', 'testdata.csv'), join(dir, 'testdata', 'testdata.csv'));
  return dir;
}

const ok = (r: CliResult, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0);

beforeAll(() => {
  booted = project({ classic: false });
  genData('--rows', '4000', '--files', '2', '--dup', '0.02', '--out', join(booted, 'practicedata'), '--seed', '1');
  genData('--rows', '1000', '--out', join(booted, 'testdata'), '--seed', '2', '--prefix', 'testdata.csv');
  ok(cli(booted, 'run'), 'bootstrap run');
  genData('--rows', '4000', '--files', '2', '--out', join(booted, 'incoming'), '--seed', '3', '--shift', '1.5', '--prefix', 'newdata');
  genData('--rows', '1000', '--out', join(booted, 'newtest'), '--seed', '4', '--shift', '1.5', '--prefix', 'testdata.csv');

  trained = withNewData();
  for (const c of ['ingest', 'train', 'score']) ok(cli(trained, c), c);
  expect(existsSync(join(registry(trained), 'versions', 'v0002', 'version.json'))).toBe(true);

  two = copyOf(trained);
  ok(cli(two, 'deploy', '--force'), 'deploy v0002');
  expect(currentRelease(two).model_version).toBe(2);
}, 60_000);

// ---------------------------------------------------------------------------------------------
interface KillCase {
  name: string;
  template: () => string;
  args: string[];
  points: string[];
  /** Champion before and after the command. */
  from: number;
  to: number;
  /** The command run after the kill. */
  next: string[];
}

const RUN_POINTS = ['run:check', 'run:ingest', 'run:drift', 'run:train', 'run:score', 'run:gate', 'run:deploy', 'deploy:staged', 'deploy:published', 'promote:published', 'promote:activated', 'run:diagnose', 'run:report'];

const KILLS: KillCase[] = [
  // an earlier version whose release still exists: the release is reused (deploy:* are not reached)
  { name: 'promote v0001 --force (v0002 champion)', template: () => copyOf(two), args: ['promote', 'v0001', '--force'], points: ['promote:published', 'promote:activated'], from: 2, to: 1, next: ['promote', 'v0001', '--force'] },
  // a version never released: a new release is published
  { name: 'promote v0002 (trained, not deployed)', template: () => copyOf(trained), args: ['promote', 'v0002'], points: ['deploy:staged', 'deploy:published', 'promote:published', 'promote:activated'], from: 1, to: 2, next: ['promote', 'v0002'] },
  { name: 'deploy (after train + score)', template: () => copyOf(trained), args: ['deploy'], points: ['deploy:staged', 'deploy:published', 'promote:published', 'promote:activated'], from: 1, to: 2, next: ['deploy'] },
  { name: 'run (redeploy on shifted new data)', template: withNewData, args: ['run'], points: RUN_POINTS, from: 1, to: 2, next: ['run'] },
];

describe.concurrent('SIGKILL at every pause point', () => {
  for (const k of KILLS) {
    for (const point of k.points) {
      it(`${k.name}: killed at ${point}`, async ({ expect }) => {
        const dir = k.template();
        const before = events(dir).length;
        const p = await startPaused(dir, k.args, point);
        p.child.kill('SIGKILL');
        await p.exited;
        noInternal(p.stderr());

        // (a) production fully old or fully new, (b) aliases complete, (c) event log parses
        const served = currentRelease(dir).model_version;
        expect([k.from, k.to]).toContain(served);
        aliasesComplete(dir);
        events(dir);

        // (d) the next command completes and leaves the registry consistent
        const next = await mlops(dir, k.next);
        expect(next.code, `${k.next.join(' ')}: ${next.stderr}`).toBe(0);
        noInternal(next.stderr);
        expect(await consistent(dir)).toBe(k.to);
        // the promotion is recorded exactly once (by the killed command, or by the repair)
        const promoted = championEvents(events(dir).slice(before)).filter((e) => e.kind === 'promoted' && e.version === k.to);
        expect(promoted.length, JSON.stringify(promoted)).toBe(1);
        // (e) nothing left behind
        nothingLeft(dir);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
describe('promote racing run', () => {
  it('promotes while a redeploying run is going: clear outcomes, no event lost, no corrupt line', async () => {
    const dir = withNewData();
    // The run holds the registry mutex for 1.5 s while its release is staged, so promotes queue on it.
    const runP = startPaused(dir, ['run'], 'deploy:staged', { MLOPS_PAUSE_MS: '1500' });
    const commands = [
      ['promote', 'v0001', '--alias', 'challenger'],
      ['promote', 'v0001', '--alias', 'staging'],
      ['promote', 'v0002', '--alias', 'challenger'],
      ['promote', 'v0001', '--force'],
      ['promote', 'v0002', '--alias', 'staging'],
      ['promote', 'v0002'],
      ['promote', 'v0001'],
      ['promote', 'v0002', '--alias', 'challenger'],
    ];
    const results: { args: string[]; r: CliResult }[] = [];
    const pending: Promise<void>[] = [];
    // a first wave before the run pauses (v0002 may not exist yet) ...
    for (const args of commands.slice(0, 3)) pending.push(mlops(dir, args).then((r) => void results.push({ args, r })));
    const run = await runP;
    // ... a second wave while the run holds the mutex, a third after it resumed
    for (const args of commands) pending.push(mlops(dir, args).then((r) => void results.push({ args, r })));
    await new Promise((r) => setTimeout(r, 1600));
    for (const args of commands) pending.push(mlops(dir, args).then((r) => void results.push({ args, r })));
    const runCode = await run.exited;
    await Promise.all(pending);
    expect(runCode, run.stderr()).toBe(0);
    noInternal(run.stderr());

    const evs = events(dir); // throws on a corrupt line
    const expected = new Map<string, number>();
    for (const { args, r } of results) {
      noInternal(r.stderr);
      expect([0, 2, 4], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
      if (r.code !== 0) expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      const line = `mlops ${args.join(' ')}`;
      // a success that changed an alias, or a gate rejection, is one event of that command
      const eventful = (r.code === 0 && /^promoted /.test(r.stdout)) || r.code === 4;
      if (r.code === 0 && !eventful) expect(r.stdout).toMatch(/nothing to do/);
      expected.set(line, (expected.get(line) ?? 0) + (eventful ? 1 : 0));
    }
    for (const [line, n] of expected) {
      const got = evs.filter((e) => e.command === line && ['promoted', 'alias_set', 'rejected'].includes(e.kind)).length;
      expect(got, `events of "${line}"`).toBe(n);
    }
    await consistent(dir);
    nothingLeft(dir);
  });
});

// ---------------------------------------------------------------------------------------------
describe('two deploys at once', () => {
  const check = async (dir: string, a: CliResult, b: CliResult, before: number) => {
    noInternal(a.stderr, b.stderr);
    ok(a, 'first deploy');
    ok(b, 'second deploy');
    expect(readdirSync(join(dir, 'production_deployment', 'releases')).sort()).toEqual(['v0001', 'v0002']);
    const outs = [a.stdout, b.stdout];
    expect(outs.filter((o) => /^deployed v0002 as champion/.test(o)), outs.join('\n')).toHaveLength(1);
    expect(outs.filter((o) => /^v0002 is already champion/.test(o)), outs.join('\n')).toHaveLength(1);
    const promoted = championEvents(events(dir).slice(before)).filter((e) => e.kind === 'promoted');
    expect(promoted.map((e) => e.version)).toEqual([2]);
    expect(await consistent(dir)).toBe(2);
    nothingLeft(dir);
  };


  it('started together, repeated: one release, one promotion, the other sees it already champion', async () => {
    for (let i = 0; i < 4; i++) {
      const dir = copyOf(trained);
      const before = events(dir).length;
      const [a, b] = await Promise.all([mlops(dir, ['deploy']), mlops(dir, ['deploy'])]);
      await check(dir, a, b, before);
    }
  });


  it('the second starts while the first holds the registry mutex (deterministic)', async () => {
    const dir = copyOf(trained);
    const before = events(dir).length;
    const first = await startPaused(dir, ['deploy'], 'deploy:staged', { MLOPS_PAUSE_MS: '1000' });
    const second = mlops(dir, ['deploy']);
    const firstOut: string[] = [];
    first.child.stdout!.on('data', (d: Buffer) => firstOut.push(d.toString()));
    const code = await first.exited;
    const b = await second;
    await check(dir, { code: code ?? -1, stdout: firstOut.join(''), stderr: first.stderr().replace(/paused at \S+\n/, '') }, b, before);
  });


  it('a promote of the version a deploy is publishing, queued behind it, finds it already champion', async () => {
    const dir = copyOf(trained);
    const before = events(dir).length;
    const first = await startPaused(dir, ['deploy'], 'deploy:staged', { MLOPS_PAUSE_MS: '1000' });
    const second = mlops(dir, ['promote', 'v0002']);
    expect(await first.exited).toBe(0);
    const b = await second;
    ok(b, 'promote v0002');
    noInternal(first.stderr(), b.stderr);
    expect(b.stdout).toMatch(/^v0002 already is champion; nothing to do/);
    expect(championEvents(events(dir).slice(before)).map((e) => e.version)).toEqual([2]);
    expect(await consistent(dir)).toBe(2);
    nothingLeft(dir);
  });
});
