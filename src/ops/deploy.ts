/**
 * mlops deploy: promote the latest trained version (output_model_path/trainedmodel.json) to
 * champion, after it was scored on the reference test set. `--rollback` makes the previous
 * champion champion again. Both are promotions of the registry (see promote.ts).
 */
import { readFile } from 'node:fs/promises';
import { StateError } from '../errors.js';
import { parseModelText } from '../model/modelfile.js';
import type { Config } from '../store/config.js';
import { latestOn, readEvaluations, testDataHash } from '../store/evaluations.js';
import { paths } from '../store/records.js';
import { findByContent, modelContentHash, versionName } from '../store/registry.js';
import { syncRegistry } from '../store/champion.js';
import type { ReleaseManifest } from '../store/releases.js';
import { promote, rollback as rollbackChampion, type RollbackResult } from './promote.js';
import type { GateResult } from './gate.js';

export { TRAINING_DATA } from '../store/releases.js';

export interface DeployOptions {
  config: Config;
  /** Deploy even when the promotion gate fails (recorded as forced). */
  force?: boolean;
  /** A gate the caller already ran (the loop). */
  gate?: GateResult | null;
  reason?: string;
}

export interface DeployResult {
  /** Release number that now serves the model, and the one before (null when none). */
  version: number;
  release: string;
  previous: number | null;
  /** Registry version promoted, and whether production changed (false: it already served it). */
  model_version: number;
  changed: boolean;
  forced: boolean;
  score: number;
  manifest: ReleaseManifest;
  gate: GateResult | null;
}

export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const cfg = opts.config;
  const p = paths(cfg);
  const modelText = await readFile(p.model, 'utf8').catch(() => {
    throw new StateError(`${p.model}: no trained model to deploy`, 'run `mlops train` and `mlops score` first');
  });
  const model = parseModelText(modelText, p.model);
  await syncRegistry(cfg);
  // A model trained before the registry existed is registered now (its scores then count).
  const rec =
    (await findByContent(cfg, modelContentHash(modelText))) ??
    // (loaded only then: the trainer's modules are most of a deploy's start-up otherwise)
    (await (await import('./train.js')).registerTrained(cfg, modelText, model, 'deploy')).record;
  const scored = rec ? latestOn(await readEvaluations(cfg), rec.version, await testDataHash(cfg)) : null;
  if (!rec || !scored) {
    throw new StateError(
      `${p.latestScore}: the trained model ${rec ? versionName(rec.version) + ' ' : ''}has no score on the current test data (not scored after training, or the test data changed)`,
      'run `mlops score`, then `mlops deploy`',
    );
  }
  const r = await promote({ config: cfg, version: rec.version, force: opts.force, gate: opts.gate, reason: opts.reason });
  const manifest = r.release!;
  return {
    version: manifest.version,
    release: manifest.name,
    previous: r.changed ? r.previousRelease : null,
    model_version: r.version,
    changed: r.changed,
    forced: r.forced,
    score: manifest.score,
    manifest,
    gate: r.gate,
  };
}

export type { RollbackResult };
export const rollback = rollbackChampion;
