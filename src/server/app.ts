/**
 * The REST API on node:http. Chosen over a framework because the routes are few and fixed and
 * the hot path (a one-row prediction) should be nothing but: read body, JSON.parse, a dot
 * product, JSON.stringify; see the notes for the measured numbers.
 *
 * Every response is JSON (but /metrics, Prometheus text); every error body is {"error", "hint"}.
 * The client's mistakes get 4xx, never 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve, sep } from 'node:path';
import { MlopsError } from '../errors.js';
import { readDataset } from '../data/dataset.js';
import type { Config } from '../store/config.js';
import { score } from '../ops/score.js';
import { LiveModel, probability, type Loaded } from './livemodel.js';
import { ServerMetrics } from './metrics.js';
import { HttpError, rowsFromCsv, rowsFromJson } from './requests.js';

export interface ServeOptions {
  config: Config;
  host?: string;
  port?: number;
  /** Poll interval of the release watch backstop. */
  pollMs?: number;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  live: LiveModel;
  server: Server;
  close(): Promise<void>;
}

const ROUTES: Record<string, 'GET' | 'POST'> = {
  '/prediction': 'POST',
  '/scoring': 'GET',
  '/summarystats': 'GET',
  '/diagnostics': 'GET',
  '/health': 'GET',
  '/metrics': 'GET',
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new HttpError(413, `request body of ${declared} bytes is over the ${limit}-byte limit`, 'send fewer rows per request, or raise server.body_limit'));
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `request body is over the ${limit}-byte limit`, 'send fewer rows per request, or raise server.body_limit'));
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolvePromise(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const cfg = opts.config;
  const log = opts.log ?? (() => undefined);
  const metrics = new ServerMetrics();
  const live = new LiveModel(cfg.prod_deployment_path, (m) => {
    metrics.reloads++;
    log(m);
  });
  await live.refresh();
  live.start(opts.pollMs ?? 1000);
  const limit = cfg.server.body_limit;
  const dataDirs = await Promise.all(
    [cfg.input_folder_path, cfg.output_folder_path, cfg.test_data_path].map((d) => realpath(d).catch(() => d)),
  );

  let scoring: { version: string; body: unknown } | null = null;
  const diagnosticsFile = join(cfg.output_model_path, 'diagnostics.json');
  let diagnostics: { mtime: number; data: Record<string, unknown> } | null = null;
  const readDiagnostics = async () => {
    const st = await stat(diagnosticsFile).catch(() => null);
    if (!st) throw new HttpError(503, 'no diagnostics yet', 'run `mlops diagnose`');
    if (!diagnostics || diagnostics.mtime !== st.mtimeMs) {
      diagnostics = { mtime: st.mtimeMs, data: JSON.parse(await readFile(diagnosticsFile, 'utf8')) as Record<string, unknown> };
    }
    return diagnostics.data;
  };

  const needModel = (): Loaded => {
    const m = live.current;
    if (!m) throw new HttpError(503, 'no model is deployed yet', 'run `mlops run` or `mlops deploy`; the server picks it up without a restart');
    return m;
  };

  const predictRows = (m: Loaded, rows: Float64Array[]) => {
    const probabilities = new Array<number>(rows.length);
    const predictions = new Array<number>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const p = probability(m, rows[i]!);
      probabilities[i] = p;
      predictions[i] = p > m.model.threshold ? 1 : 0;
    }
    metrics.predictions += rows.length;
    return { predictions, probabilities, model_version: m.version };
  };

  const rowsFromPath = async (m: Loaded, path: unknown): Promise<Float64Array[]> => {
    if (typeof path !== 'string' || path === '') throw new HttpError(400, '"path" must be a non-empty string');
    if (path.split(/[\\/]/).includes('..')) throw new HttpError(400, `"path" must not contain ".." (${path})`);
    const abs = isAbsolute(path) ? path : resolve(cfg.root, path);
    const real = await realpath(abs).catch(() => {
      throw new HttpError(404, `no such data file: ${path}`);
    });
    if (!dataDirs.some((d) => real === d || real.startsWith(d + sep))) {
      throw new HttpError(403, `"path" is outside the configured data folders: ${path}`, 'use a file in input_folder_path, output_folder_path or test_data_path');
    }
    const st = await stat(real);
    if (!st.isFile()) throw new HttpError(400, `"path" is not a file: ${path}`);
    const ds = await readDataset([{ path: real, name: basename(real), size: st.size }], { target: null, features: m.model.features, name: 'req' });
    return Array.from({ length: ds.rows }, (_, i) => Float64Array.from(ds.X, (col) => col[i]!));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, route: string): Promise<number> => {
    const want = ROUTES[route];
    if (!want) throw new HttpError(404, `no route ${req.method} ${route}`, `routes: ${Object.entries(ROUTES).map(([r, m]) => `${m} ${r}`).join(', ')}`);
    if (req.method !== want) {
      res.setHeader('allow', want);
      throw new HttpError(405, `${route} takes ${want}, not ${req.method}`);
    }
    switch (route) {
      case '/prediction': {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json' && type !== 'text/csv') {
          throw new HttpError(415, `content type "${type || 'none'}" is not supported`, 'send application/json or text/csv');
        }
        const text = await readBody(req, limit);
        const m = needModel();
        let rows: Float64Array[];
        if (type === 'text/csv') rows = rowsFromCsv(text, m.model.features);
        else {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch (err) {
            throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
          }
          rows =
            typeof body === 'object' && body !== null && 'path' in body
              ? await rowsFromPath(m, (body as { path: unknown }).path)
              : rowsFromJson(body, m.model.features);
        }
        send(res, 200, predictRows(m, rows));
        return 200;
      }
      case '/scoring': {
        const m = needModel();
        if (!scoring || scoring.version !== m.version) {
          const r = await score({ config: cfg, model: join(m.release, 'trainedmodel.json'), dryRun: true });
          scoring = { version: m.version, body: { model_version: m.version, rows: r.rows, data_files: r.data_files, metrics: r.metrics, confusion: r.confusion } };
        }
        send(res, 200, scoring.body);
        return 200;
      }
      case '/summarystats': {
        const d = await readDiagnostics();
        send(res, 200, { timestamp: d.timestamp, data: d.data, rows: d.rows, summary: d.summary });
        return 200;
      }
      case '/diagnostics': {
        const d = await readDiagnostics();
        send(res, 200, { timestamp: d.timestamp, timings: d.timings, missing: d.missing, dependencies: d.dependencies });
        return 200;
      }
      case '/health': {
        const m = live.current;
        send(res, 200, { status: 'ok', model_version: m?.version ?? null, loaded_at: m?.loadedAt ?? null, uptime_seconds: process.uptime(), last_reload_error: live.lastError });
        return 200;
      }
      default: {
        const text = metrics.render(live.current?.version ?? null);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return 200;
      }
    }
  };

  const server = createServer((req, res) => {
    const t0 = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const route = q < 0 ? url : url.slice(0, q);
    handle(req, res, route)
      .catch((err: unknown) => {
        let status = 500;
        let body: { error: string; hint?: string };
        if (err instanceof HttpError) {
          status = err.status;
          body = { error: err.message, ...(err.hint ? { hint: err.hint } : {}) };
        } else if (err instanceof MlopsError) {
          // data the client pointed at is bad (DataError) or the server's state is (exit 2)
          status = err.exitCode === 3 ? 400 : 503;
          body = { error: err.message, ...(err.hint ? { hint: err.hint } : {}) };
        } else {
          body = { error: 'internal error' };
          log(`internal error on ${req.method} ${route}: ${(err as Error).stack ?? String(err)}`);
        }
        if (!res.headersSent) {
          if (status === 413) res.setHeader('connection', 'close');
          send(res, status, body);
        }
        return status;
      })
      .then((status) => metrics.observe(ROUTES[route] ? route : 'other', status, (performance.now() - t0) / 1000));
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? cfg.server.port, opts.host ?? cfg.server.host, () => resolvePromise());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    live,
    server,
    async close() {
      live.stop();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections();
      });
    },
  };
}
