/**
 * Dependency status: each runtime dependency of the installed toolkit with its installed,
 * wanted (newest matching package.json's range) and latest versions from the npm registry.
 * The registry is asked with a short timeout; when it cannot be reached the table says so.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DependencyStatus {
  name: string;
  range: string;
  installed: string | null;
  wanted: string | null;
  latest: string | null;
  status: 'up to date' | 'outdated' | 'update available' | 'not installed' | 'registry unreachable';
}

export interface DependencyReport {
  registry: string;
  reachable: boolean;
  error: string | null;
  dependencies: DependencyStatus[];
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * GET a JSON document by node:http(s). Not fetch: its HTTP client loads on first use, ~35-55 ms
 * of the main thread while diagnose reads its data (measured at 1M rows).
 */
async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const { get } = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const headers = { accept: 'application/vnd.npm.install-v1+json' };
    const req = get(url, { headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(parts).toString('utf8')));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('error', reject);
  });
}

export async function dependencyStatus(toolkitRoot: string, timeoutMs = 3000): Promise<DependencyReport> {
  const pkg = (await readJson(join(toolkitRoot, 'package.json'))) ?? {};
  const deps = (pkg.dependencies ?? {}) as Record<string, string>;
  const registry = (process.env.npm_config_registry || 'https://registry.npmjs.org/').replace(/\/?$/, '/');
  let firstError: string | null = null;
  const rows = await Promise.all(
    Object.entries(deps).map(async ([name, range]): Promise<DependencyStatus> => {
      const installed = ((await readJson(join(toolkitRoot, 'node_modules', name, 'package.json')))?.version as string) ?? null;
      let versions: string[] | null = null;
      let latest: string | null = null;
      try {
        const meta = (await getJson(registry + name.replace('/', '%2F'), timeoutMs)) as { versions?: Record<string, unknown>; 'dist-tags'?: { latest?: string } };
        versions = Object.keys(meta.versions ?? {});
        latest = meta['dist-tags']?.latest ?? null;
      } catch (err) {
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      // semver is loaded only with an answer to compare (~25 ms of start-up otherwise)
      const semver = versions ? (await import('semver')).default : null;
      const wanted = versions ? semver!.maxSatisfying(versions, range) : null;
      const status: DependencyStatus['status'] = !installed
        ? 'not installed'
        : !versions
          ? 'registry unreachable'
          : wanted && semver!.lt(installed, wanted)
            ? 'outdated'
            : latest && semver!.lt(installed, latest)
              ? 'update available'
              : 'up to date';
      return { name, range, installed, wanted, latest, status };
    }),
  );
  const reachable = rows.some((r) => r.latest !== null) || rows.length === 0;
  return { registry, reachable, error: reachable ? null : firstError, dependencies: rows };
}
