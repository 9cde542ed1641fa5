/**
 * Request ids the server makes up for requests without X-Request-Id: UUID-shaped (36
 * characters, 8-4-4-4-12 hex), a random part drawn once per process and a counter in the last
 * 12 digits:
 *
 *   3f2a9c1e-07b4-4d5e-9a10-00000000002a     (the process's 42nd id)
 *
 * Unique across processes (76 random bits each) and cheap: no random draw per request, and the
 * prediction log keeps only the counter of such an id (a number), never the string.
 */
import { randomBytes } from 'node:crypto';

const COUNTER_DIGITS = 12;

function processPrefix(): string {
  const r = randomBytes(12).toString('hex');
  // version nibble 4 and variant 8-b, as a random UUID has them
  return `${r.slice(0, 8)}-${r.slice(8, 12)}-4${r.slice(13, 16)}-${'89ab'[Number.parseInt(r[16]!, 16) & 3]}${r.slice(17, 20)}-`;
}

/** This process's random part: the first 24 characters of every id it makes. */
export const ID_PREFIX = processPrefix();

let counter = 0;

/** The id `prefix` + counter `seq` (the writer thread formats logged ids with it). */
export const formatRequestId = (prefix: string, seq: number) => prefix + seq.toString(16).padStart(COUNTER_DIGITS, '0');

/** A new request id. Cost: ~0.1 us (a number to hex). */
export const newRequestId = (): string => formatRequestId(ID_PREFIX, ++counter);

/** The counter of an id this process made, or -1 for any other id (a client's, another process's). */
export function seqOf(id: string): number {
  if (id.length !== ID_PREFIX.length + COUNTER_DIGITS || !id.startsWith(ID_PREFIX)) return -1;
  let v = 0;
  for (let i = ID_PREFIX.length; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * Which of the last `size` counters were logged: one bit each in a ring. Counters come in about
 * increasing order (a request's id is made when it arrives and logged when it is answered); one
 * older than the window is not remembered (the caller looks on disk). Cost: a bit per id, and
 * clearing the bits of ids that were never logged (health checks) as the window moves.
 */
export class SeqIndex {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  /** The highest counter added; bits are valid for (hi - size, hi]. */
  private hi = 0;

  constructor(size: number) {
    let slots = 64;
    while (slots < size) slots *= 2;
    this.bits = new Uint32Array(slots / 32);
    this.mask = slots - 1;
  }

  private get size(): number {
    return this.mask + 1;
  }

  add(seq: number): void {
    if (seq > this.hi) {
      if (seq - this.hi >= this.size) this.bits.fill(0);
      else for (let s = this.hi + 1; s < seq; s++) this.clear(s);
      this.clear(seq);
      this.hi = seq;
    } else if (seq <= this.hi - this.size) return;
    const i = seq & this.mask;
    this.bits[i >>> 5]! |= 1 << (i & 31);
  }

  has(seq: number): boolean {
    if (seq > this.hi || seq <= this.hi - this.size || seq < 1) return false;
    const i = seq & this.mask;
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  private clear(seq: number): void {
    const i = seq & this.mask;
    this.bits[i >>> 5]! &= ~(1 << (i & 31));
  }
}
