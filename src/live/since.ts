/**
 * Time windows of the logged traffic: --since flags and drift.since in config.json. No imports,
 * so reading config.json stays light.
 */

/** A duration back from now: 30m, 24h, 7d. */
export const SINCE_DURATION = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/;

/**
 * A --since value: a duration back from now ("30m", "24h", "7d") or a date/time ISO 8601 string.
 * Null when it is neither.
 */
export function parseSince(text: string, now = Date.now()): Date | null {
  const m = SINCE_DURATION.exec(text.trim());
  if (m) return new Date(now - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd']);
  const t = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(t) ? null : new Date(t);
}
