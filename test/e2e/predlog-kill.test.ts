/** The prediction log survives kill -9: a real writer process killed mid-stream (uses the build in dist/). */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { listSegments, readPredictions } from '../../src/live/predlog.js';
import { setQuietWarnings } from '../../src/warnings.js';

it('kill -9 loses at most the last flush interval and never damages earlier segments', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'predlog-kill-'));
  const script = join(dir, 'writer.mjs');
  writeFileSync(
    script,
    `import { PredictionLog } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'live', 'predlog.js')).href)};
const log = await PredictionLog.open(${JSON.stringify(join(dir, 'predictions'))}, { flush_ms: 50, segment_bytes: 100000 });
let i = 0;
setInterval(() => {
  for (let k = 0; k < 200; k++, i++) log.log({ requestId: 'r' + i, version: 'v0001', features: ['a', 'b'], x: [i, -i], proba: 0.25, label: 0 });
  const s = log.stats();
  process.stdout.write(s.written + ' ' + s.logged + '\\n');
}, 2);
`,
  );
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = [0, 0];
  child.stdout.on('data', (d: Buffer) => {
    const lines = d.toString().trim().split('\n');
    last = lines.at(-1)!.split(' ').map(Number);
  });
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const [written, logged] = last as [number, number];
  expect(written).toBeGreaterThan(5000);
  console.log(`killed: ${logged} logged, ${written} written by the last report`);

  setQuietWarnings(true);
  const ids: number[] = [];
  for await (const r of readPredictions(join(dir, 'predictions'))) ids.push(Number(r.request_id.slice(1)));
  setQuietWarnings(false);
  // every flushed prediction is there, in order, with no hole: only a tail is lost
  expect(ids.length).toBeGreaterThanOrEqual(written);
  expect(ids.every((v, i) => v === i)).toBe(true);
  // the tail lost is at most what was logged since the last flushes (200 per 2 ms tick, 50 ms flushes, slack for a busy machine)
  expect(logged - ids.length).toBeLessThan(200 * 100);
  const segs = await listSegments(join(dir, 'predictions'));
  console.log(`on disk: ${ids.length} records in ${segs.length} segments`);
  expect(segs.length).toBeGreaterThan(3);
});
