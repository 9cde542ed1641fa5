/**
 * Finishing what a killed process left: its staging folders, temp files and links of ours, and
 * the top-level production links. Safe to run at any time: only leftovers of processes that are
 * gone are removed, and links are only ever made to point through `current`.
 */
import { join } from 'node:path';
import { removeStaleTemps } from './atomic.js';
import type { Config } from './config.js';
import { registryPaths, removeStaleVersionStaging } from './registry.js';
import { ensureTopLevelLinks, isAlive, removeStaleStaging } from './releases.js';

/** What was repaired, in words (empty when nothing was left over). */
export async function tidyUp(cfg: Config): Promise<string[]> {
  const done: string[] = [];
  const prod = cfg.prod_deployment_path;
  const rp = registryPaths(cfg);
  for (const dir of [cfg.output_folder_path, cfg.output_model_path, prod, join(prod, 'releases'), rp.root]) {
    const removed = await removeStaleTemps(dir, isAlive);
    if (removed.length) done.push(`removed ${removed.length} temp file${removed.length > 1 ? 's' : ''} of killed processes in ${dir}`);
  }
  if (await removeStaleStaging(prod)) done.push('removed the staging folder of a killed deploy');
  await removeStaleVersionStaging(cfg);
  const links = await ensureTopLevelLinks(prod);
  if (links.length) done.push(`restored the production links ${links.join(', ')}`);
  return done;
}
