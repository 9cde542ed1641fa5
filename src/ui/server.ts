/**
 * mlops ui: a local web app on node:http. The pages are static files shipped in the package
 * (ui/), the charts are drawn in the browser by vega-embed from bundles served out of
 * node_modules (no CDN, no build step), fed by the JSON answers of src/ui/api.ts. Errors are
 * JSON bodies {"error", "hint"} as in the REST server (src/server/app.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlopsError, quote } from '../errors.js';
import { GateRejectedError, promote } from '../ops/promote.js';
import { parseVersion } from '../ops/models.js';
import { rollback } from '../ops/deploy.js';
import type { Config } from '../store/config.js';
import { HttpError } from '../server/requests.js';
import * as api from './api.js';
import { LiveView, startFromUi, stopFromUi } from './live.js';
import { Profiles } from './profilejob.js';
import { COOKIE, credential, isLoopback, requiredToken, sameOrigin, sameToken } from './auth.js';

export interface UiOptions {
  config: Config;
  host?: string;
  port?: number;
  /** MLOPS_UI_TOKEN; required on a non-loopback address. */
  token?: string;
  log?: (line: string) => void;
  /** Compute the data profiles in the background at start (default true). */
  warm?: boolean;
}

export interface RunningUi {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export const DEFAULT_UI_PORT = 8501;

/** "127.0.0.1:8501" -> "127.0.0.1", "[::1]:8501" -> "::1". */
const hostOf = (h: string) => (h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.split(':')[0]!);

/** The shipped pages: ui/ at the package root (two levels above src/ui and dist/ui). */
const STATIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui');
const require = createRequire(import.meta.url);
/** A package's folder, found through its main entry (their exports hide package.json). */
const packageDir = (name: string) => {
  const main = require.resolve(name);
  return main.slice(0, main.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}`.length);
};
const VENDOR: Record<string, [string, string]> = {
  '/vendor/vega.min.js': ['vega', 'build/vega.min.js'],
  '/vendor/vega-lite.min.js': ['vega-lite', 'build/vega-lite.min.js'],
  '/vendor/vega-embed.min.js': ['vega-embed', 'build/vega-embed.min.js'],
};
const STATIC: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A %-escaped path segment decoded; a malformed escape (`%E0%A4%A`) is a 400, not a URIError. */
function decodePathPart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, `malformed %-escape in ${quote(text, 40)}`, 'escape the path as UTF-8 (encodeURIComponent)');
  }
}

async function readJsonBody(req: IncomingMessage, limit = 64 * 1024): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new HttpError(413, `request body is over ${limit} bytes`);
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'the body must be a JSON object');
  return v as Record<string, unknown>;
}

/** An MlopsError as an HTTP status: a state or config problem 409, a gate rejection 409, bad files 500. */
function statusOf(err: MlopsError): number {
  if (err instanceof GateRejectedError) return 409;
  return err.exitCode === 2 ? 409 : err.exitCode === 3 ? 500 : 500;
}

export async function startUi(opts: UiOptions): Promise<RunningUi> {
  const cfg = opts.config;
  const host = opts.host ?? '127.0.0.1';
  const token = requiredToken(host, opts.token);
  const needsToken = !isLoopback(host);
  const log = opts.log ?? (() => undefined);
  const files = new Map<string, Buffer>();
  const asset = async (path: string) => {
    let b = files.get(path);
    if (!b) {
      const v = VENDOR[path];
      b = await readFile(v ? join(packageDir(v[0]), v[1]) : join(STATIC_DIR, STATIC[path]![0]));
      files.set(path, b);
    }
    return b;
  };
  /** Serialise actions: one promotion, rollback, experiment start or stop at a time from this UI. */
  let acting: Promise<unknown> = Promise.resolve();
  const live = new LiveView(cfg, cfg.promotion.metric ?? cfg.drift.metric);
  if (opts.warm !== false) live.start();
  const profiles = new Profiles(cfg);

  const routes: Record<string, (q: URLSearchParams, tail: string) => Promise<unknown>> = {
    '/api/overview': () => api.overview(cfg, live, profiles),
    '/api/overview/live': () => api.overviewLive(cfg, live),
    '/api/curves': () => api.curves(cfg),
    '/api/models': (q) => api.models(cfg, q),
    '/api/compare': (q) => api.compare(cfg, q),
    '/api/model': (_q, tail) => api.model(cfg, tail),
    '/api/drift': () => api.drift(cfg, profiles),
    '/api/runs': (q) => api.runs(cfg, q),
    '/api/live': () => live.answer(),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const path = url.pathname;
    // Without a token only a page served as localhost may talk to us (no DNS rebinding).
    if (!needsToken && !isLoopback(hostOf(req.headers.host ?? ''))) throw new HttpError(403, `Host ${req.headers.host ?? 'missing'} refused`, 'open the UI as http://127.0.0.1:PORT');
    // The one-time link: /?token=TOKEN sets the cookie and sends the browser to / without it.
    if (path === '/' && url.searchParams.has('token') && token) {
      if (!sameToken(url.searchParams.get('token')!, token)) throw new HttpError(401, 'wrong token', 'open the link printed by `mlops ui`, or send Authorization: Bearer TOKEN');
      res.writeHead(303, { ...SECURITY_HEADERS, location: '/', 'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`, 'content-length': 0 });
      res.end();
      return 303;
    }
    const cred = token ? credential(req, token) : null;
    if (needsToken && !cred) {
      res.setHeader('www-authenticate', 'Bearer realm="mlops ui"');
      throw new HttpError(401, 'this UI needs its token', 'open the /?token=... link printed by `mlops ui`, or send Authorization: Bearer TOKEN');
    }
    if (req.method === 'POST') {
      // an action: from this UI's own pages only (a Bearer client without a browser may omit Origin)
      const origin = req.headers.origin;
      if (origin ? !sameOrigin(req) : cred !== 'bearer') throw new HttpError(403, `cross-origin action refused (Origin ${origin ?? 'missing'})`, 'actions are taken from the UI itself');
      const body = await readJsonBody(req);
      const act = async () => {
        if (path === '/api/promote') {
          if (typeof body.version !== 'string' && typeof body.version !== 'number') throw new HttpError(400, '"version" must be a version such as "v0002"');
          const alias = body.alias === undefined ? 'champion' : String(body.alias);
          const r = await promote({ config: cfg, version: parseVersion(String(body.version)), alias, force: body.force === true, reason: 'promoted in mlops ui' });
          log(`promoted ${r.name} to ${alias}${r.forced ? ' (forced)' : ''}`);
          return { version: r.version, name: r.name, alias: r.alias, previous: r.previous, changed: r.changed, forced: r.forced, gate: r.gate && { passed: r.gate.passed, summary: r.gate.summary }, release: r.release?.name ?? null };
        }
        if (path === '/api/rollback') {
          const r = await rollback({ config: cfg });
          log(`rolled back from v${r.from_version} to v${r.to_version}`);
          return r;
        }
        if (path === '/api/experiment/start') {
          const e = await startFromUi(cfg, body);
          log(`experiment ${e.id} started: ${e.challenger} against ${e.champion ?? 'the champion'} (${e.mode}${e.mode === 'canary' ? `, ${e.traffic} of traffic` : ''})`);
          return e;
        }
        if (path === '/api/experiment/stop') {
          const r = await stopFromUi(cfg);
          log(`experiment ${r.experiment.id} stopped: ${r.decision}`);
          return r;
        }
        throw new HttpError(404, `no action ${path}`, 'actions: POST /api/promote, /api/rollback, /api/experiment/start, /api/experiment/stop');
      };
      const p = acting.then(act, act);
      acting = p.catch(() => undefined);
      send(res, 200, await p);
      return 200;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, POST');
      throw new HttpError(405, `${req.method} is not supported`);
    }
    if (STATIC[path] || VENDOR[path]) {
      const b = await asset(path);
      const type = STATIC[path]?.[1] ?? 'text/javascript; charset=utf-8';
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': b.length, 'cache-control': VENDOR[path] ? 'max-age=86400' : 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : b);
      return 200;
    }
    const base = path.startsWith('/api/model/') ? '/api/model' : path;
    const fn = routes[base];
    if (!fn) throw new HttpError(404, `no page or endpoint ${path}`, `endpoints: ${Object.keys(routes).join(', ')}`);
    send(res, 200, await fn(url.searchParams, decodePathPart(path.slice(base.length + 1))));
    return 200;
  };

  const server = createServer((req, res) => {
    const t0 = performance.now();
    handle(req, res)
      .catch((err: unknown) => {
        let status = 500;
        let body: { error: string; hint?: string };
        if (err instanceof HttpError) {
          status = err.status;
          body = { error: err.message, ...(err.hint ? { hint: err.hint } : {}) };
        } else if (err instanceof MlopsError) {
          status = statusOf(err);
          body = { error: err.message.split(cfg.root + '/').join(''), ...(err.hint ? { hint: err.hint } : {}) };
        } else {
          body = { error: 'internal error' };
          log(`internal error on ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
        }
        if (!res.headersSent) send(res, status, body);
        return status;
      })
      .then((status) => {
        if (process.env.MLOPS_TIMING) log(`${req.method} ${req.url} -> ${status} (${(performance.now() - t0).toFixed(1)} ms)`);
      });
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_UI_PORT, host, () => resolvePromise());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  // the data profiles once per data file, in the background: the first Data drift view is then fast
  if (opts.warm !== false) profiles.warm();
  return {
    url: `http://${shown}:${addr.port}`,
    port: addr.port,
    server,
    async close() {
      await Promise.all([live.close(), profiles.close()]);
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
