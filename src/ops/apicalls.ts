/**
 * mlops apicalls: call every endpoint of a running server and write all responses, with their
 * status codes, to apireturns.txt in output_model_path. Fails when any call is not a 200.
 */
import { join, relative } from 'node:path';
import { listCsvFiles } from '../data/csvfiles.js';
import { MlopsError, EXIT_CODES } from '../errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';

export class ApiCallError extends MlopsError {
  override readonly exitCode = EXIT_CODES.apicall;
}

export interface ApiCall {
  method: 'GET' | 'POST';
  path: string;
  status: number | null;
  ms: number;
  body: string;
}

export interface ApiCallsResult {
  url: string;
  output: string;
  calls: ApiCall[];
  ok: boolean;
}

export const serverUrl = (cfg: Config) => cfg.server.url ?? `http://${cfg.server.host.includes(':') ? `[${cfg.server.host}]` : cfg.server.host}:${cfg.server.port}`;

/** Poll /health until the server reports `version` (it reloads within about a second). */
async function waitForVersion(url: string, version: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (((await res.json()) as { model_version?: string }).model_version === version) return;
    } catch {
      // not up (yet): keep polling until the deadline
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface ApiCallsOptions {
  config: Config;
  url?: string;
  timeoutMs?: number;
  /** Wait (up to 5 s) until the server serves this release before calling (after a deploy). */
  expectVersion?: string;
}

export async function apicalls(opts: ApiCallsOptions): Promise<ApiCallsResult> {
  const cfg = opts.config;
  const url = (opts.url ?? serverUrl(cfg)).replace(/\/$/, '');
  if (opts.expectVersion) await waitForVersion(url, opts.expectVersion, 5000);
  const { csv } = await listCsvFiles(cfg.test_data_path);
  const testFile = csv[0] ? relative(cfg.root, csv[0].path) : null;
  const plan: { method: 'GET' | 'POST'; path: string; body?: string }[] = [
    { method: 'POST', path: '/prediction', body: JSON.stringify(testFile ? { path: testFile } : { rows: [] }) },
    { method: 'GET', path: '/scoring' },
    { method: 'GET', path: '/summarystats' },
    { method: 'GET', path: '/diagnostics' },
    { method: 'GET', path: '/health' },
    { method: 'GET', path: '/metrics' },
  ];
  const calls: ApiCall[] = [];
  let answering = true;
  for (const p of plan) {
    if (!answering) {
      // no point waiting out a timeout per endpoint once the server did not answer at all
      calls.push({ method: p.method, path: p.path, status: null, ms: 0, body: 'not attempted: the server did not answer' });
      continue;
    }
    const t0 = performance.now();
    try {
      const res = await fetch(url + p.path, {
        method: p.method,
        headers: p.body ? { 'content-type': 'application/json' } : undefined,
        body: p.body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
      calls.push({ method: p.method, path: p.path, status: res.status, ms: performance.now() - t0, body: await res.text() });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      calls.push({ method: p.method, path: p.path, status: null, ms: performance.now() - t0, body: `no response: ${e.cause?.code ?? e.message}` });
      answering = false;
    }
  }
  const output = join(cfg.output_model_path, 'apireturns.txt');
  const text = calls.map((c) => `${c.method} ${url}${c.path} -> ${c.status ?? 'no response'} (${c.ms.toFixed(1)} ms)\n${c.body.trimEnd()}\n`).join('\n');
  await writeFileAtomic(output, text);
  const failed = calls.filter((c) => c.status !== 200);
  if (failed.length) {
    throw new ApiCallError(
      `${url}: ${failed.length} of ${calls.length} calls did not return 200 (${failed.map((f) => `${f.path} ${f.status ?? 'no response'}`).join(', ')}); responses in ${output}`,
      failed.every((f) => f.status === null) ? 'is `mlops serve` running at that address?' : 'see the response bodies for the reason',
    );
  }
  return { url, output, calls, ok: true };
}
