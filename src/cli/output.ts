/** Human output: colour only on a TTY and never with NO_COLOR; aligned tables. */
import type { ChalkInstance } from 'chalk';
import { InvalidArgumentError } from 'commander';

export interface GlobalFlags {
  config: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

const colourOn = (stream: NodeJS.WriteStream) => Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';

/**
 * Styles that return the text unchanged, chainable like chalk's (c.red.bold(s)). Output that is
 * not a colour terminal (pipes, files, cron, CI) never loads chalk: its import is a tenth of the
 * start-up budget of a quick command such as `mlops models`.
 */
const plain: ChalkInstance = new Proxy(((s: unknown) => String(s)) as unknown as ChalkInstance, {
  get: (_t, key) => (key === 'level' ? 0 : typeof key === 'symbol' || key === 'then' ? undefined : plain),
  apply: (_t, _this, args: unknown[]) => args.map(String).join(' '),
});

let chalk: typeof import('chalk') | null = null;

/** Loads chalk when stdout or stderr is a colour terminal; call once before colours(). */
export async function prepareColours(): Promise<void> {
  if (!chalk && (colourOn(process.stdout) || colourOn(process.stderr))) chalk = await import('chalk');
}

export function colours(stream: NodeJS.WriteStream = process.stdout): ChalkInstance {
  return chalk && colourOn(stream) ? new chalk.Chalk({ level: 1 }) : plain;
}

/** Every column's role and why (ingest, diagnose). */
export const rolesTable = (roles: readonly { name: string; role: string; reason: string }[]): string[] =>
  table(['column', 'role', 'why'], roles.map((x) => [x.name, x.role, x.reason]));

/** Left-aligned text columns, right-aligned numbers. Plain loops: tables can have 10,000 rows. */
export function table(header: string[], rows: (string | number)[][]): string[] {
  const n = header.length;
  const widths = header.map((h) => h.length);
  const numeric = header.map(() => rows.length > 0);
  const cells: string[][] = new Array<string[]>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const out = new Array<string>(n);
    for (let j = 0; j < n; j++) {
      const v = r[j];
      if (typeof v !== 'number') numeric[j] = false;
      const t = v === undefined ? '' : String(v);
      out[j] = t;
      if (t.length > widths[j]!) widths[j] = t.length;
    }
    cells[i] = out;
  }
  const fmt = (r: string[]) => {
    let line = '';
    for (let j = 0; j < n; j++) line += (j ? '  ' : '') + (numeric[j] ? r[j]!.padStart(widths[j]!) : r[j]!.padEnd(widths[j]!));
    return line.trimEnd();
  };
  const out = [fmt(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(fmt(r));
  return out;
}

export const fmtNum = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Number.isInteger(x) ? String(x) : x.toFixed(digits);

export const fmtSeconds = (s: number) => `${s.toFixed(3)} s`;

/** A --port value: an integer 0-65535 (0 picks a free port). */
export const parsePort = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
};
