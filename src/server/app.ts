/**
 * The REST API on node:http. Chosen over a framework because the routes are few and fixed and
 * the hot path (a one-row prediction) should be nothing but: read body, JSON.parse, a dot
 * product, JSON.stringify; see the notes for the measured numbers.
 *
 * Every response is JSON (but /metrics, Prometheus text); every error body is {"error", "hint"}.
 * The client's mistakes get 4xx, never 500; a broken file of the server's own (test data,
 * diagnostics.json) gets 5xx naming it. No error body holds an absolute path of the server's:
 * paths under the project are shown relative to it, a client's data file by its data folder.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DataError, MlopsError, quote } from '../errors.js';
import { outputLabel } from '../model/family.js';
import { readForModel } from '../ops/modeldata.js';
import type { Config } from '../store/config.js';
import { score } from '../ops/score.js';
import { openLive, renderLiveMetrics } from '../live/live.js';
import { newRequestId } from '../live/requestid.js';
import { parseModelText } from '../model/modelfile.js';
import { versionModelPath } from '../store/registry.js';
import { LiveModel, probability, type Loaded } from './livemodel.js';
import { ServerMetrics } from './metrics.js';
import { HttpError, rowsFromCsv, rowsFromJson, type RequestRows } from './requests.js';

interface RequestContext {
  requestId: string;
  rows: number;
  version: string | null;
}

/**
 * MLflow's answer shape: the predictions as a list (labels, as MLflow's scikit-learn flavour
 * answers); with id (or passed-through) columns, a list of records {columns..., prediction,
 * probability}, as MLflow answers for a model that returns a data frame.
 */
function mlflowPredictions(out: Record<string, unknown>): unknown[] {
  const predictions = out.predictions as unknown[];
  const ids = (out.ids ?? {}) as Record<string, unknown[]>;
  const probabilities = out.probabilities as number[] | undefined;
  if (!Object.keys(ids).length) return predictions;
  return predictions.map((p, i) => ({
    ...Object.fromEntries(Object.entries(ids).map(([c, v]) => [c, v[i]])),
    prediction: p,
    ...(probabilities ? { probability: probabilities[i] } : {}),
  }));
}

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
  '/invocations': 'POST',
  '/scoring': 'GET',
  '/summarystats': 'GET',
  '/diagnostics': 'GET',
  '/health': 'GET',
  '/ping': 'GET',
  '/version': 'GET',
  '/feedback': 'POST',
  '/experiment': 'GET',
  '/metrics': 'GET',
};
/** Routes a load balancer probes: HEAD answers with the GET's status and headers. */
const HEAD_OK = new Set(['/health', '/ping', '/version']);
const TOOLKIT_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

function send(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
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
  // the prediction log, the feedback store and the running experiment (src/live/live.ts)
  const liveOps = await openLive(cfg, cfg.live, log);
  // promotion.auto: act on the running experiment's verdict every few seconds (the model
  // watch then serves the new champion); one check at a time
  let autoBusy = false;
  const autoTimer = cfg.promotion.auto
    ? setInterval(() => {
        if (autoBusy || liveOps.experiment()?.status !== 'running') return;
        autoBusy = true;
        void (async () => {
          await liveOps.log?.flush();
          const { experimentAuto } = await import('../ops/live.js');
          const r = await experimentAuto({ config: cfg });
          if (r.action) log(`experiment: ${r.action}${r.reason ? ` (${r.reason})` : ''}`);
        })()
          .catch((err: Error) => log(`experiment auto-action failed: ${err.message}`))
          .finally(() => (autoBusy = false));
      }, Math.max(1000, 5 * cfg.live.experiment_poll_ms))
    : null;
  autoTimer?.unref();
  /** The experiment's challenger, loaded from the registry when the experiment names it. */
  let challenger: { name: string; loaded: Promise<Loaded | null> } | null = null;
  const challengerFor = (name: string): Promise<Loaded | null> => {
    if (challenger?.name !== name) {
      const v = Number(name.replace(/^v/, ''));
      const path = versionModelPath(cfg, v);
      challenger = {
        name,
        loaded: readFile(path, 'utf8').then(
          (text) => ({ model: parseModelText(text, path), version: name, release: path, loadedAt: new Date().toISOString() }),
          (err: Error) => {
            log(`challenger ${name} not loaded: ${err.message}`);
            return null;
          },
        ),
      };
    }
    return challenger.loaded;
  };
  const limit = cfg.server.body_limit;
  const dataDirs = await Promise.all(
    [cfg.input_folder_path, cfg.output_folder_path, cfg.test_data_path].map((d) => realpath(d).catch(() => d)),
  );

  /** Paths under the project folder, relative to it: error bodies go to clients. */
  const projectRelative = (text: string) => text.split(cfg.root + sep).join('');
  /** An error of the server's own files (5xx: not the client's fault), paths relative to the project. */
  const serverFault = (err: MlopsError) =>
    new HttpError(err.exitCode === 3 ? 500 : 503, projectRelative(err.message), err.hint && projectRelative(err.hint));

  let scoring: { version: string; body: unknown } | null = null;
  const diagnosticsFile = join(cfg.output_model_path, 'diagnostics.json');
  let diagnostics: { mtime: number; data: Record<string, unknown> } | null = null;
  const readDiagnostics = async () => {
    const st = await stat(diagnosticsFile).catch(() => null);
    if (!st) throw new HttpError(503, 'no diagnostics yet', 'run `mlops diagnose`');
    if (!diagnostics || diagnostics.mtime !== st.mtimeMs) {
      const broken = (what: string) => new HttpError(500, `${relative(cfg.root, diagnosticsFile)}: ${what}`, 'run `mlops diagnose` to write it again');
      let data: unknown;
      try {
        data = JSON.parse(await readFile(diagnosticsFile, 'utf8'));
      } catch (err) {
        throw broken(err instanceof SyntaxError ? `not valid JSON (${err.message})` : `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw broken('must hold a JSON object');
      diagnostics = { mtime: st.mtimeMs, data: data as Record<string, unknown> };
    }
    return diagnostics.data;
  };

  const needModel = (): Loaded => {
    const m = live.current;
    if (!m) throw new HttpError(503, 'no model is deployed yet', 'run `mlops run` or `mlops deploy`; the server picks it up without a restart');
    return m;
  };

  /**
   * Whether the challenger can score the rows encoded for the champion: the same inputs with the
   * same encoding. Decided once per pair of loaded models, not per request.
   */
  const compatible = new WeakMap<Loaded, WeakMap<Loaded, boolean>>();
  const sameInputs = (a: Loaded, b: Loaded): boolean => {
    let inner = compatible.get(a);
    if (!inner) compatible.set(a, (inner = new WeakMap()));
    let ok = inner.get(b);
    if (ok === undefined) inner.set(b, (ok = encodingOf(a) === encodingOf(b)));
    return ok;
  };

  // what an encoded row means: the inputs' names, kinds and levels (a numeric fill is each model's own)
  const encodingOf = (m: Loaded) => JSON.stringify(m.model.inputs.map((i) => [i.name, i.kind, i.kind === 'categorical' ? i.levels : null]));

  /** Class index of a probability (classification), for the log; NaN for a regression value. */
  const classOf = (m: Loaded, p: number) => (m.model.task === 'classification' ? (p > m.model.threshold ? 1 : 0) : Number.NaN);

  const predictRows = async (champion: Loaded, req: RequestRows, requestId: string) => {
    const t0 = performance.now();
    const rows = req.X;
    const exp = liveOps.experiment();
    const rival = exp && exp.status === 'running' ? await challengerFor(exp.challenger) : null;
    const usable = rival && sameInputs(champion, rival) ? rival : null;
    const sticky = exp?.sticky_key ? req.ids[exp.sticky_key] : undefined;
    const out = new Array<number>(rows.length);
    const predictions = new Array<number | string>(rows.length);
    const answered = new Array<string>(rows.length);
    const ids = rows.length === 1 ? [requestId] : rows.map((_, i) => `${requestId}/${i}`);
    let tLog = 0;
    for (let i = 0; i < rows.length; i++) {
      const route = usable ? liveOps.route(ids[i]!, (sticky?.[i] as string | number | null | undefined) ?? null) : null;
      const m = route?.answer === 'challenger' ? usable! : champion;
      const p = probability(m, rows[i]!);
      out[i] = p;
      predictions[i] = outputLabel(m.model, p);
      answered[i] = m.version;
      if (liveOps.log) {
        const t = performance.now();
        const other = route && (route.shadow || route.answer === 'challenger') ? (m === champion ? usable! : champion) : null;
        const q = other ? probability(other, rows[i]!) : 0;
        liveOps.log.log({
          requestId: ids[i]!,
          version: m.version,
          features: m.model.features,
          x: rows[i]!,
          proba: p,
          label: classOf(m, p),
          answeredBy: route?.answer ?? 'champion',
          shadow: other ? [{ version: other.version, proba: q, label: classOf(other, q) }] : undefined,
        });
        tLog += performance.now() - t;
      }
    }
    metrics.predictions += rows.length;
    metrics.stage('predict', (performance.now() - t0 - tLog) / 1000);
    if (liveOps.log) metrics.stage('log', tLog / 1000);
    metrics.output(champion.version, out, champion.model.task === 'classification');
    for (const name of req.unseen) metrics.unseen[name] = (metrics.unseen[name] ?? 0) + 1;
    const body: Record<string, unknown> = { predictions };
    if (champion.model.task === 'classification') body.probabilities = out;
    if (Object.keys(req.ids).length) body.ids = req.ids;
    body.model_version = answered.every((v) => v === champion.version) ? champion.version : answered;
    body.request_id = requestId;
    if (rows.length > 1 && liveOps.log) body.request_ids = ids;
    return body;
  };

  const rowsFromPath = async (m: Loaded, path: unknown): Promise<RequestRows> => {
    if (typeof path !== 'string' || path === '') throw new HttpError(400, '"path" must be a non-empty string');
    if (path.split(/[\\/]/).includes('..')) throw new HttpError(400, `"path" must not contain ".." (${quote(path)})`);
    const abs = isAbsolute(path) ? path : resolve(cfg.root, path);
    const real = await realpath(abs).catch(() => {
      throw new HttpError(404, `no such data file: ${quote(path)}`);
    });
    const dir = dataDirs.find((d) => real === d || real.startsWith(d + sep));
    if (!dir) {
      throw new HttpError(403, `"path" is outside the configured data folders: ${quote(path)}`, 'use a file in input_folder_path, output_folder_path or test_data_path');
    }
    const st = await stat(real);
    if (!st.isFile()) throw new HttpError(400, `"path" is not a file: ${quote(path)}`);
    try {
      const ds = await readForModel(m.model, [{ path: real, name: basename(real), size: st.size }], { name: 'req', target: false, ids: true });
      const unseen = Object.entries(ds.unseen).flatMap(([name, n]) => new Array<string>(n).fill(name));
      return { X: Array.from({ length: ds.rows }, (_, i) => Float64Array.from(ds.X, (col) => col[i]!)), ids: ds.ids, unseen };
    } catch (err) {
      // the client chose this file: its faults are the client's (400), named by data folder and name
      if (!(err instanceof DataError)) throw err;
      const shown = (text: string) => text.split(real).join(join(basename(dir), relative(dir, real)));
      throw new HttpError(400, shown(err.message), err.hint && shown(err.hint));
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, route: string, ctx: RequestContext): Promise<number> => {
    const want = ROUTES[route];
    if (!want) throw new HttpError(404, `no route ${req.method} ${route}`, `routes: ${Object.entries(ROUTES).map(([r, m]) => `${m} ${r}`).join(', ')}`);
    const head = req.method === 'HEAD' && HEAD_OK.has(route);
    if (req.method !== want && !head) {
      res.setHeader('allow', HEAD_OK.has(route) ? `${want}, HEAD` : want);
      throw new HttpError(405, `${route} takes ${want}, not ${req.method}`);
    }
    switch (route) {
      case '/prediction':
      case '/invocations': {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json' && type !== 'text/csv') {
          throw new HttpError(415, `content type "${type || 'none'}" is not supported`, 'send application/json or text/csv');
        }
        const text = await readBody(req, limit);
        const m = needModel();
        const t0 = performance.now();
        let rows: RequestRows;
        const extra = cfg.server.extra_columns;
        if (type === 'text/csv') rows = rowsFromCsv(text, m.model, extra);
        else {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch (err) {
            throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
          }
          rows =
            route === '/prediction' && typeof body === 'object' && body !== null && 'path' in body
              ? await rowsFromPath(m, (body as { path: unknown }).path)
              : rowsFromJson(body, m.model, extra);
        }
        metrics.stage('parse', (performance.now() - t0) / 1000);
        const out = await predictRows(m, rows, ctx.requestId);
        ctx.rows = rows.X.length;
        ctx.version = m.version;
        res.setHeader('x-model-version', typeof out.model_version === 'string' ? out.model_version : m.version);
        if (route === '/prediction') send(res, 200, out);
        else send(res, 200, { predictions: mlflowPredictions(out) });
        return 200;
      }
      case '/scoring': {
        const m = needModel();
        if (!scoring || scoring.version !== m.version) {
          const r = await score({ config: cfg, model: join(m.release, 'trainedmodel.json'), dryRun: true }).catch((err: unknown) => {
            throw err instanceof MlopsError ? serverFault(err) : err;
          });
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
        send(res, 200, { status: 'ok', model_version: m?.version ?? null, loaded_at: m?.loadedAt ?? null, uptime_seconds: process.uptime(), last_reload_error: live.lastError }, head);
        return 200;
      }
      case '/feedback': {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json') throw new HttpError(415, `content type "${type || 'none'}" is not supported`, 'send application/json');
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req, limit));
        } catch (err) {
          if (err instanceof HttpError) throw err;
          throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
        }
        await liveOps.log?.flush();
        send(res, 200, await liveOps.postFeedback(body));
        return 200;
      }
      case '/experiment': {
        const status = await liveOps.experimentStatus();
        if (!status) throw new HttpError(404, 'no experiment has been started', 'start one with `mlops experiment start --challenger V --mode shadow|canary`');
        send(res, 200, status);
        return 200;
      }
      case '/ping': {
        // MLflow's liveness probe: 200 once a model is served
        const ok = live.current !== null;
        send(res, ok ? 200 : 503, ok ? { status: 'ok' } : { error: 'no model is deployed yet' }, head);
        return ok ? 200 : 503;
      }
      case '/version': {
        const m = live.current;
        send(res, 200, { mlops: TOOLKIT_VERSION, model_version: m?.version ?? null, model_type: m?.model.type ?? null, task: m?.model.task ?? null }, head);
        return 200;
      }
      default: {
        const text = metrics.render(live.current?.version ?? null) + renderLiveMetrics(liveOps);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return 200;
      }
    }
  };

  const accessLog: WriteStream | null = cfg.server.access_log ? createWriteStream(cfg.server.access_log, { flags: 'a' }) : null;
  accessLog?.on('error', (err) => log(`access log ${cfg.server.access_log}: ${err.message}`));
  const server = createServer((req, res) => {
    const t0 = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const route = q < 0 ? url : url.slice(0, q);
    // the client's request id (or one made here) comes back on every response
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && given.length > 0 && given.length <= 200 ? given : newRequestId();
    res.setHeader('x-request-id', requestId);
    const ctx: RequestContext = { requestId, rows: 0, version: null };
    handle(req, res, route, ctx)
      .catch((err: unknown) => {
        let status = 500;
        let body: { error: string; hint?: string };
        if (err instanceof HttpError) {
          status = err.status;
          body = { error: err.message, ...(err.hint ? { hint: err.hint } : {}) };
          if (status >= 500 && status !== 503) log(`${req.method} ${route} -> ${status}: ${err.message}`);
        } else if (err instanceof MlopsError) {
          // not traced to the client's request: the server's own files (exit 3) or state (exit 2)
          const e = serverFault(err);
          status = e.status;
          body = { error: e.message, ...(e.hint ? { hint: e.hint } : {}) };
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
      .then((status) => {
        const seconds = (performance.now() - t0) / 1000;
        metrics.observe(ROUTES[route] ? route : 'other', status, seconds);
        accessLog?.write(
          JSON.stringify({ time: new Date().toISOString(), method: req.method, route, status, ms: Math.round(seconds * 1e6) / 1e3, rows: ctx.rows, model_version: ctx.version, request_id: ctx.requestId }) + '\n',
        );
      });
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
      metrics.close();
      accessLog?.end();
      if (autoTimer) clearInterval(autoTimer);
      await liveOps.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections();
      });
    },
  };
}
