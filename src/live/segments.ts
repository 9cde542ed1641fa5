/**
 * The segment files of a prediction log folder: their names (start time, writer's pid, sequence),
 * listing oldest first, and retention. No other import, so the writer thread stays small.
 *
 *   20261203T125113042Z-p4242-000001.jsonl
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PredLogSettings } from './settings.js';

export const SEGMENT = /^(\d{8}T\d{9}Z)-p(\d+)-(\d{6})\.jsonl$/;

/** The time part of a segment name: 20261203T125113042Z. */
export const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:.]/g, '');

/** A new segment's name. */
export const segmentName = (startMs: number, pid: number, seq: number) => `${stamp(startMs)}-p${pid}-${String(seq).padStart(6, '0')}.jsonl`;

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
