/**
 * The seeded generator of attrition-style sample data: corporation, lastmonth_activity,
 * lastyear_activity, number_of_employees, exited. Labels follow a logistic rule on the raw
 * features (so a linear model can learn them, with noise), duplicates are copies of earlier
 * rows (also across files), and `shift` moves the feature distributions and the label rule
 * (both data drift and concept drift).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface GenOptions {
  rows: number;
  files: number;
  out: string;
  seed?: number;
  /** Distribution shift; 0 = the reference distribution. */
  shift?: number;
  /** Fraction of rows that repeat an earlier row. */
  dup?: number;
  /** Fraction of feature cells left empty (missing). */
  missing?: number;
  /** File name prefix: <prefix>1.csv, <prefix>2.csv, ...; or the exact name when files = 1 and it ends in .csv. */
  prefix?: string;
}

export interface GenResult {
  files: { path: string; rows: number }[];
  rows: number;
}

/** splitmix32-style generator: fast, seedable, good enough for sample data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}

export const HEADER = 'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited';

export function generate(o: GenOptions): GenResult {
  const rand = rng(o.seed ?? 42);
  const shift = o.shift ?? 0;
  const dup = o.dup ?? 0;
  const missing = o.missing ?? 0;
  const normal = () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const cell = (v: number) => (missing > 0 && rand() < missing ? '' : String(v));
  const makeRow = () => {
    let corp = '';
    for (let k = 0; k < 4; k++) corp += letters[Math.floor(rand() * 26)];
    const employees = Math.max(1, Math.round(Math.exp(3 + 1.2 * normal()) * (1 + shift)));
    const lastyear = Math.max(0, Math.round(Math.exp(6.5 + 1.3 * normal() + shift)));
    const lastmonth = Math.max(0, Math.round((lastyear / 12) * Math.exp(0.8 * normal() + shift)));
    const z = 0.8 + shift - 0.02 * lastmonth + 0.0008 * lastyear - 0.004 * employees * (1 - shift);
    const exited = rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    return `${corp},${cell(lastmonth)},${cell(lastyear)},${cell(employees)},${exited}`;
  };
  mkdirSync(o.out, { recursive: true });
  const prefix = o.prefix ?? 'dataset';
  const files: GenResult['files'] = [];
  // Earlier rows that duplicates copy from: a bounded reservoir keeps memory flat at 10M rows.
  const pool: string[] = [];
  const POOL = 10000;
  let seen = 0;
  const per = Math.floor(o.rows / o.files);
  for (let f = 0; f < o.files; f++) {
    const n = f === o.files - 1 ? o.rows - per * (o.files - 1) : per;
    const name = o.files === 1 && prefix.endsWith('.csv') ? prefix : `${prefix}${f + 1}.csv`;
    const path = join(o.out, name);
    const fd = openSync(path, 'w');
    let buf = HEADER + '\n';
    for (let i = 0; i < n; i++) {
      let line: string;
      if (pool.length > 0 && rand() < dup) line = pool[Math.floor(rand() * pool.length)]!;
      else {
        line = makeRow();
        seen++;
        if (pool.length < POOL) pool.push(line);
        else if (rand() < POOL / seen) pool[Math.floor(rand() * POOL)] = line;
      }
      buf += line + '\n';
      if (buf.length > 1 << 20) {
        writeSync(fd, buf);
        buf = '';
      }
    }
    writeSync(fd, buf);
    closeSync(fd);
    files.push({ path, rows: n });
  }
  return { files, rows: o.rows };
}
