/**
 * A batch of predictions (predbatch.ts) as the log's JSON lines, written byte by byte into
 * 1 MiB buffers on the writer thread: the repeating parts (keys, versions, the id prefix, the
 * time of the millisecond) are encoded once, integers are written digit by digit, and only a
 * non-integer number goes through String() (the shortest text that reads back as the same
 * double, as JSON.stringify writes it). Almost nothing is allocated per line: a formatter that
 * built each line as a string cost the server ~4 us of CPU a request in its garbage collector's
 * threads, measured under load.
 */
import { META, SHADOW, type Batch, type Dict } from './predbatch.js';

const CHUNK = 1 << 20;
const enc = (s: string) => Buffer.from(s, 'utf8');
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** A JSON string literal: printable ASCII without quote or backslash as is. */
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

/** The fixed pieces of a line. */
const P = {
  id: enc('{"request_id":'),
  time: enc(',"time":"'),
  version: enc('","version":'),
  champion: enc(',"answered_by":"champion","proba":'),
  challenger: enc(',"answered_by":"challenger","proba":'),
  label: enc(',"label":'),
  inputs: enc(',"inputs":{'),
  shadowOpen: enc('},"shadow":[{"version":'),
  shadowNext: enc('},{"version":'),
  proba: enc(',"proba":'),
  end: enc('}}\n'),
  shadowEnd: enc('}]}\n'),
  null: enc('null'),
};

/** The dictionary's entries encoded once: versions as JSON strings, feature lists as `"name":` keys. */
interface Encoded {
  versions: Buffer[];
  keys: Buffer[][];
  /** Bytes of each feature list's keys together. */
  keyBytes: number[];
  prefix: Buffer;
}
const encodedOf = new WeakMap<Dict, Encoded>();
function encoded(dict: Dict): Encoded {
  let e = encodedOf.get(dict);
  if (!e) encodedOf.set(dict, (e = { versions: [], keys: [], keyBytes: [], prefix: enc('"' + dict.prefix) }));
  while (e.versions.length < dict.versions.length) e.versions.push(enc(quote(dict.versions[e.versions.length]!)));
  while (e.keys.length < dict.features.length) {
    const k = dict.features[e.keys.length]!.map((f, i) => enc((i ? ',' : '') + quote(f) + ':'));
    e.keys.push(k);
    e.keyBytes.push(k.reduce((a, b) => a + b.length, 0));
  }
  return e;
}

/** The bytes written so far: the current buffer and the ones filled before it. */
class Out {
  private readonly full: Buffer[] = [];
  buf = Buffer.allocUnsafe(CHUNK);
  off = 0;

  /** Room for `n` more bytes in the current buffer (a line never straddles two). */
  room(n: number): void {
    if (this.off + n <= this.buf.length) return;
    if (this.off) this.full.push(this.buf.subarray(0, this.off));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.off = 0;
  }

  bytes(b: Uint8Array): void {
    const buf = this.buf;
    let o = this.off;
    if (b.length > 32) {
      buf.set(b, o);
      o += b.length;
    } else for (let i = 0; i < b.length; i++) buf[o++] = b[i]!;
    this.off = o;
  }

  /** A JSON number: null for NaN and infinities, at most 25 bytes. */
  num(v: number): void {
    if (v !== v || v === Infinity || v === -Infinity) return this.bytes(P.null);
    const buf = this.buf;
    // integers below 1e15 digit by digit (floor(v / 10) is exact there); the rest as String() has them
    if (!Number.isInteger(v) || v > 1e15 || v < -1e15) {
      const s = String(v);
      for (let i = 0; i < s.length; i++) buf[this.off++] = s.charCodeAt(i);
      return;
    }
    if (v < 0) {
      buf[this.off++] = 45;
      v = -v;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let o = (this.off += digits);
    do {
      const q = Math.floor(v / 10);
      buf[--o] = 48 + v - q * 10;
      v = q;
    } while (v > 0);
  }

  /** A generated id's counter: 12 hex digits (it is below 2^48). */
  hex12(v: number): void {
    const hi = Math.floor(v / 0x1000000);
    const buf = this.buf;
    let o = (this.off += 12);
    for (let k = 0, x = v - hi * 0x1000000; k < 6; k++, x >>>= 4) buf[--o] = HEX[x & 15]!;
    for (let k = 0, x = hi; k < 6; k++, x >>>= 4) buf[--o] = HEX[x & 15]!;
  }

  /** A client's id, given as its UTF-8 bytes, as a JSON string. */
  id(bytes: Uint8Array, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const c = bytes[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c) return this.bytes(enc(JSON.stringify(Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('utf8'))));
    }
    const buf = this.buf;
    buf[this.off++] = 34;
    for (let i = from; i < to; i++) buf[this.off++] = bytes[i]!;
    buf[this.off++] = 34;
  }

  finish(): Buffer[] {
    if (this.off) this.full.push(this.buf.subarray(0, this.off));
    return this.full;
  }
}

/** The batch as JSON lines (the format of predlog.ts), UTF-8, in buffers of about 1 MiB. */
export function formatBatch(b: Batch, dict: Dict): Buffer[] {
  const e = encoded(dict);
  const out = new Out();
  let lastMs = Number.NaN;
  let iso = P.null;
  let xo = 0;
  let so = 0;
  let io = 0;
  for (let i = 0; i < b.n; i++) {
    const m = i * META;
    const version = e.versions[b.meta[m]!]!;
    const keys = e.keys[b.meta[m + 1]!]!;
    const ns = b.meta[m + 3]!;
    const seq = b.seq[i]!;
    const idTo = b.idEnd[i]!;
    // the most this line takes: an escaped id byte can become six, a number 25, a shadow ~100 and its version
    out.room(160 + (idTo - io) * 6 + e.prefix.length + e.keyBytes[b.meta[m + 1]!]! + keys.length * 25 + version.length + ns * 200);
    const ms = b.time[i]!;
    if (ms !== lastMs) iso = enc(new Date((lastMs = ms)).toISOString());
    out.bytes(P.id);
    if (seq >= 0) {
      out.bytes(e.prefix);
      out.hex12(seq);
      out.buf[out.off++] = 34;
    } else {
      out.id(b.idBytes, io, idTo);
      io = idTo;
    }
    out.bytes(P.time);
    out.bytes(iso);
    out.bytes(P.version);
    out.bytes(version);
    out.bytes(b.meta[m + 2] ? P.challenger : P.champion);
    out.num(b.proba[i]!);
    out.bytes(P.label);
    out.num(b.label[i]!);
    out.bytes(P.inputs);
    for (let j = 0; j < keys.length; j++) {
      out.bytes(keys[j]!);
      out.num(b.x[xo++]!);
    }
    if (!ns) {
      out.bytes(P.end);
      continue;
    }
    for (let k = 0; k < ns; k++, so += SHADOW) {
      const v = e.versions[b.shadow[so]!]!;
      out.room(100 + v.length);
      out.bytes(k ? P.shadowNext : P.shadowOpen);
      out.bytes(v);
      out.bytes(P.proba);
      out.num(b.shadow[so + 1]!);
      out.bytes(P.label);
      out.num(b.shadow[so + 2]!);
    }
    out.bytes(P.shadowEnd);
  }
  return out.finish();
}
