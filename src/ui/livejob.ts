/**
 * One refresh of the Live page: the summary (when its sources changed) and a look at the running
 * experiment's verdict (when the log, the labels or the experiment changed). Runs in a worker
 * thread (liveworker.ts) when the built worker is there, else in the calling thread.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { experimentStatus } from '../ops/live.js';
import type { Config } from '../store/config.js';
import { computeSummary, fitReference, writeSummary, type LiveSummary, type Reference } from './livesummary.js';

export interface LiveJob {
  signatures: { summary: string; status: string; test: string };
  metric: string;
  summary: boolean;
  look: boolean;
}

export interface LiveJobResult {
  summary: LiveSummary | null;
  summaryError: string | null;
  statusError: string | null;
}

/** Do the job; errors are reported in the result, never thrown. */
export async function runLiveJob(cfg: Config, job: LiveJob, references: Map<string, Promise<Reference>>): Promise<LiveJobResult> {
  const out: LiveJobResult = { summary: null, summaryError: null, statusError: null };
  if (job.summary) {
    const reference = (version: string) => {
      const key = `${version}|${job.signatures.test}`;
      let r = references.get(key);
      if (!r) references.set(key, (r = fitReference(cfg, version)));
      return r;
    };
    try {
      out.summary = await computeSummary(cfg, job.signatures.summary, job.metric, reference);
      await writeSummary(cfg, out.summary);
    } catch (err) {
      out.summaryError = (err as Error).message;
    }
  }
  if (job.look) {
    try {
      await experimentStatus({ config: cfg });
    } catch (err) {
      out.statusError = (err as Error).message;
    }
  }
  return out;
}

/** The built worker next to this module, or under dist/ when this runs from the sources (tests). */
function workerUrl(): URL | null {
  const here = new URL('./liveworker.js', import.meta.url);
  if (here.protocol !== 'file:') return null;
  if (existsSync(fileURLToPath(here))) return here;
  const m = /^(.*)[\\/]src[\\/]ui$/.exec(dirname(fileURLToPath(import.meta.url)));
  const built = m ? join(m[1]!, 'dist', 'ui', 'liveworker.js') : null;
  return built && existsSync(built) ? pathToFileURL(built) : null;
}

/**
 * Runs jobs one at a time in a worker thread started on first use (and again after a crash);
 * in the calling thread when there is no built worker.
 */
export class LiveJobs {
  private worker: Worker | null = null;
  private next = 0;
  private readonly pending = new Map<number, (r: LiveJobResult) => void>();
  private readonly references = new Map<string, Promise<Reference>>();

  constructor(private readonly cfg: Config) {}

  run(job: LiveJob): Promise<LiveJobResult> {
    const url = workerUrl();
    if (!url) return runLiveJob(this.cfg, job, this.references);
    if (!this.worker) {
      const w = new Worker(url, { workerData: { config: this.cfg } });
      w.unref();
      w.on('message', (m: { id: number; result: LiveJobResult }) => {
        this.pending.get(m.id)?.(m.result);
        this.pending.delete(m.id);
      });
      const lost = (why: string) => {
        if (this.worker === w) this.worker = null;
        for (const done of this.pending.values()) done({ summary: null, summaryError: why, statusError: null });
        this.pending.clear();
      };
      w.on('error', (err) => lost(`the live summary's worker failed: ${err.message}`));
      w.on('exit', (code) => lost(`the live summary's worker exited (${code})`));
      this.worker = w;
    }
    const id = ++this.next;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker!.postMessage({ ...job, id });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }
}
