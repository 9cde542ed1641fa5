/**
 * npm run bench -- [--rows N] [--files K] [--repeat R] [--duration S] [--out FILE] [--compare OLD.json] [--no-serve]
 *
 * Runs each verb as a whole process, the way users run it, on data made by the project's seeded
 * generator (N rows in K files with 5% duplicates, plus a 20,000-row test file), R times, and
 * prints the median wall time, rows per second and peak RSS; then a load test of
 * POST /prediction (one row, 16 connections) with autocannon. The same table goes to a JSON
 * file so runs can be compared (--compare shows the change).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { generate } from '../tools/gendata.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'mlops.js');
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

interface Measure {
  seconds: number;
  rssMB: number | null;
}

export interface VerbResult {
  verb: string;
  rows: number;
  runs: number[];
  median_s: number;
  rows_per_s: number;
  peak_rss_mb: number | null;
  target_s: number | null;
}

export interface BenchReport {
  when: string;
  machine: { node: string; cpus: number; cpu: string; memory_gb: number; platform: string };
  rows: number;
  files: number;
  repeat: number;
  verbs: VerbResult[];
  serve: {
    requests_per_s: number;
    p50_ms: number;
    p99_ms: number;
    connections: number;
    duration_s: number;
    errors: number;
    non2xx: number;
    /** The server process's CPU time (all threads) per request, from /proc (Linux; null elsewhere). */
    cpu_us_per_request?: number | null;
  } | null;
  /** The same load test with the prediction log off. */
  serve_without_log?: BenchReport['serve'];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Run `mlops <args>` once; wall time from here, peak RSS from GNU time when it exists. */
function measure(cwd: string, args: string[]): Measure {
  const env = { ...process.env, NO_COLOR: '1', npm_config_registry: 'http://127.0.0.1:9/' };
  const t0 = performance.now();
  const r = GNU_TIME
    ? spawnSync(GNU_TIME, ['-f', '%M', process.execPath, BIN, '--quiet', ...args], { cwd, env, encoding: 'utf8' })
    : spawnSync(process.execPath, [BIN, '--quiet', ...args], { cwd, env, encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0 && !(args[0] === 'drift' && r.status === 4)) {
    throw new Error(`mlops ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  const kb = GNU_TIME ? Number(r.stderr.trim().split('\n').at(-1)) : Number.NaN;
  return { seconds, rssMB: Number.isFinite(kb) ? kb / 1024 : null };
}

function prepare(dataDir: string, rows: number, files: number): string {
  const project = join(dataDir, 'project');
  const stamp = join(dataDir, 'ready.json');
  if (!existsSync(stamp)) {
    rmSync(dataDir, { recursive: true, force: true });
    process.stderr.write(`generating ${rows} rows in ${files} files ...\n`);
    generate({ rows, files, out: join(project, 'practicedata'), dup: 0.05, seed: 1 });
    generate({ rows: 20_000, files: 1, out: join(project, 'testdata'), seed: 2, prefix: 'testdata.csv' });
    generate({ rows: Math.min(rows, 1_000_000), files: 2, out: join(project, 'current'), seed: 3, shift: 0.3, prefix: 'current' });
    writeFileSync(
      join(project, 'config.json'),
      JSON.stringify({
        input_folder_path: 'practicedata',
        output_folder_path: 'ingesteddata',
        test_data_path: 'testdata',
        output_model_path: 'practicemodels',
        prod_deployment_path: 'production_deployment',
      }),
    );
    writeFileSync(stamp, JSON.stringify({ rows, files }));
  }
  return project;
}

const clean = (project: string) => {
  for (const d of ['ingesteddata', 'practicemodels', 'production_deployment']) rmSync(join(project, d), { recursive: true, force: true });
};

type Serve = NonNullable<BenchReport['serve']>;

/** One autocannon run, as the library answers it. */
interface Cannon {
  requests: { total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}
type AutoCannon = (o: Record<string, unknown>, cb: (err: Error | null, r: Cannon) => void) => unknown;

/**
 * The load test: two servers of the project side by side, one with the prediction log on (the
 * default) and one with it off, and autocannon (16 connections, one-row bodies) alternating
 * between them in 1 s slices, `seconds` slices each, the order swapped every round: on a shared
 * machine the neighbours' load falls on both alike, so the ratio of the two is what the log
 * costs (two runs one after the other measured the neighbours as much as the log). Requests/s
 * and errors are over all slices; p50 and p99 are the medians of the slices'.
 */
async function loadTests(project: string, seconds: number): Promise<{ on: Serve; off: Serve }> {
  const ac = join(ROOT, 'node_modules', 'autocannon');
  if (!existsSync(ac)) throw new Error('autocannon is not installed (npm install, with dev dependencies)');
  const autocannon = createRequire(import.meta.url)(ac) as AutoCannon;
  const cfg = JSON.parse(readFileSync(join(project, 'config.json'), 'utf8')) as { live?: object };
  const servers = [true, false].map((logging) => {
    const cfgPath = join(project, `bench-log-${logging ? 'on' : 'off'}.json`);
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, live: { ...cfg.live, log: logging } }));
    const proc = spawn(process.execPath, [BIN, '--quiet', '--config', cfgPath, 'serve', '--port', '0'], { cwd: project });
    const url = new Promise<string>((res, rej) => {
      proc.stdout.once('data', (d: Buffer) => res(d.toString().trim()));
      proc.once('exit', (c) => rej(new Error(`serve exited ${c}`)));
    });
    return { cfgPath, proc, url, slices: [] as Cannon[], cpuS: 0 as number | null };
  });
  // utime + stime of a process, seconds (clock ticks of 1/100 s), or null without /proc
  const cpuOf = (pid: number | undefined): number | null => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      return null;
    }
  };
  const body = JSON.stringify({ rows: [{ lastmonth_activity: 10, lastyear_activity: 100, number_of_employees: 5 }] });
  const hit = (url: string, duration: number) =>
    new Promise<Cannon>((res, rej) =>
      autocannon({ url: `${url}/prediction`, connections: 16, duration, method: 'POST', headers: { 'content-type': 'application/json' }, body }, (err, r) => (err ? rej(err) : res(r))),
    );
  try {
    const urls = await Promise.all(servers.map((x) => x.url));
    for (const url of urls) await hit(url, 1); // warm-up
    for (let k = 0; k < seconds; k++) {
      for (const i of k % 2 ? [1, 0] : [0, 1]) {
        const x = servers[i]!;
        const c0 = cpuOf(x.proc.pid);
        x.slices.push(await hit(urls[i]!, 1));
        const c1 = cpuOf(x.proc.pid);
        x.cpuS = x.cpuS === null || c0 === null || c1 === null ? null : x.cpuS + c1 - c0;
      }
    }
  } finally {
    for (const x of servers) {
      x.proc.kill('SIGTERM');
      rmSync(x.cfgPath, { force: true });
    }
  }
  const summary = ({ slices, cpuS }: (typeof servers)[number]): Serve => ({
    requests_per_s: slices.reduce((a, r) => a + r.requests.total, 0) / slices.length,
    p50_ms: median(slices.map((r) => r.latency.p50)),
    p99_ms: median(slices.map((r) => r.latency.p99)),
    connections: 16,
    duration_s: slices.length,
    errors: slices.reduce((a, r) => a + r.errors, 0),
    non2xx: slices.reduce((a, r) => a + r.non2xx, 0),
    cpu_us_per_request: cpuS === null ? null : Math.round((cpuS * 1e7) / slices.reduce((a, r) => a + r.requests.total, 0)) / 10,
  });
  return { on: summary(servers[0]!), off: summary(servers[1]!) };
}

/**
 * Boosted trees, rows x 10 features with the defaults (early stopping on), median of 3 fits in
 * one process each side: bench/gbt-bench.mjs (ours) and, when python3 with scikit-learn is
 * there, bench/gbt_reference.py on the same data (HistGradientBoosting*).
 */
function gbtRows(rows: number, record: (verb: string, rows: number, ms: Measure[]) => void): void {
  for (const task of ['classification', 'regression']) {
    const ours = spawnSync(process.execPath, [join(ROOT, 'bench', 'gbt-bench.mjs'), '--rows', String(rows), '--task', task], { encoding: 'utf8' });
    const median = /ours: median ([\d.]+) s/.exec(ours.stdout)?.[1];
    if (!median) {
      process.stderr.write(`gbt bench (${task}) failed: ${ours.stderr.slice(0, 300)}\n`);
      continue;
    }
    record(`gbt fit, ${task} (ours)`, rows, [{ seconds: Number(median), rssMB: null }]);
    const py = spawnSync('python3', [join(ROOT, 'bench', 'gbt_reference.py'), '--rows', String(rows), '--task', task], { encoding: 'utf8' });
    const theirs = /sklearn: median ([\d.]+) s/.exec(py.stdout ?? '')?.[1];
    if (theirs) record(`gbt fit, ${task} (scikit-learn)`, rows, [{ seconds: Number(theirs), rssMB: null }]);
    else process.stderr.write('gbt bench: python3 with scikit-learn not found, no reference row\n');
  }
}

const TARGETS_1M: Record<string, number> = { ingest: 0.6, train: 0.5, score: 0.2, 'run (bootstrap)': 1.5, 'models (10,000 versions)': 0.2 };

/**
 * A copy of the bootstrapped project whose registry holds `n` versions, each with a test
 * evaluation and a registered event (as n trainings would leave it), for timing `mlops models`.
 */
function registryProject(project: string, n: number): string {
  const dir = join(dirname(project), `registry-${n}`);
  if (existsSync(join(dir, 'ready'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'testdata']) cpSync(join(project, f), join(dir, f), { recursive: true });
  mkdirSync(join(dir, 'practicedata'));
  const reg = join(dir, 'practicemodels', 'registry');
  const model = readFileSync(join(project, 'practicemodels', 'trainedmodel.json'), 'utf8');
  const hist = readFileSync(join(project, 'practicemodels', 'score_history.jsonl'), 'utf8').trim().split('\n');
  const test = JSON.parse(hist.find((l) => l.includes('"role":"test"')) ?? hist[0]!) as Record<string, unknown>;
  const index: string[] = [];
  const scores: string[] = [];
  const events: string[] = [];
  for (let v = 1; v <= n; v++) {
    const name = `v${String(v).padStart(4, '0')}`;
    const m = JSON.parse(model) as { intercept: number };
    const text = JSON.stringify({ ...m, intercept: m.intercept + v * 1e-12 }, null, 2) + '\n';
    const rec = {
      version: v, name, content_sha256: createHash('sha256').update(`c${v}`).digest('hex'), model_sha256: createHash('sha256').update(text).digest('hex'),
      created: new Date(Date.UTC(2026, 0, 1) + v * 60_000).toISOString(), model_type: 'logistic_regression', target: 'exited',
      features: ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'], settings: { C: 1, max_iter: 100, threshold: 0.5 },
      training_data: { sha256: 'x', rows: 1000 + v }, ingestion: null, replaces: v - 1 || null, tags: {}, note: null, source: 'train',
    };
    mkdirSync(join(reg, 'versions', name), { recursive: true });
    writeFileSync(join(reg, 'versions', name, 'model.json'), text);
    writeFileSync(join(reg, 'versions', name, 'version.json'), JSON.stringify(rec, null, 2));
    index.push(JSON.stringify(rec));
    scores.push(JSON.stringify({ ...test, version: v, model: name, model_sha256: rec.model_sha256, metrics: { ...(test.metrics as object), f1: 0.5 + (v % 1000) / 10_000 } }));
    events.push(JSON.stringify({ time: rec.created, kind: 'registered', version: v, alias: null, previous: null, reason: 'bench', command: 'mlops train' }));
  }
  writeFileSync(join(reg, 'index.jsonl'), index.join('\n') + '\n');
  writeFileSync(join(reg, 'events.jsonl'), events.join('\n') + '\n');
  writeFileSync(join(dir, 'practicemodels', 'score_history.jsonl'), scores.join('\n') + '\n');
  writeFileSync(join(dir, 'ready'), '');
  return dir;
}

export async function main(argv: string[]): Promise<number> {
  const o = new Command('bench')
    .option('--rows <n>', 'rows', (v) => Number(v), 1_000_000)
    .option('--files <k>', 'files', (v) => Number(v), 8)
    .option('--repeat <r>', 'runs per verb', (v) => Number(v), 3)
    .option('--duration <s>', 'load test seconds', (v) => Number(v), 10)
    .option('--out <file>', 'JSON results file')
    .option('--compare <old>', 'an earlier results file to compare with')
    .option('--no-serve', 'skip the load test')
    .option('--no-gbt', 'skip boosted trees against scikit-learn')
    .parse(argv)
    .opts<{ rows: number; files: number; repeat: number; duration: number; out?: string; compare?: string; serve: boolean; gbt: boolean }>();
  const dataDir = join(ROOT, '.bench-data', `${o.rows}x${o.files}`);
  const project = prepare(dataDir, o.rows, o.files);
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });

  const verbs: VerbResult[] = [];
  const record = (verb: string, rows: number, ms: Measure[]) => {
    const m = median(ms.map((x) => x.seconds));
    const rss = ms.map((x) => x.rssMB).filter((x): x is number => x !== null);
    const v: VerbResult = {
      verb,
      rows,
      runs: ms.map((x) => Math.round(x.seconds * 1000) / 1000),
      median_s: Math.round(m * 1000) / 1000,
      rows_per_s: Math.round(rows / m),
      peak_rss_mb: rss.length ? Math.round(Math.max(...rss)) : null,
      target_s: o.rows === 1_000_000 ? (TARGETS_1M[verb] ?? null) : null,
    };
    verbs.push(v);
    process.stderr.write(`${verb}: median ${v.median_s} s (${v.runs.join(', ')}), peak RSS ${v.peak_rss_mb} MB\n`);
  };
  const times = (n: number, f: () => Measure) => Array.from({ length: n }, f);

  // bootstrap run from nothing, each time
  record('run (bootstrap)', o.rows, times(o.repeat, () => (clean(project), measure(project, ['run']))));
  record('ingest', o.rows, times(o.repeat, () => measure(project, ['ingest'])));
  record('train', o.rows, times(o.repeat, () => measure(project, ['train'])));
  record('score', 20_000, times(o.repeat, () => measure(project, ['score'])));
  measure(project, ['deploy']);
  record('diagnose', o.rows, times(o.repeat, () => measure(project, ['diagnose'])));
  record('drift', Math.min(o.rows, 1_000_000), times(o.repeat, () => measure(project, ['drift', '--current', 'current'])));
  const reg = registryProject(project, 10_000);
  record('models (10,000 versions)', 10_000, times(o.repeat, () => measure(reg, ['models'])));
  record('models --all (10,000 lines)', 10_000, times(o.repeat, () => measure(reg, ['models', '--all'])));
  record('models --limit 20 --sort metric', 10_000, times(o.repeat, () => measure(reg, ['models', '--limit', '20', '--sort', 'metric'])));

  if (o.gbt) gbtRows(Math.min(o.rows, 1_000_000), record);

  const load = o.serve ? await loadTests(project, o.duration) : null;
  const serve = load?.on ?? null;
  const serveNoLog = load?.off ?? null;
  const report: BenchReport = {
    when: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', memory_gb: Math.round(totalmem() / 2 ** 30), platform: process.platform },
    rows: o.rows,
    files: o.files,
    repeat: o.repeat,
    verbs,
    serve,
    serve_without_log: serveNoLog,
  };
  const out = o.out ?? join(ROOT, 'bench-results', `bench-${o.rows}-${report.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');

  const old = o.compare ? (JSON.parse(readFileSync(o.compare, 'utf8')) as BenchReport) : null;
  const lines = [
    `mlops bench: ${o.rows} rows in ${o.files} files (5% duplicates), ${o.repeat} runs per verb, ${report.machine.cpus} cores, Node ${process.version}`,
    '',
    `| verb | rows | median s | rows/s | peak RSS MB | target s${old ? ' | before s | change' : ''} |`,
    `|---|---:|---:|---:|---:|---:${old ? '|---:|---:' : ''}|`,
    ...verbs.map((v) => {
      const prev = old?.verbs.find((x) => x.verb === v.verb);
      const change = prev ? ` | ${prev.median_s} | ${(v.median_s / prev.median_s).toFixed(2)}x` : old ? ' | - | -' : '';
      return `| ${v.verb} | ${v.rows} | ${v.median_s} | ${v.rows_per_s} | ${v.peak_rss_mb ?? 'n/a'} | ${v.target_s ?? ''}${change} |`;
    }),
  ];
  if (serve) {
    lines.push(
      '',
      `POST /prediction, one row, ${serve.connections} connections, ${serve.duration_s} s: ${Math.round(serve.requests_per_s)} requests/s, p50 ${serve.p50_ms} ms, p99 ${serve.p99_ms} ms, ${serve.errors} errors, ${serve.non2xx} non-2xx` +
        (old?.serve ? ` (before: ${Math.round(old.serve.requests_per_s)} requests/s, p99 ${old.serve.p99_ms} ms)` : ''),
    );
    if (serveNoLog) {
      const cpu = (x: Serve) => (x.cpu_us_per_request ? `, server CPU ${x.cpu_us_per_request} us per request` : '');
      lines.push(
        `prediction log off (alternating 1 s slices with the above): ${Math.round(serveNoLog.requests_per_s)} requests/s${cpu(serveNoLog)}; ` +
          `with the log on ${(serve.requests_per_s / serveNoLog.requests_per_s).toFixed(2)}x of that (target >= 0.8)${cpu(serve)}`,
      );
    }
  }
  lines.push('', `results: ${out}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`bench: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
