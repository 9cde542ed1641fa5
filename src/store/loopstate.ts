/**
 * What the loop has already looked at (output_folder/loop_state.json): the input files of the
 * last decided run that did not deploy (no drift, or a rejected candidate), so the next run does
 * no work on them again and can say why.
 */
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import type { Config } from './config.js';
import { readRecord, type Shape } from './statefile.js';

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

const LOOP_STATE: Shape<LoopState> = {
  what: 'loop state',
  check: (v) => {
    const s = v as LoopState;
    if (!s || typeof s !== 'object' || Array.isArray(s)) return 'not an object';
    if (typeof s.decision !== 'string' || !Array.isArray(s.files)) return '"decision" or "files" missing';
    if (!s.files.every((f) => f && typeof f.name === 'string' && typeof f.sha256 === 'string')) return 'a file without name and sha256';
    if (s.candidate !== null && !(typeof s.candidate === 'object' && Number.isInteger(s.candidate?.version))) return '"candidate" is not a version';
    if (s.post_deploy && !(Number.isInteger(s.post_deploy.version) && Array.isArray(s.post_deploy.pending))) return '"post_deploy" is malformed';
    return null;
  },
};

/**
 * The state, or null when there is none. A damaged one is ignored with a warning returned to
 * the caller: it only saves work, and without it every input file counts as new (safe).
 */
export async function readLoopState(cfg: Config): Promise<{ state: LoopState | null; warning: string | null }> {
  try {
    return { state: await readRecord(loopStatePath(cfg), LOOP_STATE, ''), warning: null };
  } catch (err) {
    if (!(err instanceof StateError)) throw err;
    return { state: null, warning: `${loopStatePath(cfg)}: damaged, ignored (the input files are looked at again)` };
  }
}

export async function writeLoopState(cfg: Config, state: LoopState): Promise<void> {
  await writeFileAtomic(loopStatePath(cfg), JSON.stringify(state, null, 2) + '\n');
}
