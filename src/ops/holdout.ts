/**
 * The loop's holdout (config promotion.holdout): a seeded share of the newly ingested labelled
 * rows, left out of training and scored by both champion and candidate, so a candidate trained
 * on shifted data is judged on that data too, not only on an old test set. A row is held out
 * when a seeded hash of its feature values and label falls below the share, so the same row is
 * always on the same side and train can leave out exactly these rows by their keys.
 */
import { join } from 'node:path';
import type { CsvFile } from '../data/csvfiles.js';
import { readDataset } from '../data/dataset.js';
import { sha256Text, writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { dataHash } from '../store/evaluations.js';
import { holdoutKey } from './train.js';

export const HOLDOUT_FILE = 'holdout.csv';

export interface Holdout {
  path: string;
  /** Data hash as score computes it (dataHash of the one file). */
  sha256: string;
  rows: number;
  keys: Set<string>;
}

/** FNV-1a of the key, mixed with the seed: a uniform number in [0, 1). */
function unit(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  h ^= h >>> 12;
  return (h >>> 0) / 2 ** 32;
}

/** Split the new files' labelled rows; write the held-out ones to output_folder/holdout.csv. */
export async function makeHoldout(cfg: Config, files: readonly CsvFile[]): Promise<Holdout | null> {
  const share = cfg.promotion.holdout;
  if (!(share > 0) || files.length === 0) return null;
  const ds = await readDataset(files, { target: cfg.target, features: cfg.features, name: 'holdout' });
  const y = ds.y!;
  const keys = new Set<string>();
  const lines = [[...ds.features, cfg.target].join(',')];
  for (let i = 0; i < y.length; i++) {
    const key = holdoutKey(ds.X, y, i);
    if (keys.has(key) || unit(key, cfg.promotion.seed) >= share) continue;
    keys.add(key);
    lines.push([...ds.X.map((c) => (Number.isNaN(c[i]!) ? '' : String(c[i]))), String(y[i])].join(','));
  }
  if (keys.size === 0) return null;
  const text = lines.join('\n') + '\n';
  const path = join(cfg.output_folder_path, HOLDOUT_FILE);
  await writeFileAtomic(path, text);
  return { path, sha256: dataHash([{ name: HOLDOUT_FILE, sha256: sha256Text(text) }]), rows: keys.size, keys };
}
