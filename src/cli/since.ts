import { ConfigError } from '../errors.js';
import { parseSince } from '../live/since.js';

/** A --since flag (24h, 7d, 30m or an ISO date) as a Date; undefined when not given. */
export function sinceFlag(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const d = parseSince(text);
  if (d === null) throw new ConfigError(`--since ${JSON.stringify(text)}: not a time`, 'use 24h, 7d, 30m or an ISO date');
  return d;
}
