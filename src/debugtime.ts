/** MLOPS_TIMING=1 prints phase timings to stderr (for profiling; silent otherwise). */
import { performance } from 'node:perf_hooks';

const on = Boolean(process.env.MLOPS_TIMING);
let last = performance.now();

export function phase(label: string): void {
  if (!on) return;
  const now = performance.now();
  process.stderr.write(`[timing] ${label}: ${(now - last).toFixed(1)} ms (at ${now.toFixed(0)} ms)\n`);
  last = now;
}
