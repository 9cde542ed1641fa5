/**
 * The monitoring loop end to end with real processes: bootstrap, new shifted data -> drift ->
 * retrain -> redeploy, "no new data", the lock, and SIGKILL before, inside and after the deploy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, genData, project } from '../helpers.js';

/** Every entry under a folder: type, size, mtime, symlink target or content hash. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(p)} ${st.mtimeMs}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${st.mtimeMs}`;
        walk(p, r);
      } else out[r] = `file ${st.size} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir, '');
  return out;
}

/** Production is consistent: current release complete, every file matching its manifest. */
function productionVersion(prod: string): number {
  const release = realpathSync(join(prod, 'current'));
  const manifest = JSON.parse(readFileSync(join(release, 'manifest.json'), 'utf8'));
  for (const [name, { sha256 }] of Object.entries<{ sha256: string }>(manifest.files)) {
    expect(createHash('sha256').update(readFileSync(join(release, name))).digest('hex')).toBe(sha256);
  }
  for (const name of ['trainedmodel.json', 'latestscore.txt', 'ingestedfiles.txt']) {
    expect(readFileSync(join(prod, name), 'utf8')).toBe(readFileSync(join(release, name), 'utf8'));
  }
  return manifest.version as number;
}

interface RunJson {
  decision: string;
  reason: string;
  steps: { step: string }[];
  release: string | null;
}
const runJson = (dir: string, ...args: string[]) => {
  const r = cli(dir, '--json', 'run', ...args);
  return { code: r.code, stderr: r.stderr, json: r.stdout ? (JSON.parse(r.stdout) as RunJson) : null };
};

/** A bootstrapped project (v0001 deployed) with shifted new data and a refreshed test set waiting. */
let template: string;
const scratch: string[] = [];
beforeAll(() => {
  template = project({ classic: false });
  genData('--rows', '4000', '--files', '2', '--dup', '0.02', '--out', join(template, 'practicedata'), '--seed', '1');
  genData('--rows', '1000', '--out', join(template, 'testdata'), '--seed', '2', '--prefix', 'testdata.csv');
  const boot = runJson(template);
  expect(boot.code, boot.stderr).toBe(0);
  expect(boot.json!.decision).toBe('bootstrap: deployed');
  genData('--rows', '4000', '--files', '2', '--out', join(template, 'incoming'), '--seed', '3', '--shift', '1.5', '--prefix', 'newdata');
  genData('--rows', '1000', '--out', join(template, 'newtest'), '--seed', '4', '--shift', '1.5', '--prefix', 'testdata.csv');
}, 60_000);
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the template where the new files have arrived. */
function withNewData(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-loop-'));
  scratch.push(dir);
  cpSync(template, dir, { recursive: true, verbatimSymlinks: true });
  for (const f of readdirSync(join(dir, 'incoming'))) cpSync(join(dir, 'incoming', f), join(dir, 'practicedata', f));
  cpSync(join(dir, 'newtest', 'testdata.csv'), join(dir, 'testdata', 'testdata.csv'));
  return dir;
}

describe('the loop', () => {
  it('new shifted data -> drift -> retrain -> redeploy; then "no new data" leaves production untouched', () => {
    const dir = withNewData();
    const r = runJson(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.decision).toBe('drift: redeployed');
    expect(r.json!.steps.map((s) => s.step)).toEqual(['check', 'ingest', 'drift', 'train', 'score', 'gate', 'deploy', 'diagnose', 'report']);
    const prod = join(dir, 'production_deployment');
    expect(productionVersion(prod)).toBe(2);
    expect(readFileSync(join(prod, 'ingestedfiles.txt'), 'utf8')).toBe('dataset1.csv\ndataset2.csv\nnewdata1.csv\nnewdata2.csv\n');

    const before = { prod: snapshot(prod), models: snapshot(join(dir, 'practicemodels')), data: readFileSync(join(dir, 'ingesteddata/finaldata.csv')) };
    const again = cli(dir, 'run');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^no new data/);
    expect(snapshot(prod)).toEqual(before.prod);
    expect(snapshot(join(dir, 'practicemodels'))).toEqual(before.models);
    expect(readFileSync(join(dir, 'ingesteddata/finaldata.csv')).equals(before.data)).toBe(true);

    // a changed file counts as new even under the same name
    cpSync(join(dir, 'incoming', 'newdata1.csv'), join(dir, 'practicedata', 'dataset1.csv'));
    const changed = runJson(dir);
    expect(changed.json!.steps[0]).toMatchObject({ step: 'check' });
    expect(changed.json!.decision).not.toBe('no new data');

    const runs = cli(dir, 'runs');
    expect(runs.stdout).toContain('drift: redeployed');
    expect(runs.stdout).toContain('no new data');
  });

  it('no drift on data like the training data: decision recorded, nothing deployed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-loop-'));
    scratch.push(dir);
    cpSync(template, dir, { recursive: true, verbatimSymlinks: true });
    genData('--rows', '4000', '--files', '1', '--out', join(dir, 'practicedata'), '--seed', '9', '--prefix', 'more');
    const r = runJson(dir, '--drift-test', 'parametric');
    expect(r.code).toBe(0);
    expect(r.json!.decision).toBe('no drift');
    expect(productionVersion(join(dir, 'production_deployment'))).toBe(1);
  });
});

function startRun(dir: string, pauseAt: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'run'], { cwd: dir, env: { ...process.env, MLOPS_PAUSE_AT: pauseAt, NO_COLOR: '1', npm_config_registry: 'http://127.0.0.1:9/' } });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(`paused at ${pauseAt}`)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`run exited ${code} before pausing at ${pauseAt}: ${err}`)));
  });
}
const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

describe('safety with real processes', () => {
  it('a second run while one is going exits at once with a clear message; a stale lock is taken over', async () => {
    const dir = withNewData();
    const first = await startRun(dir, 'run:train');
    const t0 = Date.now();
    const second = cli(dir, 'run');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/another run is in progress \(pid \d+/);
    first.kill('SIGKILL');
    await exited(first);
    expect(existsSync(join(dir, 'ingesteddata', '.mlops-run.lock'))).toBe(true);
    const third = runJson(dir);
    expect(third.code, third.stderr).toBe(0);
    expect(third.json!.reason).toMatch(/took over a stale lock of pid \d+/);
    expect(third.json!.decision).toBe('drift: redeployed');
    expect(existsSync(join(dir, 'ingesteddata', '.mlops-run.lock'))).toBe(false);
  });

  it('SIGTERM abandons the rest cleanly: lock released, run recorded as interrupted, production old', async () => {
    const dir = withNewData();
    const child = await startRun(dir, 'run:deploy');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(130);
    expect(existsSync(join(dir, 'ingesteddata', '.mlops-run.lock'))).toBe(false);
    expect(productionVersion(join(dir, 'production_deployment'))).toBe(1);
    const runs = readFileSync(join(dir, 'ingesteddata', 'runs.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(runs.at(-1)!)).toMatchObject({ decision: 'interrupted' });
  });

  // registry-safety.test.ts kills `run` at every pause point and checks the registry; these three
  // (before, inside and after the deploy) check what the next run decides.
  for (const point of ['run:train', 'deploy:published', 'run:diagnose']) {
    it(`SIGKILL at ${point}: production fully old or fully new, and the next run completes`, async () => {
      const dir = withNewData();
      const prod = join(dir, 'production_deployment');
      const child = await startRun(dir, point);
      child.kill('SIGKILL');
      await exited(child);
      const v = productionVersion(prod);
      expect(v).toBe(point === 'run:diagnose' ? 2 : 1);
      const next = runJson(dir);
      expect(next.code, next.stderr).toBe(0);
      if (v === 1) {
        expect(next.json!.decision).toBe('drift: redeployed');
        expect(productionVersion(prod)).toBeGreaterThanOrEqual(2);
      } else expect(next.json!.decision).toBe('no new data');
      // no staging folders or temp files left behind
      expect(readdirSync(join(prod, 'releases')).filter((n) => n.startsWith('.'))).toEqual([]);
    });
  }
});
