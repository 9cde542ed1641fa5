/**
 * A cache for `mlops models` (registry/listing-cache.json): the version summaries and each
 * version's latest metrics on the reference test set, with how many bytes of index.jsonl and
 * score_history.jsonl it has read. Both logs only ever grow by appends, so a later listing
 * parses just the lines appended since (10,000 versions: one small JSON parse instead of
 * 20,000 log lines). Anything unexpected (a log shorter than recorded, not ending a line where
 * the cache stopped, another test set, a version folder the cache does not know, a damaged
 * cache) rebuilds it from the logs, so the cache can never change an answer; it is written by
 * temp-and-rename, and a read-only folder just goes without it.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { Config } from './config.js';
import { readEvaluations, type Evaluation } from './evaluations.js';
import { paths, type Metrics } from './records.js';
import { INDEX_LINE, listVersions, registryPaths, type VersionSummary } from './registry.js';
import { SCORE_RECORD } from './records.js';
import type { Shape } from './statefile.js';

const FORMAT = 'mlops-listing-cache/5';

/** One listed version: [version, name, created, model_type, training_rows, tags, note]. */
export type ListedRow = [number, string, string, string, number, Record<string, string> | null, string | null];
/** The metrics a listing keeps per version, in this order. */
export const LISTED_METRICS = ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss'] as const;

/** Arrays, not objects: half the parse time at 10,000 versions, and no conversion after. */
interface Cache {
  format: typeof FORMAT;
  test_data_sha256: string;
  index_bytes: number;
  history_bytes: number;
  rows: ListedRow[];
  /** [version, metrics in LISTED_METRICS order] of each version's latest test-set evaluation. */
  latest: [number, ...(number | null)[]][];
}

export interface Listing {
  rows: ListedRow[];
  /** version -> metrics in LISTED_METRICS order. */
  latest: Map<number, (number | null)[]>;
}

const row = (v: VersionSummary): ListedRow => [v.version, v.name, v.created, v.model_type, v.training_rows, Object.keys(v.tags ?? {}).length ? v.tags : null, v.note ?? null];
const metricsRow = (version: number, m: Metrics): [number, ...(number | null)[]] => [version, ...LISTED_METRICS.map((k) => m[k] ?? null)];

const cachePath = (cfg: Config) => join(registryPaths(cfg).root, 'listing-cache.json');
const size = async (p: string) => (await stat(p).catch(() => null))?.size ?? 0;

/** The bytes of a log from `from` on; null when the log does not continue a line there. */
async function tail(path: string, from: number, to: number): Promise<string | null> {
  if (to < from) return null;
  if (to === from) return '';
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(to - from + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, Math.max(0, from - 1));
    const text = buf.subarray(0, bytesRead).toString('utf8');
    if (from > 0 && text[0] !== '\n') return null;
    return from > 0 ? text.slice(1) : text;
  } finally {
    await fh.close();
  }
}

/**
 * Appended lines, by the logs' rules: a torn line (not JSON) is skipped; a record of the wrong
 * shape returns null, so the caller rebuilds through the reader, which names it.
 */
function parseLines<T>(text: string, s: Shape<T>, keep: (line: string) => boolean = () => true): T[] | null {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || !keep(line)) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (s.check(v) !== null) return null;
    out.push(v as T);
  }
  return out;
}

async function rebuild(cfg: Config, test: string, indexBytes: number, historyBytes: number): Promise<Cache> {
  const rows = (await listVersions(cfg)).map(row);
  const latest = new Map<number, Metrics>();
  for (const e of await readEvaluations(cfg, test)) if (e.version !== null) latest.set(e.version, e.metrics);
  return {
    format: FORMAT,
    test_data_sha256: test,
    index_bytes: indexBytes,
    history_bytes: historyBytes,
    rows,
    latest: [...latest].map(([v, m]) => metricsRow(v, m)),
  };
}

export async function registryListing(cfg: Config, test: string): Promise<Listing> {
  const rp = registryPaths(cfg);
  const historyPath = paths(cfg).scoreHistory;
  const [indexBytes, historyBytes] = await Promise.all([size(rp.index), size(historyPath)]);
  let cache: Cache | null = null;
  try {
    const c = JSON.parse(await readFile(cachePath(cfg), 'utf8')) as Cache;
    if (c.format === FORMAT && c.test_data_sha256 === test && Array.isArray(c.rows) && Array.isArray(c.latest)) cache = c;
  } catch {
    cache = null;
  }
  let changed = false;
  if (cache) {
    const [idx, hist] = await Promise.all([
      tail(rp.index, cache.index_bytes, indexBytes).catch(() => null),
      tail(historyPath, cache.history_bytes, historyBytes).catch(() => null),
    ]);
    if (idx === null || hist === null) cache = null;
    else if (idx || hist) {
      const fresh = parseLines(idx, INDEX_LINE);
      const evals = parseLines(hist, SCORE_RECORD, (l) => l.includes(test)) as Evaluation[] | null;
      if (!fresh || !evals) cache = null;
      else {
        const known = new Set(cache.rows.map((r) => r[0]));
        for (const v of fresh) {
          if (known.has(v.version)) continue;
          known.add(v.version);
          cache.rows.push(row(v));
        }
        cache.rows.sort((a, b) => a[0] - b[0]);
        for (const e of evals) if (Number.isInteger(e.version) && e.data_sha256 === test) cache.latest.push(metricsRow(e.version!, e.metrics));
      }
    }
    if (cache && (idx || hist)) {
      cache.index_bytes = indexBytes;
      cache.history_bytes = historyBytes;
      changed = true;
    }
  }
  // Version folders the index does not know (a crash before its append), or a cache that lost
  // rows: the count of version folders must match, else the full listing rebuilds it.
  if (cache) {
    const folders = await readdir(rp.versions).then((es) => es.filter((e) => /^v\d+$/.test(e)).length, () => 0);
    if (folders !== cache.rows.length) cache = null;
  }
  if (!cache) {
    cache = await rebuild(cfg, test, indexBytes, historyBytes);
    changed = true;
  }
  if (changed) await writeFileAtomic(cachePath(cfg), JSON.stringify(cache)).catch(() => undefined);
  // later entries win: the latest evaluation of each version
  return { rows: cache.rows, latest: new Map(cache.latest.map(([v, ...m]) => [v, m])) };
}
