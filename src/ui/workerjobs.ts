/**
 * Jobs run one at a time in a worker thread of the UI, started on first use (and again after a
 * crash), so CPU-bound work (parsing the prediction log, profiling a million-row data file)
 * never holds up the UI's own thread; in the calling thread when the worker is not built. A
 * worker's entry (liveworker.ts, profileworker.ts) gets the config as workerData and answers
 * each `{id, ...job}` message with `{id, result}`.
 */
import { Worker } from 'node:worker_threads';
import { builtModule } from '../builtmodule.js';
import { ConfigError, DataError, MlopsError, ModelError, StateError } from '../errors.js';
import type { Config } from '../store/config.js';

export class WorkerJobs<J extends object, R> {
  private worker: Worker | null = null;
  private next = 0;
  private readonly pending = new Map<number, (r: R) => void>();

  /**
   * `file`: the built entry next to this module (e.g. 'liveworker.js'); `inline` does a job in
   * this thread (no built worker); `lost` is the result of a job whose worker failed.
   */
  constructor(
    private readonly cfg: Config,
    private readonly file: string,
    private readonly inline: (job: J) => Promise<R>,
    private readonly lost: (why: string) => R,
  ) {}

  run(job: J): Promise<R> {
    const url = builtModule(import.meta.url, this.file);
    if (!url) return this.inline(job);
    if (!this.worker) {
      const w = new Worker(url, { workerData: { config: this.cfg } });
      w.unref();
      w.on('message', (m: { id: number; result: R }) => {
        this.pending.get(m.id)?.(m.result);
        this.pending.delete(m.id);
      });
      const lost = (why: string) => {
        if (this.worker === w) this.worker = null;
        for (const done of this.pending.values()) done(this.lost(why));
        this.pending.clear();
      };
      w.on('error', (err) => lost(`the ${this.file} worker failed: ${err.message}`));
      w.on('exit', (code) => lost(`the ${this.file} worker exited (${code})`));
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

/** An error as it crosses a thread: the class's name, the message and the hint. */
export interface PlainError {
  name: string;
  message: string;
  hint?: string;
}

export const plainError = (err: unknown): PlainError => {
  const e = err as Partial<MlopsError>;
  return { name: e.name ?? 'Error', message: e.message ?? String(err), ...(e.hint ? { hint: e.hint } : {}) };
};

const TYPED: Record<string, new (message: string, hint?: string) => MlopsError> = { ConfigError, DataError, ModelError, StateError, MlopsError };

/** The typed error again (an untyped one stays a plain Error). */
export function rebuiltError(e: PlainError): Error {
  const Cls = TYPED[e.name];
  return Cls ? new Cls(e.message, e.hint) : new Error(e.message);
}
