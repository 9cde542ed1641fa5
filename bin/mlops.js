#!/usr/bin/env node
// Entry point of the mlops command; the code lives in dist/ (built by `npm install`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('mlops: dist/ is missing; run `npm install` (or `npm run build`) in the mlops folder first');
  process.exit(1);
}
// Node >= 22.1 keeps compiled code between runs (a quicker start for short commands); Node 20 has no such cache.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
