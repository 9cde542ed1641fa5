/**
 * A batch of predictions (predbatch.ts) as the log's JSON lines, on the writer thread. Numbers
 * are written as JSON.stringify writes them (String(): the shortest text that reads back as the
 * same double; null for NaN and infinities). Cost: ~0.7 us a line on the development machine,
 * most of it String() of the probability; a byte-by-byte writer was measured only ~10% faster.
 */
import { formatRequestId } from './requestid.js';
import { META, SHADOW, type Batch, type Dict } from './predbatch.js';

const num = (v: number) => (v === v && v !== Infinity && v !== -Infinity ? String(v) : 'null');

/** A JSON string literal: printable ASCII without quote or backslash as is. */
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

/** `"name":` key prefixes of a feature list, cached per list. */
const keyCache = new WeakMap<readonly string[], string[]>();
const keysOf = (features: readonly string[]) => {
  let k = keyCache.get(features);
  if (!k) keyCache.set(features, (k = features.map((f, i) => (i ? ',' : '') + quote(f) + ':')));
  return k;
};

/** Text is gathered into strings of about this many characters before encoding. */
const PIECE = 1 << 16;

/** The batch as JSON lines (the format of predlog.ts), UTF-8, in buffers of about 64 KiB. */
export function formatBatch(b: Batch, dict: Dict): Buffer[] {
  const out: Buffer[] = [];
  const ids = Buffer.from(b.idBytes.buffer, b.idBytes.byteOffset, b.idOff);
  const versions = dict.versions.map(quote);
  let text = '';
  let lastMs = Number.NaN;
  let iso = '';
  let xo = 0;
  let so = 0;
  let io = 0;
  for (let i = 0; i < b.n; i++) {
    const ms = b.time[i]!;
    if (ms !== lastMs) iso = new Date((lastMs = ms)).toISOString();
    const m = i * META;
    const seq = b.seq[i]!;
    let id: string;
    if (seq >= 0) id = '"' + formatRequestId(dict.prefix, seq) + '"';
    else {
      id = quote(ids.toString('utf8', io, b.idEnd[i]!));
      io = b.idEnd[i]!;
    }
    const keys = keysOf(dict.features[b.meta[m + 1]!]!);
    let inputs = '';
    for (let j = 0; j < keys.length; j++) inputs += keys[j]! + num(b.x[xo++]!);
    let shadow = '';
    const ns = b.meta[m + 3]!;
    if (ns) {
      shadow = ',"shadow":[';
      for (let k = 0; k < ns; k++, so += SHADOW) {
        shadow += `${k ? ',' : ''}{"version":${versions[b.shadow[so]!]},"proba":${num(b.shadow[so + 1]!)},"label":${num(b.shadow[so + 2]!)}}`;
      }
      shadow += ']';
    }
    text += `{"request_id":${id},"time":"${iso}","version":${versions[b.meta[m]!]},"answered_by":"${b.meta[m + 2] ? 'challenger' : 'champion'}","proba":${num(b.proba[i]!)},"label":${num(b.label[i]!)},"inputs":{${inputs}}${shadow}}\n`;
    if (text.length >= PIECE) {
      out.push(Buffer.from(text, 'utf8'));
      text = '';
    }
  }
  if (text) out.push(Buffer.from(text, 'utf8'));
  return out;
}
