/** Human output: colour only on a TTY and never with NO_COLOR; aligned tables. */
import { Chalk, type ChalkInstance } from 'chalk';

export interface GlobalFlags {
  config: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

export function colours(stream: NodeJS.WriteStream = process.stdout): ChalkInstance {
  const on = Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
  return new Chalk({ level: on ? 1 : 0 });
}

/** Left-aligned text columns, right-aligned numbers. */
export function table(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? '').length)));
  const numeric = header.map((_, j) => rows.length > 0 && rows.every((r) => typeof r[j] === 'number'));
  const fmt = (r: string[]) =>
    r.map((c, j) => (numeric[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!))).join('  ').trimEnd();
  return [fmt(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)];
}

export const fmtNum = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Number.isInteger(x) ? String(x) : x.toFixed(digits);

export const fmtSeconds = (s: number) => `${s.toFixed(3)} s`;
