/** diagnose's dependency table against a registry on a local port (no network). */
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyStatus } from '../../src/diagnostics/dependencies.js';

let server: Server;
let registry = '';
const asked: string[] = [];
const roots: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(`${req.url} ${req.headers.accept}`);
    if (req.url === '/left-pad') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ versions: { '1.0.0': {}, '1.3.0': {}, '2.0.0': {} }, 'dist-tags': { latest: '2.0.0' } }));
    } else if (req.url === '/@scope%2Fkit') {
      res.writeHead(200);
      res.end(JSON.stringify({ versions: { '0.1.0': {} }, 'dist-tags': { latest: '0.1.0' } }));
    } else {
      res.writeHead(404);
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  registry = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
});
afterAll(() => {
  server.close();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A toolkit folder whose package.json asks for `deps`, with `installed` in node_modules. */
function toolkit(deps: Record<string, string>, installed: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mlops-deps-'));
  roots.push(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ dependencies: deps }));
  for (const [name, version] of Object.entries(installed)) {
    mkdirSync(join(root, 'node_modules', name), { recursive: true });
    writeFileSync(join(root, 'node_modules', name, 'package.json'), JSON.stringify({ version }));
  }
  return root;
}

describe('dependencyStatus', () => {
  it('compares installed, wanted and latest versions from the registry', async () => {
    const root = toolkit({ 'left-pad': '^1.0.0', '@scope/kit': '~0.1.0', gone: '^1.0.0' }, { 'left-pad': '1.0.0', '@scope/kit': '0.1.0', gone: '1.0.0' });
    const old = process.env.npm_config_registry;
    process.env.npm_config_registry = registry;
    try {
      const r = await dependencyStatus(root, 2000);
      expect(r.reachable).toBe(true);
      expect(r.error).toBeNull();
      const by = Object.fromEntries(r.dependencies.map((d) => [d.name, d]));
      expect(by['left-pad']).toMatchObject({ installed: '1.0.0', wanted: '1.3.0', latest: '2.0.0', status: 'outdated' });
      expect(by['@scope/kit']).toMatchObject({ wanted: '0.1.0', latest: '0.1.0', status: 'up to date' });
      expect(by.gone).toMatchObject({ latest: null, status: 'registry unreachable' });
      expect(asked).toContain('/left-pad application/vnd.npm.install-v1+json');
    } finally {
      process.env.npm_config_registry = old;
    }
  });

  it('says the registry is unreachable, with the error, when nothing answers', async () => {
    const root = toolkit({ 'left-pad': '^1.0.0' }, { 'left-pad': '1.0.0' });
    const old = process.env.npm_config_registry;
    process.env.npm_config_registry = 'http://127.0.0.1:9/';
    try {
      const r = await dependencyStatus(root, 2000);
      expect(r.reachable).toBe(false);
      expect(r.error).toMatch(/ECONNREFUSED/);
      expect(r.dependencies[0]).toMatchObject({ installed: '1.0.0', wanted: null, status: 'registry unreachable' });
    } finally {
      process.env.npm_config_registry = old;
    }
  });
});
