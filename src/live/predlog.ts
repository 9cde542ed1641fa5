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
 * (proba > the model's threshold; null for a regression model, whose value is `proba`), not the
 * true label: that comes later (feedback.ts).
 *
 * log() copies the prediction's numbers into a batch of typed arrays (predbatch.ts) and marks
 * its id in an in-memory index: no string is built, none kept. Every `flush_ms` (or when a batch
 * is full) the batch is moved to a writer thread (predlog-worker.ts), which formats the lines and
 * appends them with one writev (segmentwriter.ts); close() writes the rest. A kill -9 loses at
 * most the last flush interval; a segment is never opened for writing again once the writer
 * moves on (a new process starts a new segment), so earlier segments are never damaged, and a
 * torn last line is skipped by the reader. Segments rotate by size and age; retention removes
 * whole segments older than `max_age_days` or beyond `max_bytes` in total, oldest first.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { builtModule } from '../builtmodule.js';
import type { Config } from '../store/config.js';
import { readLog, shape } from '../store/statefile.js';
import { addRecord, addShadow, batchBuffers, batchBytes, fits, newBatch, resetBatch, type Batch, type DictDelta } from './predbatch.js';
import type { WorkerRequest } from './predlog-worker.js';
import { ID_PREFIX, seqOf, SeqIndex } from './requestid.js';
import { SegmentWriter, type WriteAck, type WriteJob } from './segmentwriter.js';
import { listSegments, pruneSegments, stamp } from './segments.js';

export { DEFAULT_PREDLOG, type PredLogSettings } from './settings.js';
import { DEFAULT_PREDLOG, type PredLogSettings } from './settings.js';
export { listSegments, pruneSegments, type SegmentInfo } from './segments.js';
export { newRequestId } from './requestid.js';
export { parseSince } from './since.js';

export type Arm = 'champion' | 'challenger';

/** One model's answer. */
export interface Output {
  version: string;
  proba: number;
  /** The class predicted; NaN for a regression value. */
  label: number;
}

/** One model's answer as logged: a regression value has no class (null). */
export interface LoggedOutput extends Omit<Output, 'label'> {
  label: number | null;
}

/** A line of a segment. */
export interface PredictionRecord extends LoggedOutput {
  request_id: string;
  time: string;
  answered_by: Arm;
  inputs: Record<string, number | null>;
  shadow?: LoggedOutput[];
}

export const PREDICTION_RECORD = shape<PredictionRecord>('prediction record', {
  request_id: 'string',
  time: 'string',
  version: 'string',
  proba: 'number',
  inputs: 'object',
});

/** What the server hands to log(): one row's prediction. */
export interface Prediction {
  requestId: string;
  version: string;
  /** The model's feature names, in the order of `x`; the same array every call (it goes to the writer once). */
  features: readonly string[];
  x: ArrayLike<number>;
  proba: number;
  /** The class predicted; NaN for a regression value. */
  label: number;
  answeredBy?: Arm;
  shadow?: readonly Output[];
}

export const predictionsDir = (cfg: Pick<Config, 'output_folder_path'>) => join(cfg.output_folder_path, 'predictions');

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
  /** Where the lines are formatted and written: a worker thread, or the server's own thread. */
  writer: 'thread' | 'inline';
}

/** A batch holds this many records (fewer for wide models or long ids): ~1 MB of arrays. */
const BATCH_RECORDS = 4096;
const batchFor = (inputs = 0, idLen = 0, shadows = 0) =>
  newBatch(BATCH_RECORDS, Math.max(BATCH_RECORDS * 8, inputs), Math.max(BATCH_RECORDS * 48, idLen * 3), Math.max(BATCH_RECORDS, shadows));
/** Batches kept for reuse once the writer hands them back. */
const POOL = 4;

/** Where the batches go to be written: a worker thread, or (none to be had) this thread. */
interface Writer {
  readonly kind: 'thread' | 'inline';
  write(job: WriteJob): Promise<WriteAck>;
  close(): Promise<void>;
}

class InlineWriter implements Writer {
  readonly kind = 'inline';
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly w: SegmentWriter) {}
  write(job: WriteJob): Promise<WriteAck> {
    const p = this.chain.then(() => this.w.write(job));
    this.chain = p;
    return p;
  }
  close(): Promise<void> {
    const p = this.chain.then(() => this.w.close());
    this.chain = p;
    return p;
  }
}

type Reply = { id: number; ack?: WriteAck; error?: string | null };

/**
 * The writer thread. Referenced (keeping the process alive) only while a write is out, so an
 * idle log never holds a process open; a thread that dies fails what it had, and the log goes
 * on writing on its own thread.
 */
class ThreadWriter implements Writer {
  readonly kind = 'thread';
  private next = 0;
  private readonly pending = new Map<number, { resolve: (m: Reply) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!this.pending.size) worker.unref();
      p?.resolve(m);
    });
    const fail = (err: Error) => {
      this.failed ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the prediction log's writer thread exited (code ${code})`)));
  }

  private call(req: Omit<WorkerRequest, 'id'>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = ++this.next;
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  async write(job: WriteJob): Promise<WriteAck> {
    return (await this.call({ job }, batchBuffers(job.batch))).ack!;
  }

  async close(): Promise<void> {
    const r = this.failed ? null : await this.call({ close: true }).catch(() => null);
    await this.worker.terminate();
    if (r?.error) throw new Error(r.error);
  }
}

export interface OpenOptions {
  /** Format and write on a worker thread (the default, when the built worker is there) or on this one. */
  thread?: boolean;
}

export class PredictionLog {
  private batch: Batch = batchFor();
  private readonly pool: Batch[] = [];
  private writer: Writer;
  /** Bytes of the batches out at the writer. */
  private out = 0;
  /** The last write handed to the writer: flush() waits for it (writes finish in order). */
  private last: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly versionCode = new Map<string, number>();
  private readonly featuresCode = new Map<readonly string[], number>();
  /** Dictionary entries the writer has not been sent yet. */
  private delta: DictDelta = { versions: [], features: [] };
  private lastVersion = '';
  private lastVersionCode = -1;
  private lastFeatures: readonly string[] | null = null;
  private lastFeaturesCode = -1;
  private readonly index: IdIndex;
  private readonly seqs: SeqIndex;
  private readonly counts: PredLogStats;

  private constructor(
    readonly dir: string,
    readonly settings: PredLogSettings,
    private readonly now: () => number,
    thread: boolean,
  ) {
    this.index = new IdIndex(settings.index_size);
    this.seqs = new SeqIndex(settings.index_size);
    const url = thread ? builtModule(import.meta.url, 'predlog-worker.js') : null;
    this.writer = url
      ? new ThreadWriter(new Worker(url, { workerData: { dir, settings, prefix: ID_PREFIX } }))
      : new InlineWriter(new SegmentWriter(dir, settings, ID_PREFIX));
    this.counts = {
      logged: 0, written: 0, dropped: 0, bytes: 0, flushes: 0, write_errors: 0, last_error: null, last_flush_ms: 0, segment: null, writer: this.writer.kind,
    };
  }

  /** Open a log in `dir` (created), prune it, and start the flush timer. */
  static async open(dir: string, settings: Partial<PredLogSettings> = {}, now: () => number = Date.now, o: OpenOptions = {}): Promise<PredictionLog> {
    const s = { ...DEFAULT_PREDLOG, ...settings };
    await mkdir(dir, { recursive: true });
    await pruneSegments(dir, s, now());
    const log = new PredictionLog(dir, s, now, o.thread ?? true);
    log.timer = setInterval(() => log.post(), s.flush_ms);
    log.timer.unref();
    return log;
  }

  /**
   * Record one prediction. Synchronous, no allocation in the common case: the numbers copied
   * into the batch, the id marked in the index; nothing formatted, nothing touches the disk.
   */
  log(p: Prediction): void {
    if (this.closed) return;
    const d = p.features.length;
    const seq = seqOf(p.requestId);
    const idLen = seq < 0 ? p.requestId.length : 0;
    const ns = p.shadow ? p.shadow.length : 0;
    if (!fits(this.batch, d, idLen, ns) && !this.roll(d, idLen, ns)) {
      this.counts.dropped++;
      return;
    }
    const b = this.batch;
    addRecord(b, this.now(), this.code(p.version), this.featuresOf(p.features), p.answeredBy === 'challenger' ? 1 : 0, p.proba, p.label, p.x, d, seq, p.requestId);
    for (let k = 0; k < ns; k++) {
      const o = p.shadow![k]!;
      addShadow(b, this.code(o.version), o.proba, o.label);
    }
    this.counts.logged++;
    if (seq >= 0) this.seqs.add(seq);
    else this.index.add(p.requestId);
  }

  private code(version: string): number {
    if (version === this.lastVersion) return this.lastVersionCode;
    let c = this.versionCode.get(version);
    if (c === undefined) {
      this.versionCode.set(version, (c = this.versionCode.size));
      this.delta.versions.push(version);
    }
    this.lastVersion = version;
    return (this.lastVersionCode = c);
  }

  private featuresOf(features: readonly string[]): number {
    if (features === this.lastFeatures) return this.lastFeaturesCode;
    let c = this.featuresCode.get(features);
    if (c === undefined) {
      this.featuresCode.set(features, (c = this.featuresCode.size));
      this.delta.features.push([...features]);
    }
    this.lastFeatures = features;
    return (this.lastFeaturesCode = c);
  }

  /**
   * Hand the full batch to the writer and start one the record fits in; false (the record is
   * dropped) while more than max_buffer_bytes wait for a stuck writer.
   */
  private roll(inputs: number, idLen: number, shadows: number): boolean {
    if (this.out + batchBytes(this.batch) > this.settings.max_buffer_bytes) return false;
    this.post();
    if (!fits(this.batch, inputs, idLen, shadows)) this.batch = batchFor(inputs, idLen, shadows);
    return true;
  }

  /** Hand the batch (if it holds anything) to the writer, which writes it in the background. */
  private post(): void {
    const b = this.batch;
    if (!b.n) return;
    const size = batchBytes(b);
    const job: WriteJob = { batch: b, dict: this.delta, now: this.now() };
    this.delta = { versions: [], features: [] };
    this.batch = this.pool.pop() ?? batchFor();
    this.out += size;
    const n = b.n;
    this.last = this.writer.write(job).then(
      (ack) => {
        this.out -= size;
        this.done(ack, n);
      },
      (err: Error) => {
        this.out -= size;
        this.done({ written: 0, bytes: 0, ms: 0, segment: null, error: err.message, batch: b }, n);
        this.fallBack();
      },
    );
  }

  private done(ack: WriteAck, n: number): void {
    const c = this.counts;
    c.last_flush_ms = ack.ms;
    if (ack.error === null) {
      c.written += ack.written;
      c.bytes += ack.bytes;
      c.flushes++;
      c.segment = ack.segment;
    } else {
      c.write_errors++;
      c.dropped += n;
      c.last_error = ack.error;
    }
    // a batch lost with a dead thread has no arrays left (they were moved)
    if (this.pool.length < POOL && ack.batch.time.byteLength) this.pool.push(resetBatch(ack.batch));
  }

  /** The writer thread died: write on this thread from now on, sending it the whole dictionary. */
  private fallBack(): void {
    if (this.writer.kind === 'inline') return;
    void this.writer.close().catch(() => undefined);
    this.writer = new InlineWriter(new SegmentWriter(this.dir, this.settings, ID_PREFIX));
    this.counts.writer = 'inline';
    this.delta = { versions: [...this.versionCode.keys()], features: [...this.featuresCode.keys()].map((f) => [...f]) };
  }

  /** Write what is logged so far; resolves once it is on disk (or failed, counted). */
  async flush(): Promise<void> {
    this.post();
    let last: Promise<void>;
    do await (last = this.last);
    while (last !== this.last);
  }

  /**
   * Which of `ids` were logged: the recent ones from the in-memory indexes, the rest from the
   * segments on disk (one pass, newest first, stopping when all are found). Cost: O(ids) for
   * recent ids; a scan of the log's text for older ones.
   */
  async known(ids: Iterable<string>): Promise<Set<string>> {
    const found = new Set<string>();
    const missing = new Set<string>();
    for (const id of ids) {
      const seq = seqOf(id);
      if (seq >= 0 ? this.seqs.has(seq) : this.index.has(id)) found.add(id);
      else missing.add(id);
    }
    if (missing.size) {
      await this.flush();
      for (const id of await knownOnDisk(this.dir, missing)) found.add(id);
    }
    return found;
  }

  stats(): PredLogStats {
    return { ...this.counts };
  }

  /** Stop the timer, write the rest, close the segment and the writer thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    await this.writer.close();
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

const LINE_START = '{"request_id":';

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
      if (text.startsWith(LINE_START, i)) {
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
export function outputOf(r: PredictionRecord, version: string): LoggedOutput | null {
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
