/** Test helpers: temp projects with real files, and the real CLI run as a child process. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin', 'mlops.js');
export const GEN = join(ROOT, 'bin', 'gen-data.js');
/**
 * The classic data set of the exercise, read-only, shared by the team in ../shared; a
 * byte-identical copy is committed under test/fixtures for clones that sit elsewhere (CI).
 */
export const CLASSIC = [
  process.env.MLOPS_CLASSIC_DATA,
  resolve(ROOT, '..', 'shared', 'data', 'classic'),
  join(ROOT, 'test', 'fixtures', 'classic'),
].find((d): d is string => Boolean(d) && existsSync(join(d!, 'practicedata')))!;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run the built CLI. The npm registry is pointed at a closed local port so tests never depend
 * on the network (the dependency table then reports "registry unreachable").
 */
export function cli(cwd: string, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', npm_config_registry: 'http://127.0.0.1:9/' },
  });
  assertNoInternalError(args, r.stdout, r.stderr);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * "internal error" means a bug in mlops: no test case, however hostile, may produce one. Every
 * CLI run of the suite goes through here (and spawned processes through the same check).
 */
export function assertNoInternalError(args: readonly string[], stdout: string, stderr: string): void {
  if (/internal error/i.test(stderr) || /"exit_code":1\b/.test(stdout)) {
    throw new Error(`mlops ${args.join(' ')} reported an internal error: ${stderr.trim().split('\n')[0]}`);
  }
}

export function cliJson<T = Record<string, unknown>>(cwd: string, ...args: string[]): T {
  const r = cli(cwd, '--json', ...args);
  if (r.code !== 0) throw new Error(`mlops ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export function genData(...args: string[]): void {
  const r = spawnSync(process.execPath, [GEN, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gen-data failed: ${r.stderr}`);
}

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export const DEFAULT_CONFIG = {
  input_folder_path: 'practicedata',
  output_folder_path: 'ingesteddata',
  test_data_path: 'testdata',
  output_model_path: 'practicemodels',
  prod_deployment_path: 'production_deployment',
};

/**
 * A temp project folder with config.json and the classic data copied in (writable), or
 * empty input folders when `classic` is false.
 */
export function project(opts: { classic?: boolean; config?: Record<string, unknown> } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-test-'));
  made.push(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...DEFAULT_CONFIG, ...opts.config }, null, 2));
  for (const sub of ['practicedata', 'sourcedata', 'testdata']) {
    if (opts.classic !== false) cpSync(join(CLASSIC, sub), join(dir, sub), { recursive: true, mode: 0 });
    else mkdirSync(join(dir, sub), { recursive: true });
  }
  // the shared copy is read-only; make ours writable so tests can change files
  spawnSync('chmod', ['-R', 'u+w', dir]);
  return dir;
}

export const read = (path: string) => readFileSync(path, 'utf8');

/**
 * A project with two versions: v0001 champion (the bootstrap run), v0002 trained and scored on
 * the old and the shifted data (sourcedata copied into practicedata, then a run).
 */
export function projectWithTwoVersions(): string {
  const dir = project();
  expectCode(cli(dir, 'run'), [0]);
  for (const f of readdirSync(join(dir, 'sourcedata'))) cpSync(join(dir, 'sourcedata', f), join(dir, 'practicedata', f));
  expectCode(cli(dir, 'run'), [0, 4]);
  expectCode(cli(dir, 'train'), [0]);
  expectCode(cli(dir, 'score'), [0]);
  return dir;
}

function expectCode(r: CliResult, codes: number[]): void {
  if (!codes.includes(r.code)) throw new Error(`exit ${r.code}: ${r.stderr}`);
}

/** The champion's version name as `mlops --json models` tells it. */
export const championOf = (dir: string) =>
  cliJson<{ models: { name: string; aliases: string[] }[] }>(dir, 'models').models.find((m) => m.aliases.includes('champion'))?.name;

const servers: ChildProcess[] = [];
afterAll(() => servers.forEach((c) => c.kill('SIGKILL')));

/** `mlops serve --port 0` in a project; resolves with its URL once it listens (killed after the file). */
export function startServe(dir: string): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  return startListening(dir, ['serve', '--port', '0']);
}

/** `mlops ui --port 0 [--host H]` in a project, with MLOPS_UI_TOKEN when given. */
export function startUi(dir: string, opts: { host?: string; token?: string } = {}): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  return startListening(dir, ['ui', '--port', '0', ...(opts.host ? ['--host', opts.host] : [])], opts.token ? { MLOPS_UI_TOKEN: opts.token } : {});
}

/** A CLI server process; resolves with the address line it prints on stdout. */
function startListening(dir: string, args: string[], env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', ...env } });
  servers.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ url: d.toString().trim(), child, log: () => err }));
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${err}`)));
  });
}

/**
 * Wait until check() gives a truthy value (polled every 50 ms) and return it; after timeoutMs
 * return the last value, for the test's assertion to show. For what a background poller does
 * "soon": a fixed sleep fails on a loaded machine.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v || Date.now() - start > timeoutMs) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The throughput the Overview should show, counted straight from the prediction log's lines:
 * the last 60 whole seconds up to the newest record's second (the log's span when shorter),
 * predictions = lines, requests = lines whose id has no /N row suffix or ends in /0.
 */
export function logThroughput(predictionsDir: string) {
  const rows = readdirSync(predictionsDir)
    .filter((n) => n.endsWith('.jsonl'))
    .flatMap((n) => read(join(predictionsDir, n)).split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as { time: string; request_id: string })
    .map((r) => ({ sec: Math.floor(Date.parse(r.time) / 1000), id: r.request_id }));
  const last = Math.max(...rows.map((r) => r.sec));
  const from = Math.max(Math.min(...rows.map((r) => r.sec)), last - 59);
  const inside = rows.filter((r) => r.sec >= from);
  const seconds = last + 1 - from;
  const requests = inside.filter((r) => !/\/\d+$/.test(r.id) || r.id.endsWith('/0')).length;
  return { seconds, predictions: inside.length, requests, predictions_per_s: inside.length / seconds, requests_per_s: requests / seconds };
}
