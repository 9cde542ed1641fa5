/**
 * Warnings: something was wrong but the command could go on (a torn log line skipped, a damaged
 * cache ignored). One line each on stderr, each text once per process; `--quiet` silences them.
 */
const said = new Set<string>();
let quiet = false;

export function setQuietWarnings(q: boolean): void {
  quiet = q;
}

export function warn(text: string): void {
  if (quiet || said.has(text)) return;
  said.add(text);
  process.stderr.write(`mlops: warning: ${text}\n`);
}
