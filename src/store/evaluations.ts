/**
 * Evaluations: every score of a model on some data, tied to the model version, the data's hash
 * and the data's role (score_history.jsonl). Verdicts compare like with like: the same model
 * on successive data of one role, or two versions on the same data.
 */
import { createHash } from 'node:crypto';
import { sha256File } from './atomic.js';
import { readLog } from './statefile.js';
import type { Config } from './config.js';
import { paths, EVALUATION_ROLES, SCORE_RECORD, type EvaluationRole, type Metrics, type ScoreRecord } from './records.js';
import { listVersions } from './registry.js';
import { csvFilesAt } from '../data/csvfiles.js';

/** One hash for a data set of several files: their names and contents, in name order. */
export function dataHash(files: readonly { name: string; sha256: string }[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) h.update(`${f.name}\t${f.sha256}\n`);
  return h.digest('hex');
}

/** The reference test set's hash as it is on disk now. */
export async function testDataHash(cfg: Config): Promise<string> {
  const files = await csvFilesAt(cfg.test_data_path);
  return dataHash(await Promise.all(files.map(async (f) => ({ name: f.name, sha256: await sha256File(f.path) }))));
}

export interface Evaluation extends ScoreRecord {
  version: number | null;
  role: EvaluationRole;
  data_sha256: string;
}

/** What readEvaluations returns: those on one data set, or of some versions only. */
export interface EvaluationFilter {
  /** Only evaluations on this data (its dataHash). */
  onData?: string;
  /** Only evaluations of these versions. */
  versions?: readonly number[] | ReadonlySet<number>;
}

/** A record's `"version": N` (any place a key of that name holds an integer). */
const VERSION_KEY = /"version"\s*:\s*(\d+)/g;

/**
 * A cheap test of a line's text before it is parsed: false only for lines that cannot pass the
 * filter (a line without the data hash, or without an integer version, is kept: a record from
 * before the registry has its version and data hash derived later).
 */
function lineFilter(onData: string | undefined, wanted: ReadonlySet<number> | null): ((line: string) => boolean) | undefined {
  if (onData === undefined && wanted === null) return undefined;
  return (line) => {
    if (onData !== undefined && !line.includes(onData) && line.includes('"data_sha256"')) return false;
    if (wanted === null) return true;
    let any = false;
    for (const m of line.matchAll(VERSION_KEY)) {
      if (wanted.has(Number(m[1]))) return true;
      any = true;
    }
    return !any;
  };
}

/**
 * Every evaluation, oldest first (with a filter, those that pass it: lines that cannot pass are
 * not parsed, so a few versions' evaluations among 10,000 versions' cost a scan of the text).
 * Records written before the registry are completed: the version from the model's hash, the
 * data hash from the files, and the role `test` for scores of the trained model on the test
 * data (what latestscore.txt and deploy used), else `adhoc`.
 */
export async function readEvaluations(cfg: Config, filter: EvaluationFilter = {}): Promise<Evaluation[]> {
  const wanted = filter.versions === undefined ? null : new Set(filter.versions);
  const raw = await readLog(paths(cfg).scoreHistory, SCORE_RECORD, lineFilter(filter.onData, wanted));
  const needVersions = raw.some((r) => r && r.version === undefined);
  const byModelSha = new Map<string, number>();
  if (needVersions) for (const v of await listVersions(cfg)) byModelSha.set(v.model_sha256, v.version);
  const out: Evaluation[] = [];
  for (const r of raw) {
    const role: EvaluationRole =
      r.role && EVALUATION_ROLES.includes(r.role) ? r.role : r.model === 'trained' ? 'test' : 'adhoc';
    out.push({
      ...r,
      version: r.version !== undefined ? r.version : (byModelSha.get(r.model_sha256) ?? null),
      role,
      data_sha256: r.data_sha256 ?? dataHash(Array.isArray(r.data_files) ? r.data_files : []),
    });
  }
  return out.filter((e) => (filter.onData === undefined || e.data_sha256 === filter.onData) && (wanted === null || (e.version !== null && wanted.has(e.version))));
}

export const metricValue = (r: { metrics: Metrics }, metric: string): number => {
  const v = (r.metrics as unknown as Record<string, unknown>)[metric];
  return typeof v === 'number' ? v : Number.NaN;
};

/** The latest evaluation of a version on given data, or null. */
export function latestOn(evals: readonly Evaluation[], version: number, data: string): Evaluation | null {
  for (let i = evals.length - 1; i >= 0; i--) {
    const e = evals[i]!;
    if (e.version === version && e.data_sha256 === data) return e;
  }
  return null;
}
