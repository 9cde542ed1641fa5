/**
 * A cache for `mlops models` (registry/listing-cache.json): the version summaries and each
 * version's latest metrics on the reference test set, with how many bytes of index.jsonl and
 * score_history.jsonl it has read. Both logs only ever grow by appends, so a later listing
 * parses just the lines appended since (10,000 versions: one small JSON parse instead of
 * 20,000 log lines). Anything unexpected (a log shorter than recorded, not ending a line where
 * the cache stopped, another test set or key metric, a version folder the cache does not know,
 * a damaged cache) rebuilds it from the logs, so the cache can never change an answer; it is
 * written by temp-and-rename, and a read-only folder just goes without it.
 *
 * At 10,000 versions the whole command has about 200 ms, most of it Node's start-up, so the
 * cache is columns (one array per field, the key metric only) and it remembers two answers by
 * the files' identity (size, mtime, inode), as git's index does: the test set's hash and that
 * the versions folder is unchanged. An identity is trusted only when its mtime was over 2 s old
 * when recorded: a change within the file system's timestamp granularity could keep the mtime.
 */
import { open, opendir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { Config } from './config.js';
import { metricValue, readEvaluations, testDataHash, type Evaluation } from './evaluations.js';
import { paths, SCORE_RECORD, type Metrics } from './records.js';
import { INDEX_LINE, listVersions, registryPaths, type VersionSummary } from './registry.js';
import type { Shape } from './statefile.js';
import { csvFilesAt } from '../data/csvfiles.js';

const FORMAT = 'mlops-listing-cache/6';
/** Identities younger than this when recorded are not trusted (racy timestamps). */
const SETTLED_MS = 2000;

/** size:mtime_ns:inode:dev of a file or folder; null when its mtime is too recent to trust. */
type Identity = string | null;

interface Columns {
  version: number[];
  created: string[];
  /** Index into `types`. */
  type: number[];
  types: string[];
  rows: number[];
  /** Only versions that have them, by version number. */
  tags: Record<string, Record<string, string>>;
  notes: Record<string, string>;
}

interface Cache {
  format: typeof FORMAT;
  metric: string;
  test_data_sha256: string;
  /** name -> identity of each test-set file when its hash was taken. */
  test_files: Record<string, Identity>;
  /** The versions folder when its version folders were last counted (and matched). */
  versions_folder: Identity;
  index_bytes: number;
  history_bytes: number;
  columns: Columns;
  /** Each version's key metric on the test set, in evaluation order (a later one wins). */
  latest: { version: number[]; value: (number | null)[] };
}

export interface Listing {
  test_data_sha256: string;
  columns: Columns;
  /** version -> the key metric of its latest evaluation on the test set. */
  value: Map<number, number | null>;
}

const currentIdentity = async (p: string): Promise<string | null> => {
  const st = await stat(p, { bigint: true }).catch(() => null);
  return st ? `${st.size}:${st.mtimeNs}:${st.ino}:${st.dev}` : null;
};
const identityAt = async (p: string, recordedAt: number): Promise<Identity> => {
  const st = await stat(p, { bigint: true }).catch(() => null);
  return st && recordedAt - Number(st.mtimeMs) > SETTLED_MS ? `${st.size}:${st.mtimeNs}:${st.ino}:${st.dev}` : null;
};

const cachePath = (cfg: Config) => join(registryPaths(cfg).root, 'listing-cache.json');
const size = async (p: string) => (await stat(p).catch(() => null))?.size ?? 0;

async function countFolders(dir: string): Promise<number> {
  let n = 0;
  const d = await opendir(dir).catch(() => null);
  if (!d) return 0;
  for await (const e of d) if (/^v\d+$/.test(e.name)) n++;
  return n;
}

/** The test set's hash: remembered when every file has the identity it had, else computed. */
async function testHash(cfg: Config, cache: Cache | null): Promise<{ sha256: string; files: Record<string, Identity> }> {
  const files = await csvFilesAt(cfg.test_data_path);
  const now = Date.now();
  const ids = await Promise.all(files.map((f) => currentIdentity(f.path)));
  const known = cache?.test_files ?? {};
  if (cache && files.length === Object.keys(known).length && files.every((f, i) => known[f.name] !== null && known[f.name] === ids[i])) {
    return { sha256: cache.test_data_sha256, files: known };
  }
  const before = await Promise.all(files.map((f) => identityAt(f.path, now)));
  const sha256 = await testDataHash(cfg);
  // a file changed while it was hashed is not remembered
  const after = await Promise.all(files.map((f) => currentIdentity(f.path)));
  return { sha256, files: Object.fromEntries(files.map((f, i) => [f.name, before[i] === after[i] ? before[i]! : null])) };
}

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

function emptyColumns(): Columns {
  return { version: [], created: [], type: [], types: [], rows: [], tags: {}, notes: {} };
}

function addRow(c: Columns, v: VersionSummary): void {
  let t = c.types.indexOf(v.model_type);
  if (t < 0) t = c.types.push(v.model_type) - 1;
  c.version.push(v.version);
  c.created.push(v.created);
  c.type.push(t);
  c.rows.push(v.training_rows);
  if (v.tags && Object.keys(v.tags).length) c.tags[v.version] = v.tags;
  if (v.note) c.notes[v.version] = v.note;
}

const metricOf = (m: Metrics, metric: string): number | null => {
  const x = metricValue({ metrics: m }, metric);
  return Number.isFinite(x) ? x : null;
};

async function rebuild(cfg: Config, metric: string, test: string): Promise<Pick<Cache, 'columns' | 'latest'>> {
  const columns = emptyColumns();
  for (const v of await listVersions(cfg)) addRow(columns, v);
  const latest: Cache['latest'] = { version: [], value: [] };
  for (const e of await readEvaluations(cfg, { onData: test })) {
    if (e.version === null) continue;
    latest.version.push(e.version);
    latest.value.push(metricOf(e.metrics, metric));
  }
  return { columns, latest };
}

function validCache(c: unknown, metric: string): c is Cache {
  const x = c as Cache | null;
  return (
    !!x && x.format === FORMAT && x.metric === metric && typeof x.test_data_sha256 === 'string' && typeof x.test_files === 'object' && x.test_files !== null &&
    !!x.columns && Array.isArray(x.columns.version) && Array.isArray(x.columns.created) && Array.isArray(x.columns.type) && Array.isArray(x.columns.types) &&
    Array.isArray(x.columns.rows) && x.columns.created.length === x.columns.version.length && x.columns.type.length === x.columns.version.length &&
    x.columns.rows.length === x.columns.version.length && typeof x.columns.tags === 'object' && typeof x.columns.notes === 'object' &&
    !!x.latest && Array.isArray(x.latest.version) && Array.isArray(x.latest.value) && x.latest.version.length === x.latest.value.length
  );
}

/** The listing of the registry with `metric` on the reference test set as it is on disk now. */
export async function registryListing(cfg: Config, metric: string): Promise<Listing> {
  const rp = registryPaths(cfg);
  const historyPath = paths(cfg).scoreHistory;
  let cache: Cache | null = null;
  try {
    const c: unknown = JSON.parse(await readFile(cachePath(cfg), 'utf8'));
    if (validCache(c, metric)) cache = c;
  } catch {
    cache = null;
  }
  const test = await testHash(cfg, cache);
  if (cache && cache.test_data_sha256 !== test.sha256) cache = null;
  const [indexBytes, historyBytes] = await Promise.all([size(rp.index), size(historyPath)]);
  let changed = !cache || JSON.stringify(cache.test_files) !== JSON.stringify(test.files);
  if (cache) {
    const [idx, hist] = await Promise.all([
      tail(rp.index, cache.index_bytes, indexBytes).catch(() => null),
      tail(historyPath, cache.history_bytes, historyBytes).catch(() => null),
    ]);
    if (idx === null || hist === null) cache = null;
    else if (idx || hist) {
      const fresh = parseLines(idx, INDEX_LINE);
      const evals = parseLines(hist, SCORE_RECORD, (l) => l.includes(test.sha256)) as Evaluation[] | null;
      if (!fresh || !evals) cache = null;
      else {
        const c = cache.columns;
        const known = new Set(c.version);
        const added = fresh.filter((v) => !known.has(v.version) && known.add(v.version));
        if (added.length) {
          // keep the columns in version order
          const all = c.version.map((version, i) => ({ version, created: c.created[i]!, model_type: c.types[c.type[i]!]!, training_rows: c.rows[i]!, tags: c.tags[version] ?? {}, note: c.notes[version] ?? null }));
          const merged = [...all, ...added.map((v) => ({ ...v, tags: v.tags ?? {}, note: v.note ?? null }))].sort((a, b) => a.version - b.version);
          cache.columns = emptyColumns();
          for (const v of merged) addRow(cache.columns, v as VersionSummary);
        }
        for (const e of evals) {
          if (!Number.isInteger(e.version) || e.data_sha256 !== test.sha256) continue;
          cache.latest.version.push(e.version!);
          cache.latest.value.push(metricOf(e.metrics, metric));
        }
        changed = true;
      }
    }
  }
  // Version folders the index does not know (a crash before its append), or a cache that lost
  // rows: the count of version folders must match, else the full listing rebuilds it. An
  // unchanged folder (same identity) needs no count.
  const now = Date.now();
  let folderId: Identity = null;
  if (cache) {
    const id = await currentIdentity(rp.versions);
    if (cache.versions_folder === null || id !== cache.versions_folder) {
      folderId = await identityAt(rp.versions, now);
      const folders = await countFolders(rp.versions);
      if (folders !== cache.columns.version.length) cache = null;
      else {
        if (folderId !== cache.versions_folder) changed = true;
        cache.versions_folder = folderId;
      }
    }
  }
  if (!cache) {
    folderId = await identityAt(rp.versions, now);
    const built = await rebuild(cfg, metric, test.sha256);
    cache = {
      format: FORMAT,
      metric,
      test_data_sha256: test.sha256,
      test_files: test.files,
      versions_folder: folderId,
      index_bytes: indexBytes,
      history_bytes: historyBytes,
      ...built,
    };
    changed = true;
  }
  cache.test_files = test.files;
  cache.index_bytes = indexBytes;
  cache.history_bytes = historyBytes;
  if (changed) await writeFileAtomic(cachePath(cfg), JSON.stringify(cache)).catch(() => undefined);
  const value = new Map<number, number | null>();
  for (let i = 0; i < cache.latest.version.length; i++) value.set(cache.latest.version[i]!, cache.latest.value[i]!);
  return { test_data_sha256: test.sha256, columns: cache.columns, value };
}
