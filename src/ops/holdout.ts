/**
 * The loop's holdout (config promotion.holdout): a seeded share of the newly ingested labelled
 * rows, left out of training and scored by both champion and candidate, so a candidate trained
 * on shifted data is judged on that data too, not only on an old test set. A row is held out
 * when a seeded hash of its feature values and label falls below the share, so the same row is
 * always on the same side and train can leave out exactly these rows by their keys.
 */
import { join } from 'node:path';
import type { CsvFile } from '../data/csvfiles.js';
import { withFrame } from '../data/read.js';
import { sha256Text, writeFileAtomic } from '../store/atomic.js';
import { textColumns, type Config } from '../store/config.js';
import { dataHash } from '../store/evaluations.js';
import { holdoutKey, rowCells } from './train.js';

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
  const spec = { name: 'holdout', numeric: cfg.task === 'regression' ? [cfg.target] : [], text: textColumns(cfg), labels: cfg.task === 'classification' ? cfg.target : null };
  const split = await withFrame(files, spec, async (frame) => {
    const { columns, cells } = await rowCells(frame);
    const t = columns.indexOf(cfg.target);
    const keys = new Set<string>();
    const lines = [columns.map(csvCell).join(',')];
    for (let i = 0; i < frame.table.rows; i++) {
      const row = cells.map((c) => c[i]!);
      if (t >= 0 && row[t] === null) continue;
      const key = holdoutKey(row);
      if (keys.has(key) || unit(key, cfg.promotion.seed) >= share) continue;
      keys.add(key);
      lines.push(row.map((v) => (v === null ? '' : csvCell(v))).join(','));
    }
    return { keys, lines };
  });
  if (split.keys.size === 0) return null;
  const text = split.lines.join('\n') + '\n';
  const path = join(cfg.output_folder_path, HOLDOUT_FILE);
  await writeFileAtomic(path, text);
  return { path, sha256: dataHash([{ name: HOLDOUT_FILE, sha256: sha256Text(text) }]), rows: split.keys.size, keys: split.keys };
}

/** A CSV field: quoted when it holds a comma, quote or line break. */
const csvCell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
