/**
 * The prediction log: every prediction `mlops serve` answers, as one JSON line, in segment files
 * under <output_folder_path>/predictions/:
 *
 *   predictions/20261203T125113042Z-p4242-000001.jsonl   (start time, writer's pid, sequence)
 *
 *   {"request_id":"9f0c...","time":"2026-12-03T12:51:13.042Z","version":"v0003",
 *    "answered_by":"champion","proba":0.8123,"label":1,
 *    "inputs":{"lastmonth_activity":234,"lastyear_activity":null,"number_of_employees":12},
 *    "shadow":[{"version":"v0004","proba":0.77,"label":1}]}
 *
 * `version` (the registry's version name) answered, as `answered_by`: the champion, or the
 * challenger of a canary; `shadow` (only in shadow mode) holds what the other models said.
 * `inputs` are the model's features (null: missing, imputed). `label` is the class predicted
 * (proba > the model's threshold), not the true label: that comes later (feedback.ts).
 *
 * log() only encodes the line into an in-memory buffer (1 MiB chunks) and hashes the id into a
 * fixed-size index; a timer writes the buffer every `flush_ms` with one writev, and close()
 * writes the rest. A kill -9
 * loses at most the last flush interval; a segment is never opened for writing again once the
 * writer moves on (a new process starts a new segment), so earlier segments are never damaged,
 * and a torn last line is skipped by the reader. Segments rotate by size and age; retention
 * removes whole segments older than `max_age_days` or beyond `max_bytes` in total, oldest first.
 */
import { readdir, rm, stat, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Config } from '../store/config.js';
import { readLog, shape } from '../store/statefile.js';
import { LineFile } from './lines.js';

export { DEFAULT_PREDLOG, type PredLogSettings } from './settings.js';
import { DEFAULT_PREDLOG, type PredLogSettings } from './settings.js';

export type Arm = 'champion' | 'challenger';

/** One model's answer. */
export interface Output {
  version: string;
  proba: number;
  label: number;
}

/** A line of a segment. */
export interface PredictionRecord extends Output {
  request_id: string;
  time: string;
  answered_by: Arm;
  inputs: Record<string, number | null>;
  shadow?: Output[];
}

export const PREDICTION_RECORD = shape<PredictionRecord>('prediction record', {
  request_id: 'string',
  time: 'string',
  version: 'string',
  proba: 'number',
  label: 'number',
  inputs: 'object',
});

/** What the server hands to log(): one row's prediction. */
export interface Prediction {
  requestId: string;
  version: string;
  /** The model's feature names, in the order of `x`; the same array every call (its keys are cached). */
  features: readonly string[];
  x: ArrayLike<number>;
  proba: number;
  label: number;
  answeredBy?: Arm;
  shadow?: readonly Output[];
}

export const predictionsDir = (cfg: Pick<Config, 'output_folder_path'>) => join(cfg.output_folder_path, 'predictions');

/** A request id for a request that came without X-Request-Id. Cost: ~0.1 us (randomUUID's cache). */
export const newRequestId = (): string => randomUUID();

const SEGMENT = /^(\d{8}T\d{9}Z)-p(\d+)-(\d{6})\.jsonl$/;
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:.]/g, '');

export interface SegmentInfo {
  name: string;
  path: string;
  size: number;
  /** Last write (ms since epoch): no record in it is later. */
  mtimeMs: number;
}

/** The segments of a log folder, oldest first (by start time in the name). */
export async function listSegments(dir: string): Promise<SegmentInfo[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => SEGMENT.test(n)).sort();
  const out: SegmentInfo[] = [];
  for (const name of names) {
    const st = await stat(join(dir, name)).catch(() => null);
    if (st) out.push({ name, path: join(dir, name), size: st.size, mtimeMs: st.mtimeMs });
  }
  return out;
}

/**
 * Retention: remove segments last written before now - max_age_days, then the oldest while the
 * total is over max_bytes; `keep` (the segment being written) is never removed. Returns the
 * names removed.
 */
export async function pruneSegments(
  dir: string,
  s: Pick<PredLogSettings, 'max_age_days' | 'max_bytes'>,
  now = Date.now(),
  keep?: string,
): Promise<string[]> {
  const segs = (await listSegments(dir)).filter((x) => x.path !== keep);
  const removed: string[] = [];
  let total = segs.reduce((a, x) => a + x.size, 0);
  for (const x of segs) {
    const old = s.max_age_days !== null && x.mtimeMs < now - s.max_age_days * 86_400_000;
    const over = s.max_bytes !== null && total > s.max_bytes;
    if (!old && !over) continue;
    await rm(x.path, { force: true });
    total -= x.size;
    removed.push(x.name);
  }
  return removed;
}

export interface PredLogStats {
  logged: number;
  written: number;
  dropped: number;
  bytes: number;
  flushes: number;
  write_errors: number;
  last_error: string | null;
  last_flush_ms: number;
  segment: string | null;
}

/** `"name":` key prefixes of a feature list, cached per array: the hot path only concatenates. */
const keyCache = new WeakMap<readonly string[], string[]>();
const keysOf = (features: readonly string[]) => {
  let k = keyCache.get(features);
  if (!k) keyCache.set(features, (k = features.map((f, i) => (i ? ',' : '') + JSON.stringify(f) + ':')));
  return k;
};
/** A JSON string of a request id: printable ASCII without quote or backslash (every generated id) as is. */
function quoteId(id: string): string {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(id);
  }
  return '"' + id + '"';
}
const num = (v: number) => (v === v && v !== Infinity && v !== -Infinity ? String(v) : 'null');

/** 1 MiB chunks: lines are encoded straight into them, so nothing the log holds is a JS string. */
const CHUNK = 1 << 20;

export class PredictionLog {
  private chunks: Buffer[] = [];
  private cur = Buffer.allocUnsafe(CHUNK);
  private off = 0;
  private buffered = 0;
  private pending = 0;
  private file: LineFile | null = null;
  private segmentStart = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private closed = false;
  private lastMs = -1;
  private lastIso = '';
  private readonly quoted = new Map<string, string>();
  private readonly index: IdIndex;
  private readonly counts: PredLogStats = {
    logged: 0, written: 0, dropped: 0, bytes: 0, flushes: 0, write_errors: 0, last_error: null, last_flush_ms: 0, segment: null,
  };

  private constructor(
    readonly dir: string,
    readonly settings: PredLogSettings,
    private readonly now: () => number,
  ) {
    this.index = new IdIndex(settings.index_size);
  }

  /** Open a log in `dir` (created), prune it, and start the flush timer. */
  static async open(dir: string, settings: Partial<PredLogSettings> = {}, now: () => number = Date.now): Promise<PredictionLog> {
    const log = new PredictionLog(dir, { ...DEFAULT_PREDLOG, ...settings }, now);
    await mkdir(dir, { recursive: true });
    await pruneSegments(dir, log.settings, now());
    log.timer = setInterval(() => void log.flush(), log.settings.flush_ms);
    log.timer.unref();
    return log;
  }

  /**
   * Record one prediction. Synchronous and allocation-light: the line is built as one string
   * and encoded into the current chunk, the id hashed into the index; nothing touches the disk.
   */
  log(p: Prediction): void {
    if (this.closed) return;
    const ms = this.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    const keys = keysOf(p.features);
    let inputs = '';
    for (let j = 0; j < keys.length; j++) inputs += keys[j]! + num(p.x[j]!);
    let shadow = '';
    if (p.shadow && p.shadow.length) {
      shadow = ',"shadow":[';
      for (let i = 0; i < p.shadow.length; i++) {
        const o = p.shadow[i]!;
        shadow += `${i ? ',' : ''}{"version":${this.q(o.version)},"proba":${num(o.proba)},"label":${o.label}}`;
      }
      shadow += ']';
    }
    const line = `{"request_id":${quoteId(p.requestId)},"time":"${this.lastIso}","version":${this.q(p.version)},"answered_by":"${p.answeredBy ?? 'champion'}","proba":${num(p.proba)},"label":${p.label},"inputs":{${inputs}}${shadow}}\n`;
    const most = line.length * 3;
    if (this.buffered + most > this.settings.max_buffer_bytes) {
      this.counts.dropped++;
      return;
    }
    if (this.off + most > this.cur.length) {
      if (this.off) this.chunks.push(this.cur.subarray(0, this.off));
      this.cur = Buffer.allocUnsafe(Math.max(CHUNK, most));
      this.off = 0;
    }
    const n = this.cur.write(line, this.off);
    this.off += n;
    this.buffered += n;
    this.pending++;
    this.counts.logged++;
    this.index.add(p.requestId);
  }

  private q(s: string): string {
    let v = this.quoted.get(s);
    if (v === undefined) this.quoted.set(s, (v = JSON.stringify(s)));
    return v;
  }

  /** Write what is buffered (one writev); waits for a flush in progress first. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (!this.pending) return;
    const data = this.chunks;
    if (this.off) data.push(this.cur.subarray(0, this.off));
    const n = this.pending;
    const bytes = this.buffered;
    this.chunks = [];
    this.cur = this.off > this.cur.length / 2 ? Buffer.allocUnsafe(CHUNK) : this.cur.subarray(this.off);
    this.off = 0;
    this.buffered = 0;
    this.pending = 0;
    this.writing = this.write(data, n, bytes).finally(() => {
      this.writing = null;
    });
    await this.writing;
  }

  private async write(data: Buffer[], n: number, bytes: number): Promise<void> {
    const t0 = performance.now();
    try {
      const now = this.now();
      const f = this.file;
      if (!f || f.size >= this.settings.segment_bytes || now - this.segmentStart >= this.settings.segment_ms) await this.rotate(now);
      await this.file!.append(data);
      this.counts.written += n;
      this.counts.bytes += bytes;
      this.counts.flushes++;
    } catch (err) {
      // the disk failed us: these predictions are lost (counted); the next flush starts a new segment
      this.counts.write_errors++;
      this.counts.dropped += n;
      this.counts.last_error = (err as Error).message;
      await this.file?.close().catch(() => undefined);
      this.file = null;
    }
    this.counts.last_flush_ms = performance.now() - t0;
  }

  private async rotate(now: number): Promise<void> {
    await this.file?.close();
    this.file = null;
    for (;;) {
      const name = `${stamp(now)}-p${process.pid}-${String(++this.seq).padStart(6, '0')}.jsonl`;
      try {
        this.file = await LineFile.open(join(this.dir, name), true);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    this.segmentStart = now;
    this.counts.segment = this.file.path;
    await pruneSegments(this.dir, this.settings, now, this.file.path);
  }

  /**
   * Which of `ids` were logged: the recent ones from the in-memory index, the rest from the
   * segments on disk (one pass, newest first, stopping when all are found). Cost: O(ids) for
   * recent ids; a scan of the log's text for older ones.
   */
  async known(ids: Iterable<string>): Promise<Set<string>> {
    const found = new Set<string>();
    const missing = new Set<string>();
    for (const id of ids) (this.index.has(id) ? found : missing).add(id);
    if (missing.size) {
      await this.flush();
      for (const id of await knownOnDisk(this.dir, missing)) found.add(id);
    }
    return found;
  }

  stats(): PredLogStats {
    return { ...this.counts };
  }

  /** Stop the timer, write the rest, close the segment. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    await this.file?.close();
    this.file = null;
  }
}

/**
 * The request ids of the last ~`size` predictions as 64-bit hashes (two 32-bit FNV-1a with
 * different offsets) in open-addressing tables: no JS string is kept, so the garbage collector
 * never walks them. Two generations of size / 2 ids: when the newer is full the older is
 * cleared and becomes the newer. A false "known" needs a 64-bit collision (~1e-14 per id).
 */
export class IdIndex {
  private gens: { a: Int32Array; b: Int32Array; n: number }[];
  private readonly cap: number;
  private readonly mask: number;

  constructor(size: number) {
    this.cap = Math.max(1, Math.ceil(size / 2));
    let slots = 4;
    while (slots < this.cap * 2) slots *= 2;
    this.mask = slots - 1;
    const gen = () => ({ a: new Int32Array(slots), b: new Int32Array(slots), n: 0 });
    this.gens = [gen(), gen()];
  }

  private static hash(id: string): [number, number] {
    let a = 0x811c9dc5 | 0;
    let b = 0x050c5d1f | 0;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
    }
    // 0 marks an empty slot
    return [a || 1, b];
  }

  add(id: string): void {
    const [a, b] = IdIndex.hash(id);
    let g = this.gens[0]!;
    if (g.n >= this.cap) {
      g = this.gens[1]!;
      g.a.fill(0);
      g.n = 0;
      this.gens = [g, this.gens[0]!];
    }
    let i = a & this.mask;
    while (g.a[i] !== 0) {
      if (g.a[i] === a && g.b[i] === b) return;
      i = (i + 1) & this.mask;
    }
    g.a[i] = a;
    g.b[i] = b;
    g.n++;
  }

  has(id: string): boolean {
    const [a, b] = IdIndex.hash(id);
    for (const g of this.gens) {
      for (let i = a & this.mask; g.a[i] !== 0; i = (i + 1) & this.mask) if (g.a[i] === a && g.b[i] === b) return true;
    }
    return false;
  }
}

const ID_PREFIX = '{"request_id":';

/**
 * The request ids of `ids` found in the log's segments, newest first, stopping when all are
 * found (they are removed from `ids` as found). For a reader without a running log (the CLI).
 */
export async function knownOnDisk(dir: string, ids: Set<string>): Promise<Set<string>> {
  const found = new Set<string>();
  const segs = await listSegments(dir);
  for (let s = segs.length - 1; s >= 0 && ids.size; s--) {
    const text = await readFile(segs[s]!.path, 'utf8').catch(() => '');
    for (let i = 0; i < text.length && ids.size; ) {
      let j = text.indexOf('\n', i);
      if (j < 0) j = text.length;
      if (text.startsWith(ID_PREFIX, i)) {
        try {
          const r = JSON.parse(text.slice(i, j)) as PredictionRecord;
          if (ids.delete(r.request_id)) found.add(r.request_id);
        } catch {
          // torn line
        }
      }
      i = j + 1;
    }
  }
  return found;
}

export interface ReadOptions {
  /** Only records at or after this time. */
  since?: Date | number;
  /** Only records before this time. */
  until?: Date | number;
  /** Only records with an output of this version (answering or shadow). */
  version?: string;
}

const ms = (t: Date | number) => (typeof t === 'number' ? t : t.getTime());

/**
 * The records of a log folder, oldest segment first; segments last written before `since` are
 * not read. Each segment goes through the one state reader: a torn line is skipped with a
 * warning, a line of the wrong shape is a StateError naming segment and line.
 */
export async function* readPredictions(dir: string, o: ReadOptions = {}): AsyncGenerator<PredictionRecord> {
  const since = o.since === undefined ? null : new Date(ms(o.since)).toISOString();
  const until = o.until === undefined ? null : new Date(ms(o.until)).toISOString();
  const untilStamp = o.until === undefined ? null : stamp(ms(o.until));
  const needle = o.version === undefined ? null : `"version":${JSON.stringify(o.version)}`;
  for (const seg of await listSegments(dir)) {
    if (o.since !== undefined && seg.mtimeMs < ms(o.since)) continue;
    if (untilStamp !== null && seg.name.slice(0, untilStamp.length) >= untilStamp) continue;
    const records = await readLog(seg.path, PREDICTION_RECORD, needle ? (line) => line.includes(needle) : undefined);
    for (const r of records) {
      if (since !== null && r.time < since) continue;
      if (until !== null && r.time >= until) continue;
      if (o.version !== undefined && r.version !== o.version && !r.shadow?.some((s) => s.version === o.version)) continue;
      yield r;
    }
  }
}

/** The output of `version` in a record (answering or shadow), or null. */
export function outputOf(r: PredictionRecord, version: string): Output | null {
  if (r.version === version) return r;
  return r.shadow?.find((s) => s.version === version) ?? null;
}

/**
 * The logged inputs as columns in `features` order (NaN where missing), for the drift tests
 * against the training data (`mlops drift --current live`). One row per logged request.
 */
export async function liveInputs(dir: string, features: readonly string[], o: ReadOptions = {}): Promise<{ X: Float64Array[]; rows: number }> {
  const cols: number[][] = features.map(() => []);
  let rows = 0;
  for await (const r of readPredictions(dir, o)) {
    for (let j = 0; j < features.length; j++) {
      const v = r.inputs[features[j]!];
      cols[j]!.push(typeof v === 'number' ? v : Number.NaN);
    }
    rows++;
  }
  return { X: cols.map((c) => Float64Array.from(c)), rows };
}

const SINCE = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/;

/**
 * A --since value: a duration back from now ("30m", "24h", "7d") or a date/time ISO 8601 string.
 * Null when it is neither.
 */
export function parseSince(text: string, now = Date.now()): Date | null {
  const m = SINCE.exec(text.trim());
  if (m) return new Date(now - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd']);
  const t = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(t) ? null : new Date(t);
}
