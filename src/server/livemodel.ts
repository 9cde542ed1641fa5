/**
 * The production model as the server holds it: parsed once per release, swapped by a single
 * reference assignment when a new release becomes current. A request takes the reference once,
 * so a request in flight finishes with the model it started with. A broken release is rejected
 * and the old model keeps serving.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { predictOne } from '../model/family.js';
import { parseModelText, type ModelFile } from '../model/modelfile.js';
import { versionName } from '../store/names.js';
import { currentReleaseDir, readManifest } from '../store/releases.js';

export interface Loaded {
  model: ModelFile;
  /** The registry version the release serves (its manifest's model_version), else the release's name. */
  version: string;
  release: string;
  loadedAt: string;
}

export class LiveModel {
  current: Loaded | null = null;
  lastError: string | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(
    readonly prod: string,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** Load the current release if it differs from the one held. Returns whether it changed. */
  async refresh(): Promise<boolean> {
    if (this.checking) return false;
    this.checking = true;
    try {
      const dir = await currentReleaseDir(this.prod);
      if (!dir) return false;
      if (this.current && this.current.release === dir) return false;
      try {
        const text = await readFile(join(dir, 'trainedmodel.json'), 'utf8');
        const model = parseModelText(text, join(dir, 'trainedmodel.json'));
        // releases are numbered on their own (release v0002 may serve model v0005)
        const manifest = await readManifest(dir).catch(() => null);
        const next: Loaded = {
          model,
          version: manifest?.model_version ? versionName(manifest.model_version) : basename(dir),
          release: dir,
          loadedAt: new Date().toISOString(),
        };
        const previous = this.current?.version;
        this.current = next;
        this.lastError = null;
        this.log(previous ? `model ${previous} -> ${next.version}` : `model ${next.version} loaded`);
        return true;
      } catch (err) {
        const msg = `release ${basename(dir)} rejected, still serving ${this.current?.version ?? 'nothing'}: ${(err as Error).message}`;
        if (msg !== this.lastError) this.log(msg);
        this.lastError = msg;
        return false;
      }
    } finally {
      this.checking = false;
    }
  }

  /** Follow deployments: a file-system watch on the production folder, and a poll as backstop. */
  start(pollMs = 1000): void {
    const kick = () => void this.refresh();
    try {
      this.watcher = watch(this.prod, kick);
      this.watcher.on('error', () => undefined);
    } catch {
      // folder missing or watch unsupported: the poll covers it
    }
    this.timer = setInterval(kick, pollMs);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
  }
}

/** P(class 1), or the value for a regression model, of one encoded row. */
export function probability(m: Loaded, x: Float64Array): number {
  return predictOne(m.model, x);
}
