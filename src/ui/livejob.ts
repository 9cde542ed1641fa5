/**
 * One refresh of the Live page: the summary (when its sources changed) and a look at the running
 * experiment's verdict (when the log, the labels or the experiment changed). Runs in a worker
 * thread (liveworker.ts, through workerjobs.ts) when the built worker is there, else in the
 * calling thread.
 */
import { experimentStatus } from '../ops/live.js';
import type { Config } from '../store/config.js';
import { computeSummary, fitReference, writeSummary, type LiveSummary, type Reference } from './livesummary.js';
import { WorkerJobs } from './workerjobs.js';

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

/** The Live page's jobs, in a worker thread (liveworker.ts); it keeps the fitted CBPE references between jobs. */
export class LiveJobs extends WorkerJobs<LiveJob, LiveJobResult> {
  constructor(cfg: Config) {
    const references = new Map<string, Promise<Reference>>();
    super(
      cfg,
      'liveworker.js',
      (job) => runLiveJob(cfg, job, references),
      (why) => ({ summary: null, summaryError: why, statusError: null }),
    );
  }
}
