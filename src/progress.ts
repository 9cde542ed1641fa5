/**
 * Phases of long operations. Library code marks the end of a phase; the CLI decides what to do
 * with it: a line of progress on stderr for a person at a terminal (never with --json or
 * --quiet, never when stderr is not a TTY), and with MLOPS_TIMING=1 the milliseconds of every
 * phase, for profiling.
 */
import { performance } from 'node:perf_hooks';

const timing = Boolean(process.env.MLOPS_TIMING);
let last = performance.now();
let listener: ((text: string, seconds: number) => void) | null = null;
let lastText = last;

/** Set (or clear) where human progress goes; its durations count from here. */
export function onProgress(fn: ((text: string, seconds: number) => void) | null): void {
  listener = fn;
  lastText = performance.now();
}

/** End of a phase: `label` for timing, `text` (optional) for a person. */
export function phase(label: string, text?: string): void {
  const now = performance.now();
  if (timing) process.stderr.write(`[timing] ${label}: ${(now - last).toFixed(1)} ms (at ${now.toFixed(0)} ms)\n`);
  if (listener && text) {
    listener(text, (now - lastText) / 1000);
    lastText = now;
  }
  last = now;
}
