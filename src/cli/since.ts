import { ConfigError } from '../errors.js';

/** A --since flag (24h, 7d, 30m or an ISO date) as a Date; undefined when not given. */
export async function sinceFlag(text: string | undefined): Promise<Date | undefined> {
  if (text === undefined) return undefined;
  const { parseSince } = await import('../live/predlog.js');
  const d = parseSince(text);
  if (d === null) throw new ConfigError(`--since ${JSON.stringify(text)}: not a time`, 'use 24h, 7d, 30m or an ISO date');
  return d;
}
