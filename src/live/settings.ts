/**
 * The "live" key of config.json: the prediction log's settings and the experiment poll. Its own
 * module with no imports beyond the errors, so reading config.json stays light.
 */
import { ConfigError, quote } from '../errors.js';

export interface PredLogSettings {
  /** Write the buffer this often (ms). */
  flush_ms: number;
  /** Start a new segment after this many bytes... */
  segment_bytes: number;
  /** ...or this many ms. */
  segment_ms: number;
  /** Remove segments last written more than this many days ago (null: keep). */
  max_age_days: number | null;
  /** Remove the oldest segments while all of them take more than this (null: no limit). */
  max_bytes: number | null;
  /** Request ids remembered in memory for the feedback join (older ones are looked up on disk). */
  index_size: number;
  /** Drop (and count) predictions while this much is waiting to be written (a stuck disk). */
  max_buffer_bytes: number;
}

export const DEFAULT_PREDLOG: PredLogSettings = {
  flush_ms: 1000,
  segment_bytes: 64 * 1024 * 1024,
  segment_ms: 3_600_000,
  max_age_days: 30,
  max_bytes: 10 * 1024 * 1024 * 1024,
  index_size: 200_000,
  max_buffer_bytes: 64 * 1024 * 1024,
};

/** The "live" key of config.json. */
export interface LiveSettings extends PredLogSettings {
  /** Record predictions (default true). */
  log: boolean;
  /** How often the server re-reads experiment.json (ms). */
  experiment_poll_ms: number;
}

export const DEFAULT_LIVE: LiveSettings = { log: true, experiment_poll_ms: 1000, ...DEFAULT_PREDLOG };

const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const LIVE_KEYS: Record<keyof LiveSettings, [(v: unknown) => boolean, string]> = {
  log: [(v) => typeof v === 'boolean', 'true or false'],
  experiment_poll_ms: [positiveInt, 'a positive integer'],
  flush_ms: [positiveInt, 'a positive integer (milliseconds)'],
  segment_bytes: [positiveInt, 'a positive integer'],
  segment_ms: [positiveInt, 'a positive integer (milliseconds)'],
  max_age_days: [(v) => v === null || (typeof v === 'number' && v > 0 && Number.isFinite(v)), 'null or a positive number'],
  max_bytes: [(v) => v === null || positiveInt(v), 'null or a positive integer'],
  index_size: [positiveInt, 'a positive integer'],
  max_buffer_bytes: [positiveInt, 'a positive integer'],
};

/** The "live" settings of a config file (undefined: the defaults); ConfigError naming the key. */
export function parseLiveSettings(raw: unknown, file: string): LiveSettings {
  const s = { ...DEFAULT_LIVE };
  if (raw === undefined) return s;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: "live" must be an object`);
  for (const [k, v] of Object.entries(raw)) {
    const rule = Object.hasOwn(LIVE_KEYS, k) ? LIVE_KEYS[k as keyof LiveSettings] : undefined;
    if (!rule) throw new ConfigError(`${file}: unknown key ${quote(`live.${k}`)}`, `known: ${Object.keys(LIVE_KEYS).join(', ')}`);
    if (!rule[0](v)) throw new ConfigError(`${file}: "live.${k}" has an invalid value ${quote(v)}`, `it must be ${rule[1]}`);
    (s as Record<string, unknown>)[k] = v;
  }
  return s;
}

