/**
 * An append-only file of JSON lines held open for a long-running writer (the prediction log,
 * the feedback log). Each append is whole lines in one write(2) call where the kernel allows,
 * looped on a short write; a crash can tear at most the last line, which the one state reader
 * (statefile.ts) skips. After a torn tail (no final newline) the first append starts a fresh
 * line, so the torn piece stays a line of its own and every later record stays whole.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** `bufs` without their first `n` bytes. */
function rest(bufs: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
  return i < bufs.length ? [bufs[i]!.subarray(n), ...bufs.slice(i + 1)] : [];
}

export class LineFile {
  private constructor(
    readonly path: string,
    private fh: FileHandle,
    /** Bytes in the file. */
    public size: number,
    private needsNewline: boolean,
  ) {}

  /**
   * Open `path` for appending; `exclusive` fails with EEXIST when it exists (a new segment).
   * Cost: one open and one fstat (and a one-byte read when the file is not empty).
   */
  static async open(path: string, exclusive = false): Promise<LineFile> {
    const fh = await open(path, exclusive ? 'ax' : 'a');
    try {
      const { size } = await fh.stat();
      let torn = false;
      if (size > 0) {
        const b = Buffer.alloc(1);
        const r = await open(path, 'r');
        try {
          await r.read(b, 0, 1, size - 1);
        } finally {
          await r.close();
        }
        torn = b[0] !== 10;
      }
      return new LineFile(path, fh, size, torn);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Append whole lines (each ending in "\n"): text, or buffers written with one writev. */
  async append(data: string | readonly Buffer[]): Promise<void> {
    let bufs = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : [...data];
    if (this.needsNewline) bufs.unshift(Buffer.from('\n'));
    this.needsNewline = false;
    let left = bufs.reduce((a, b) => a + b.length, 0);
    try {
      while (left > 0) {
        const { bytesWritten } = await this.fh.writev(bufs);
        this.size += bytesWritten;
        left -= bytesWritten;
        if (left > 0) bufs = rest(bufs, bytesWritten);
      }
    } finally {
      // a write cut short leaves a torn last line: the next append starts a new one
      if (left > 0) this.needsNewline = true;
    }
  }

  async sync(): Promise<void> {
    await this.fh.sync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
