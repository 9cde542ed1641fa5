/**
 * node dist/bench/predlog.js [--duration S] [--connections C]
 *
 * What the prediction log costs the server: the one-row hot path of POST /prediction (read
 * body, JSON.parse, rowsFromJson, the dot product, JSON.stringify) served on node:http with the
 * log off and on, each under autocannon load (a separate process) for S seconds, alternately
 * twice; prints requests/s of each and their ratio (the issue asks for >= 0.8), and the server
 * process's CPU time per request (user + system: robust to a busy machine, where requests/s
 * swing with the neighbours; 1 / CPU per request is the throughput of one dedicated core).
 * Also the cost of log() alone, in ns per prediction with the flushes included.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseModel } from '../model/modelfile.js';
import { probability, type Loaded } from '../server/livemodel.js';
import { rowsFromJson } from '../server/requests.js';
import { newRequestId, PredictionLog } from '../live/predlog.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
const MODEL: Loaded = {
  version: 'v0001',
  release: '',
  loadedAt: '',
  model: parseModel(
    { format: 'mlops-model/1', type: 'logistic_regression', target: 'exited', features: FEATURES, coefficients: [-0.01, 0.0001, 0.02], intercept: 0.8, feature_means: [20, 900, 30] },
    'bench model',
  ),
};

/** The server half: serve the hot path, log or not, print the port. */
async function serve(logging: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-predlog-bench-'));
  const log = logging ? await PredictionLog.open(dir) : null;
  let served = 0;
  let cpu0: NodeJS.CpuUsage | null = null;
  let elu0: ReturnType<typeof performance.eventLoopUtilization> | null = null;
  const server = createServer((req, res) => {
    if (served++ === 1000) {
      // after warm-up
      cpu0 = process.cpuUsage();
      elu0 = performance.eventLoopUtilization();
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rows = rowsFromJson(JSON.parse(Buffer.concat(chunks).toString('utf8')), MODEL.model).X;
      const id = (req.headers['x-request-id'] as string | undefined) ?? newRequestId();
      const probabilities = rows.map((x) => probability(MODEL, x));
      const predictions = probabilities.map((p) => (p > 0.5 ? 1 : 0));
      if (log) for (let i = 0; i < rows.length; i++) log.log({ requestId: id, version: MODEL.version, features: FEATURES, x: rows[i]!, proba: probabilities[i]!, label: predictions[i]! });
      const text = JSON.stringify({ predictions, probabilities, model_version: MODEL.version, request_id: id });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-request-id': id });
      res.end(text);
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.on('SIGTERM', () => {
    const c = process.cpuUsage(cpu0 ?? undefined);
    const e = performance.eventLoopUtilization(elu0 ?? undefined);
    const n = Math.max(1, served - 1000);
    process.stdout.write(`${(c.user + c.system) / n} ${(e.active * 1000) / n}\n`);
    server.close();
    void log?.close().then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

interface Load {
  rps: number;
  /** Process CPU (every thread) per request, us. */
  cpuUs: number;
  /** Main thread (event loop) busy time per request, us: what bounds one server process. */
  loopUs: number;
}

async function load(logging: boolean, seconds: number, connections: number): Promise<Load> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [self, '--serve', logging ? 'on' : 'off'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((res) => child.stdout.once('data', (d: Buffer) => res(d.toString().trim())));
  const body = JSON.stringify({ rows: [{ lastmonth_activity: 10, lastyear_activity: 100, number_of_employees: 5 }] });
  const r = spawnSync(
    process.execPath,
    [createRequire(import.meta.url).resolve('autocannon/autocannon.js'), '--json', '-c', String(connections), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', body, `http://127.0.0.1:${port}/prediction`],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const usage = new Promise<number[]>((res) => child.stdout.once('data', (d: Buffer) => res(d.toString().trim().split(' ').map(Number))));
  child.kill('SIGTERM');
  const [cpuUs, loopUs] = (await usage) as [number, number];
  await new Promise((res) => child.once('exit', res));
  return { rps: (JSON.parse(r.stdout) as { requests: { average: number } }).requests.average, cpuUs, loopUs };
}

/** ns per log() call, flushes included, at the server's pace (a flush every 40,000). */
async function logCost(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-predlog-bench-'));
  const log = await PredictionLog.open(dir, { flush_ms: 3_600_000 });
  const x = Float64Array.from([234, 3000, 12]);
  const n = 400_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    log.log({ requestId: newRequestId(), version: 'v0003', features: FEATURES, x, proba: 0.8123456789, label: 1 });
    if (i % 40_000 === 39_999) await log.flush();
  }
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return Number(process.hrtime.bigint() - t0) / n;
}

async function main(): Promise<void> {
  const arg = (name: string, d: number) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? d : Number(process.argv[i + 1]);
  };
  const si = process.argv.indexOf('--serve');
  if (si >= 0) return serve(process.argv[si + 1] === 'on');
  const seconds = arg('--duration', 5);
  const connections = arg('--connections', 16);
  await logCost(); // warm-up
  console.log(`log(): ${(await logCost()).toFixed(0)} ns per prediction (newRequestId and flushes included)`);
  const off: Load[] = [];
  const on: Load[] = [];
  for (let k = 0; k < 2; k++) {
    off.push(await load(false, seconds, connections));
    on.push(await load(true, seconds, connections));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rps = (xs: typeof off) => xs.map((x) => Math.round(x.rps)).join(', ');
  const cpu = (xs: Load[]) => mean(xs.map((x) => x.cpuUs));
  const loop = (xs: Load[]) => mean(xs.map((x) => x.loopUs));
  console.log(`one-row POST /prediction, ${connections} connections, ${seconds} s x 2: log off ${rps(off)} requests/s; on ${rps(on)}; ratio ${(mean(on.map((x) => x.rps)) / mean(off.map((x) => x.rps))).toFixed(3)}`);
  console.log(`server CPU per request (all threads): log off ${cpu(off).toFixed(1)} us, on ${cpu(on).toFixed(1)} us; ratio ${(cpu(off) / cpu(on)).toFixed(3)}`);
  console.log(`event-loop busy time per request: log off ${loop(off).toFixed(1)} us, on ${loop(on).toFixed(1)} us; throughput ratio ${(loop(off) / loop(on)).toFixed(3)}`);
}

void main();
