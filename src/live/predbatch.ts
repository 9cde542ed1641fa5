/**
 * A batch of predictions as columns of typed arrays. The request path only copies numbers into
 * it (log() builds no string and keeps no string alive); the writer turns a whole batch into
 * JSON lines (predlines.ts), in the writer thread, to which the arrays are moved, not copied.
 *
 * Strings that repeat (model versions, feature lists) travel once, as codes into a dictionary
 * that only grows; a request id the process made itself travels as its counter (requestid.ts),
 * any other id as its UTF-8 bytes.
 */
/** Per record in `meta`: version code, feature-list code, answered by (0 champion, 1 challenger), shadow outputs. */
export const META = 4;
/** Per shadow output in `shadow`: version code, proba, label. */
export const SHADOW = 3;

export interface Batch {
  n: number;
  /** Epoch ms. */
  time: Float64Array;
  proba: Float64Array;
  /** Class predicted; NaN for a regression value (written as null). */
  label: Float64Array;
  meta: Int32Array;
  /** A generated request id's counter; -1: the id is the next run of `idBytes`, ending at idEnd. */
  seq: Float64Array;
  idEnd: Int32Array;
  idBytes: Uint8Array;
  idOff: number;
  /** The inputs of every record, one after another (NaN: missing). */
  x: Float64Array;
  xOff: number;
  shadow: Float64Array;
  sOff: number;
}

/** What the codes mean; the writer's copy grows by the deltas sent with each batch. */
export interface Dict {
  /** The request id prefix of generated ids (requestid.ts ID_PREFIX of the logging thread). */
  prefix: string;
  versions: string[];
  features: (readonly string[])[];
}

export interface DictDelta {
  versions: string[];
  features: (readonly string[])[];
}

export function newBatch(records: number, inputs: number, idBytes: number, shadows: number): Batch {
  return {
    n: 0,
    time: new Float64Array(records),
    proba: new Float64Array(records),
    label: new Float64Array(records),
    meta: new Int32Array(records * META),
    seq: new Float64Array(records),
    idEnd: new Int32Array(records),
    idBytes: new Uint8Array(idBytes),
    idOff: 0,
    x: new Float64Array(inputs),
    xOff: 0,
    shadow: new Float64Array(shadows * SHADOW),
    sOff: 0,
  };
}

/** The batch emptied for reuse. */
export function resetBatch(b: Batch): Batch {
  b.n = b.idOff = b.xOff = b.sOff = 0;
  return b;
}

export const batchBytes = (b: Batch) =>
  b.time.byteLength * 4 + b.meta.byteLength + b.idEnd.byteLength + b.idBytes.byteLength + b.x.byteLength + b.shadow.byteLength;

/** The buffers to move with a batch to the writer thread (and back). */
export const batchBuffers = (b: Batch): ArrayBuffer[] =>
  [b.time, b.proba, b.label, b.meta, b.seq, b.idEnd, b.idBytes, b.x, b.shadow].map((a) => a.buffer as ArrayBuffer);

/** Whether a record of `inputs` values, `idLen` id characters and `shadows` outputs fits. */
export const fits = (b: Batch, inputs: number, idLen: number, shadows: number) =>
  b.n < b.time.length && b.xOff + inputs <= b.x.length && b.idOff + idLen * 3 <= b.idBytes.length && b.sOff + shadows * SHADOW <= b.shadow.length;

/** Append one record (the caller checked `fits`). Cost: the copies, no allocation. */
export function addRecord(b: Batch, time: number, version: number, features: number, answeredBy: number, proba: number, label: number, x: ArrayLike<number>, inputs: number, seq: number, id: string): void {
  const i = b.n++;
  b.time[i] = time;
  b.proba[i] = proba;
  b.label[i] = label;
  const m = i * META;
  b.meta[m] = version;
  b.meta[m + 1] = features;
  b.meta[m + 2] = answeredBy;
  b.meta[m + 3] = 0;
  for (let j = 0; j < inputs; j++) b.x[b.xOff + j] = x[j]!;
  b.xOff += inputs;
  b.seq[i] = seq;
  if (seq < 0) b.idOff = writeId(b.idBytes, b.idOff, id);
  b.idEnd[i] = b.idOff;
}

/** One shadow output of the record just added. */
export function addShadow(b: Batch, version: number, proba: number, label: number): void {
  b.meta[(b.n - 1) * META + 3]! += 1;
  b.shadow[b.sOff++] = version;
  b.shadow[b.sOff++] = proba;
  b.shadow[b.sOff++] = label;
}

/** UTF-8 bytes of `s` at `off` (room for 3 bytes a character checked); the new offset. */
function writeId(buf: Uint8Array, off: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return off + Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).write(s.slice(i), off, 'utf8');
    buf[off++] = c;
  }
  return off;
}
