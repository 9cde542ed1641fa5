/**
 * What the loop has already looked at (output_folder/loop_state.json): the input files of the
 * last decided run that did not deploy (no drift, or a rejected candidate), so the next run does
 * no work on them again and can say why.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { Config } from './config.js';

export interface LoopState {
  updated: string;
  decision: string;
  files: { name: string; sha256: string }[];
  /** The candidate that was rejected on these files, if any. */
  candidate: { version: number; name: string; at: string; reason: string } | null;
  /** Steps after a deployment not done yet (a run killed there): the next run does them. */
  post_deploy?: { version: number; pending: string[] } | null;
}

export const loopStatePath = (cfg: Config) => join(cfg.output_folder_path, 'loop_state.json');

/** The state, or null when there is none or it is damaged (then every file counts as new: safe). */
export async function readLoopState(cfg: Config): Promise<{ state: LoopState | null; warning: string | null }> {
  const path = loopStatePath(cfg);
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return { state: null, warning: null };
  try {
    const s = JSON.parse(text) as LoopState;
    const ok =
      s && typeof s === 'object' && Array.isArray(s.files) &&
      s.files.every((f) => f && typeof f.name === 'string' && typeof f.sha256 === 'string') &&
      (s.candidate === null || (typeof s.candidate === 'object' && Number.isInteger(s.candidate.version))) &&
      (!s.post_deploy || (Number.isInteger(s.post_deploy.version) && Array.isArray(s.post_deploy.pending)));
    if (ok) return { state: s, warning: null };
  } catch {
    // fall through
  }
  return { state: null, warning: `${path}: damaged, ignored (the input files are looked at again)` };
}

export async function writeLoopState(cfg: Config, state: LoopState): Promise<void> {
  await writeFileAtomic(loopStatePath(cfg), JSON.stringify(state, null, 2) + '\n');
}
