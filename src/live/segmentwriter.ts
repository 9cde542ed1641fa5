/**
 * The writing half of the prediction log: batches (predbatch.ts) in, JSON lines appended to the
 * current segment with one writev each; a new segment by size or age (and after a failed write),
 * and retention after each new one. Runs in the writer thread (predlog-worker.ts), or on the
 * main thread when no worker can be had; either way one batch at a time, in order.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LineFile } from './lines.js';
import type { Batch, Dict, DictDelta } from './predbatch.js';
import { formatBatch } from './predlines.js';
import { pruneSegments, segmentName } from './segments.js';
import type { PredLogSettings } from './settings.js';

export interface WriteJob {
  batch: Batch;
  dict: DictDelta;
  /** The log's clock at the flush: segment age and names. */
  now: number;
}

export interface WriteAck {
  /** Records written (0 when the write failed). */
  written: number;
  bytes: number;
  ms: number;
  segment: string | null;
  /** Why the write failed: these records are lost. */
  error: string | null;
  /** The batch, for reuse. */
  batch: Batch;
}

export class SegmentWriter {
  private file: LineFile | null = null;
  private segmentStart = 0;
  private seq = 0;
  private readonly dict: Dict;

  constructor(
    readonly dir: string,
    private readonly settings: PredLogSettings,
    prefix: string,
  ) {
    this.dict = { prefix, versions: [], features: [] };
  }

  async write(job: WriteJob): Promise<WriteAck> {
    const t0 = performance.now();
    this.dict.versions.push(...job.dict.versions);
    this.dict.features.push(...job.dict.features);
    const b = job.batch;
    try {
      const data = formatBatch(b, this.dict);
      const f = this.file;
      if (!f || f.size >= this.settings.segment_bytes || job.now - this.segmentStart >= this.settings.segment_ms) await this.rotate(job.now);
      await this.file!.append(data);
      return { written: b.n, bytes: data.reduce((a, d) => a + d.length, 0), ms: performance.now() - t0, segment: this.file!.path, error: null, batch: b };
    } catch (err) {
      // the disk failed us: these predictions are lost; the next write starts a new segment
      await this.file?.close().catch(() => undefined);
      this.file = null;
      return { written: 0, bytes: 0, ms: performance.now() - t0, segment: null, error: (err as Error).message, batch: b };
    }
  }

  private async rotate(now: number): Promise<void> {
    await this.file?.close();
    this.file = null;
    for (;;) {
      try {
        this.file = await LineFile.open(join(this.dir, segmentName(now, process.pid, ++this.seq)), true);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    this.segmentStart = now;
    await pruneSegments(this.dir, this.settings, now, this.file.path);
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = null;
  }
}
