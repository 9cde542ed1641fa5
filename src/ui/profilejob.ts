/**
 * The data profiles and drift of the UI (src/ops/profile.ts) computed in a worker thread
 * (profileworker.ts): at a few million rows the histograms, quantiles and tests take seconds of
 * CPU, which in the UI's own thread would hold up every page. The UI then reads the result from
 * ui-cache, where the worker stored it.
 */
import { StateError } from '../errors.js';
import { profilePair, type ProfilePair } from '../ops/profile.js';
import type { Config } from '../store/config.js';
import { plainError, rebuiltError, WorkerJobs, type PlainError } from './workerjobs.js';

/** Null when the profiles and drift are in ui-cache now, else why not. */
export type ProfileJobResult = PlainError | null;

export async function runProfileJob(cfg: Config): Promise<ProfileJobResult> {
  try {
    await profilePair(cfg);
    return null;
  } catch (err) {
    return plainError(err);
  }
}

export class Profiles {
  private readonly jobs: WorkerJobs<object, ProfileJobResult>;
  private running: Promise<ProfileJobResult> | null = null;

  constructor(private readonly cfg: Config) {
    this.jobs = new WorkerJobs<object, ProfileJobResult>(cfg, 'profileworker.js', () => runProfileJob(cfg), (why) => ({ name: 'Error', message: why }));
  }

  /**
   * The deployed training data's profile, the current data's and their drift, from ui-cache;
   * computed in the worker first when not there (one computation at a time). Throws what
   * profilePair throws (typed), e.g. a StateError when nothing is deployed.
   */
  async pair(): Promise<ProfilePair> {
    // twice at most: the data may change again while the worker computes
    for (let attempt = 0; attempt < 2; attempt++) {
      const cached = await profilePair(this.cfg, { cachedOnly: true });
      if (cached) return cached;
      if (!this.running) this.running = this.jobs.run({}).finally(() => (this.running = null));
      const err = await this.running;
      if (err) throw rebuiltError(err);
    }
    const cached = await profilePair(this.cfg, { cachedOnly: true });
    if (!cached) throw new StateError('the data profiles were computed but ui-cache does not hold them', 'check that <output_model_path>/ui-cache is writable');
    return cached;
  }

  /** Compute them in the background when they are not in ui-cache. */
  warm(): void {
    void this.pair().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.jobs.close();
  }
}
