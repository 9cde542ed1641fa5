/**
 * npm run bench -- [--rows N] [--files K] [--repeat R] [--duration S] [--out FILE] [--compare OLD.json]
 *                  [--no-serve] [--no-gbt] [--no-reference] [--big] [--clickhouse N] [--ui]
 *
 * Runs each verb as a whole process, the way users run it, on data made by the project's seeded
 * generator (N rows in K files with 5% duplicates, plus a 20,000-row test file), R times, and
 * prints the median wall time, rows per second, peak RSS and the time the verb spent reading the
 * ingested data (its MLOPS_TIMING read phases); then, when /usr/bin/python3 has pandas and
 * scikit-learn, bench/reference.py (the five verbs' work done the pandas way in one process) and
 * the ratios; then a load test of POST /prediction (one row, 16 connections) with autocannon.
 * --big also runs the verbs once at ten million rows and checks that time grows linearly and
 * peak RSS stays under 1.2 GB. --clickhouse N then trains on N rows on a scratch ClickHouse
 * server against the embedded engine (clickhouse.ts; Node's peak RSS should stay under 200 MB). The same table goes to a JSON file so runs can be compared
 * (--compare shows the change).
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
import { main as clickhouseBench } from './clickhouse.js';
import { measure, median, runIfMain, type Measure } from './measure.js';


const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'mlops.js');

export interface VerbResult {
  verb: string;
  rows: number;
  runs: number[];
  median_s: number;
  rows_per_s: number;
  peak_rss_mb: number | null;
  /** Median user + system CPU seconds (null without GNU time). */
  cpu_s?: number | null;
  target_s: number | null;
  /** Median milliseconds reading the ingested data (null: the verb does not read it). */
  read_ms?: number | null;
}

/** bench/reference.py: pandas + scikit-learn doing the five verbs' work in one process. */
export interface ReferenceResult {
  runs: number[];
  median_s: number;
  /** Seconds per step of the median run. */
  seconds: Record<string, number>;
  peak_rss_mb: number;
  /** CPU seconds (user + system) of the median run. */
  cpu_s?: number | null;
  /** mlops: the five verbs' summed median CPU seconds, and the reference's against it. */
  mlops_five_verbs_cpu_s?: number | null;
  cpu_ratio_five_verbs?: number | null;
  /** mlops: the five verbs (ingest, train, score, diagnose, deploy) as separate processes, summed medians. */
  mlops_five_verbs_s: number;
  /** The largest peak RSS of the five processes. */
  mlops_five_verbs_peak_rss_mb: number | null;
  speedup_five_verbs: number;
  /** Against the reference's steps that a bootstrap run does (imports, ingest, train, score, deploy). */
  speedup_run_bootstrap: number;
}

/** The verbs once at ten million rows (--big), against the medians at the main size. */
export interface BigCheck {
  rows: number;
  verbs: { verb: string; seconds: number; peak_rss_mb: number | null; ratio: number | null; linear: boolean | null; under_1_2_gb: boolean | null }[];
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
  reference?: ReferenceResult | null;
  big?: BigCheck | null;
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

/**
 * The verbs as users run them, in order, each `repeat` times: a bootstrap run from nothing, then
 * from a clean project ingest, train, score, deploy (a first deploy each time: the models folder
 * as score left it, no production folder), diagnose, data drift against 1M other rows, and score
 * on finaldata.csv itself (the loop's check of new data).
 */
function verbRows(project: string, rows: number, repeat: number, record: (verb: string, rows: number, ms: Measure[]) => void): void {
  const times = (f: () => Measure) => Array.from({ length: repeat }, f);
  record('run (bootstrap)', rows, times(() => (clean(project), measure(project, ['run']))));
  clean(project);
  record('ingest', rows, times(() => measure(project, ['ingest'])));
  record('train', rows, times(() => measure(project, ['train'])));
  record('score', 20_000, times(() => measure(project, ['score'])));
  const models = join(project, 'practicemodels');
  const scored = join(dirname(project), 'models-scored');
  rmSync(scored, { recursive: true, force: true });
  cpSync(models, scored, { recursive: true });
  record('deploy', rows, times(() => {
    for (const d of [models, join(project, 'production_deployment')]) rmSync(d, { recursive: true, force: true });
    cpSync(scored, models, { recursive: true });
    return measure(project, ['deploy']);
  }));
  record('diagnose', rows, times(() => measure(project, ['diagnose'])));
  // the reference (the training data) and the current data (at most 1M rows) are both read
  record('drift', rows + Math.min(rows, 1_000_000), times(() => measure(project, ['drift', '--current', 'current'])));
  record('score (finaldata.csv)', rows, times(() => measure(project, ['score', '--data', join('ingesteddata', 'finaldata.csv')])));
}

const PYTHON = '/usr/bin/python3';

/** Whether /usr/bin/python3 has pandas and scikit-learn (the reference needs both). */
function referenceAvailable(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pandas, sklearn'], { encoding: 'utf8' }).status === 0;
}

interface ReferenceRun {
  total_s: number;
  seconds: Record<string, number>;
  peak_rss_mb: number;
  cpu_s?: number;
}

/** One run of bench/reference.py on the bench project, writing into a scratch folder. */
function runReference(project: string): ReferenceRun {
  const out = join(dirname(project), 'reference-out');
  rmSync(out, { recursive: true, force: true });
  const r = spawnSync(PYTHON, [join(ROOT, 'bench', 'reference.py'), project, out], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench/reference.py exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ReferenceRun;
}

/** The reference `repeat` times, and mlops's ratios against its median. */
function reference(project: string, repeat: number, verbs: readonly VerbResult[]): ReferenceResult {
  const runs = Array.from({ length: repeat }, () => runReference(project));
  const totals = runs.map((r) => r.total_s);
  const mid = [...runs].sort((a, b) => a.total_s - b.total_s)[Math.floor(runs.length / 2)]!;
  const of = (verb: string) => verbs.find((v) => v.verb === verb)!;
  const five = ['ingest', 'train', 'score', 'diagnose', 'deploy'].map(of);
  const fiveS = five.reduce((t, v) => t + v.median_s, 0);
  const rss = five.map((v) => v.peak_rss_mb).filter((x): x is number => x !== null);
  // a bootstrap run does all but diagnose: the reference's steps but that one
  const bootstrapRef = (r: ReferenceRun) => r.total_s - (r.seconds.diagnose ?? 0);
  const round2 = (x: number) => Math.round(x * 100) / 100;
  return {
    runs: totals,
    median_s: median(totals),
    seconds: mid.seconds,
    peak_rss_mb: Math.max(...runs.map((r) => r.peak_rss_mb)),
    cpu_s: mid.cpu_s ?? null,
    mlops_five_verbs_cpu_s: five.every((v) => typeof v.cpu_s === 'number') ? round2(five.reduce((t, v) => t + v.cpu_s!, 0)) : null,
    cpu_ratio_five_verbs: typeof mid.cpu_s === 'number' && five.every((v) => typeof v.cpu_s === 'number') ? round2(mid.cpu_s / five.reduce((t, v) => t + v.cpu_s!, 0)) : null,
    mlops_five_verbs_s: Math.round(fiveS * 1000) / 1000,
    mlops_five_verbs_peak_rss_mb: rss.length ? Math.max(...rss) : null,
    speedup_five_verbs: round2(median(totals) / fiveS),
    speedup_run_bootstrap: round2(median(runs.map(bootstrapRef)) / of('run (bootstrap)').median_s),
  };
}

/**
 * The verbs once at ten million rows: each one's time against its median at the main size (a
 * ratio up to 1.2 times the ratio of rows, or 0.2 s more, counts as linear) and peak RSS
 * against 1.2 GB.
 */
function bigCheck(rows: number, files: number, main: readonly VerbResult[]): BigCheck {
  const project = prepare(join(ROOT, '.bench-data', `${rows}x${files}`), rows, files);
  const verbs: BigCheck['verbs'] = [];
  verbRows(project, rows, 1, (verb, n, [m]) => {
    const base = main.find((v) => v.verb === verb);
    const ratio = base ? Math.round((m!.seconds / base.median_s) * 10) / 10 : null;
    const rowsRatio = base ? n / base.rows : null;
    verbs.push({
      verb,
      seconds: Math.round(m!.seconds * 1000) / 1000,
      peak_rss_mb: m!.rssMB === null ? null : Math.round(m!.rssMB),
      ratio,
      // (with 0.2 s of slack: a verb whose rows do not grow may still take a little longer)
      linear: ratio === null || rowsRatio === null ? null : ratio <= 1.2 * rowsRatio || m!.seconds - base!.median_s <= 0.2,
      under_1_2_gb: m!.rssMB === null ? null : m!.rssMB < 1200,
    });
    process.stderr.write(`${verb} at ${n} rows: ${m!.seconds.toFixed(2)} s, peak RSS ${m!.rssMB?.toFixed(0)} MB\n`);
  });
  return { rows, verbs };
}

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

const TARGETS_1M: Record<string, number> = { ingest: 0.6, train: 0.5, score: 0.2, deploy: 0.15, diagnose: 0.4, 'run (bootstrap)': 1.5, 'models (10,000 versions)': 0.2 };

/** Reading the ingested data: at most this many milliseconds at 1M rows (issue 13). */
const READ_TARGET_MS = 60;

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
    .option('--no-reference', 'skip the pandas + scikit-learn reference (bench/reference.py)')
    .option('--big', 'also run the verbs once at ten million rows (linear time, peak RSS under 1.2 GB)')
    .option('--clickhouse <n>', 'also train on n rows on ClickHouse against DuckDB (clickhouse-server needed)', (v) => Number(v))
    .option('--ui', 'also time every page of mlops ui with 10,000 versions, 1,000 runs and 1M-row data (bench/ui-scale.mjs)')
    .parse(argv)
    .opts<{ rows: number; files: number; repeat: number; duration: number; out?: string; compare?: string; serve: boolean; gbt: boolean; reference: boolean; big?: boolean; clickhouse?: number; ui?: boolean }>();
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
    const reads = ms.map((x) => x.readMs).filter((x): x is number => typeof x === 'number');
    if (reads.length) v.read_ms = median(reads);
    const cpu = ms.map((x) => x.cpuS).filter((x): x is number => typeof x === 'number');
    if (cpu.length) v.cpu_s = Math.round(median(cpu) * 100) / 100;
    verbs.push(v);
    process.stderr.write(`${verb}: median ${v.median_s} s (${v.runs.join(', ')}), peak RSS ${v.peak_rss_mb} MB, CPU ${v.cpu_s ?? 'n/a'} s${reads.length ? `, reading the ingested data ${v.read_ms} ms` : ''}\n`);
  };
  const times = (n: number, f: () => Measure) => Array.from({ length: n }, f);

  verbRows(project, o.rows, o.repeat, record);
  let ref: ReferenceResult | null = null;
  if (!o.reference) process.stderr.write('reference skipped (--no-reference)\n');
  else if (!referenceAvailable()) process.stderr.write(`reference skipped: ${PYTHON} with pandas and scikit-learn not found\n`);
  else {
    ref = reference(project, o.repeat, verbs);
    process.stderr.write(`reference (pandas + scikit-learn, one process): median ${ref.median_s} s (${ref.runs.join(', ')}), peak RSS ${ref.peak_rss_mb} MB\n`);
  }
  const reg = registryProject(project, 10_000);
  record('models (10,000 versions)', 10_000, times(o.repeat, () => measure(reg, ['models'])));
  record('models --all (10,000 lines)', 10_000, times(o.repeat, () => measure(reg, ['models', '--all'])));
  record('models --limit 20 --sort metric', 10_000, times(o.repeat, () => measure(reg, ['models', '--limit', '20', '--sort', 'metric'])));

  if (o.gbt) gbtRows(Math.min(o.rows, 1_000_000), record);
  // The UI's pages at issue 16's scale: the script builds its own project once and prints its table.
  if (o.ui && spawnSync(process.execPath, [join(ROOT, 'bench', 'ui-scale.mjs')], { stdio: 'inherit' }).status !== 0) process.stderr.write('ui bench failed (see above)\n');

  const load = o.serve ? await loadTests(project, o.duration) : null;
  const serve = load?.on ?? null;
  const serveNoLog = load?.off ?? null;
  const big = o.big ? bigCheck(10_000_000, o.files, verbs) : null;
  const report: BenchReport = {
    when: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', memory_gb: Math.round(totalmem() / 2 ** 30), platform: process.platform },
    rows: o.rows,
    files: o.files,
    repeat: o.repeat,
    verbs,
    serve,
    serve_without_log: serveNoLog,
    reference: ref,
    big,
  };
  const out = o.out ?? join(ROOT, 'bench-results', `bench-${o.rows}-${report.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');

  const old = o.compare ? (JSON.parse(readFileSync(o.compare, 'utf8')) as BenchReport) : null;
  const lines = [
    `mlops bench: ${o.rows} rows in ${o.files} files (5% duplicates), ${o.repeat} runs per verb, ${report.machine.cpus} cores, Node ${process.version}`,
    '',
    `| verb | rows | median s | rows/s | peak RSS MB | CPU s | target s | reading ingested data ms${old ? ' | before s | change' : ''} |`,
    `|---|---:|---:|---:|---:|---:|---:|---:${old ? '|---:|---:' : ''}|`,
    ...verbs.map((v) => {
      const prev = old?.verbs.find((x) => x.verb === v.verb);
      const change = prev ? ` | ${prev.median_s} | ${(v.median_s / prev.median_s).toFixed(2)}x` : old ? ' | - | -' : '';
      const read = v.read_ms === undefined || v.read_ms === null ? '' : `${v.read_ms}${o.rows === 1_000_000 ? ` (target ${READ_TARGET_MS})` : ''}`;
      return `| ${v.verb} | ${v.rows} | ${v.median_s} | ${v.rows_per_s} | ${v.peak_rss_mb ?? 'n/a'} | ${v.cpu_s ?? ''} | ${v.target_s ?? ''} | ${read}${change} |`;
    }),
  ];
  if (ref) {
    const steps = Object.entries(ref.seconds).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(
      '',
      `reference, pandas + scikit-learn in one process: median ${ref.median_s} s (${steps}), peak RSS ${ref.peak_rss_mb} MB, CPU ${ref.cpu_s ?? 'n/a'} s`,
      `mlops, the five verbs as separate processes: ${ref.mlops_five_verbs_s} s, peak RSS ${ref.mlops_five_verbs_peak_rss_mb ?? 'n/a'} MB: ` +
        `${ref.speedup_five_verbs}x faster (target 2.5x, lower peak memory); run (bootstrap) ${ref.speedup_run_bootstrap}x faster than the same steps (target 3x)`,
      `CPU seconds (user + system, all threads; less sensitive to the neighbours' load): the five verbs ${ref.mlops_five_verbs_cpu_s ?? 'n/a'} s, the reference ${ref.cpu_s ?? 'n/a'} s (${ref.cpu_ratio_five_verbs ?? 'n/a'}x)`,
    );
  }
  if (big) {
    lines.push('', `at ${big.rows} rows, once each (ratio: time against the median at ${o.rows} rows; linear: at most 1.2x the ratio of rows, or 0.2 s more):`);
    for (const v of big.verbs) {
      lines.push(`  ${v.verb}: ${v.seconds} s (${v.ratio ?? '?'}x${v.linear === false ? ', NOT linear' : ''}), peak RSS ${v.peak_rss_mb ?? 'n/a'} MB${v.under_1_2_gb === false ? ' (over 1.2 GB)' : ''}`);
    }
  }
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
  if (o.clickhouse) return clickhouseBench(['node', 'bench-clickhouse', '--rows', String(o.clickhouse)]);
  return 0;
}

runIfMain(import.meta.url, main);
