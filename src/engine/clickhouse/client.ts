/**
 * A thin wrapper over @clickhouse/client: queries returning rows as JSON objects, commands, and
 * inserts of rows or of a raw byte stream (RowBinary). Every failure becomes a typed error that
 * names the server and the step (`clickhouse http://127.0.0.1:18123 (train, Newton iteration 3):
 * connection refused`): a server that cannot be reached, refuses the credentials, times out or
 * goes away mid-query is the environment (ConfigError, exit 2); an error the server reports for
 * the SQL (an unknown column, a bad value) is the data (DataError, exit 3). Credentials come from
 * MLOPS_CLICKHOUSE_USER / MLOPS_CLICKHOUSE_PASSWORD, never from a file.
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { ConfigError, DataError, type MlopsError } from '../../errors.js';
import { pausePoint } from '../../store/pause.js';

export interface ClickHouseSettings {
  /** http(s)://host:port of a server (any node of a cluster). */
  url: string;
  /** Database of the tables; default "default". */
  database?: string;
  /** Per-request timeout, ms (default 300000: one Newton iteration over a large table). */
  timeoutMs?: number;
}

export interface ClickHouse {
  readonly url: string;
  readonly database: string;
  /** Rows of a SELECT as objects (64-bit integers come as strings; use Number()). */
  query<T = Record<string, unknown>>(sql: string, step: string): Promise<T[]>;
  /** A statement without result (CREATE, DROP, INSERT ... SELECT). */
  command(sql: string, step: string): Promise<void>;
  /** Insert rows given as objects (JSONEachRow: not for doubles that must stay exact, see sql.ts). */
  insert(table: string, rows: readonly Record<string, unknown>[], step: string): Promise<void>;
  /** Send a body in a raw format: `INSERT INTO t FORMAT RowBinary` with the bytes as a stream. */
  insertStream(sql: string, body: Readable, step: string): Promise<void>;
  close(): Promise<void>;
}

type ClientModule = typeof import('@clickhouse/client');

// Loaded on first use, so commands that never touch ClickHouse do not pay for it.
const loadClient = (): ClientModule => createRequire(import.meta.url)('@clickhouse/client') as ClientModule;

/** The user and password for the server, from the environment only. */
export function clickHouseCredentials(env: NodeJS.ProcessEnv = process.env): { username: string; password: string } {
  return { username: env.MLOPS_CLICKHOUSE_USER || 'default', password: env.MLOPS_CLICKHOUSE_PASSWORD ?? '' };
}

export function connectClickHouse(settings: ClickHouseSettings, env: NodeJS.ProcessEnv = process.env): ClickHouse {
  let parsed: URL;
  try {
    parsed = new URL(settings.url);
  } catch {
    throw new ConfigError(`clickhouse: ${JSON.stringify(settings.url)} is not a URL`, 'set engine.url to http://host:8123 (the HTTP port)');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`clickhouse: ${settings.url} is not an http(s) URL`, 'set engine.url to http://host:8123 (the HTTP port)');
  }
  if (parsed.username || parsed.password) {
    throw new ConfigError(`clickhouse: ${parsed.host}: the URL holds credentials`, 'set MLOPS_CLICKHOUSE_USER and MLOPS_CLICKHOUSE_PASSWORD instead');
  }
  const url = settings.url.replace(/\/+$/, '');
  const database = settings.database ?? 'default';
  const mod = loadClient();
  const client: ClickHouseClient = mod.createClient({
    url,
    database,
    ...clickHouseCredentials(env),
    request_timeout: settings.timeoutMs ?? 300_000,
    log: { level: mod.ClickHouseLogLevel.OFF },
    // a request on a socket the server closed in between fails instead of being resent: every
    // step is idempotent, but the caller decides about reruns
    keep_alive: { enabled: false },
  });
  const fail = (err: unknown, step: string): never => {
    throw clickHouseError(url, step, err, mod);
  };
  return {
    url,
    database,
    async query<T>(sql: string, step: string) {
      await pausePoint(`clickhouse: ${step}`);
      try {
        const rs = await client.query({ query: sql, format: 'JSONEachRow' });
        return await rs.json<T>();
      } catch (err) {
        return fail(err, step);
      }
    },
    async command(sql, step) {
      await pausePoint(`clickhouse: ${step}`);
      try {
        await client.command({ query: sql });
      } catch (err) {
        fail(err, step);
      }
    },
    async insert(table, rows, step) {
      try {
        await client.insert({ table, values: rows as Record<string, unknown>[], format: 'JSONEachRow' });
      } catch (err) {
        fail(err, step);
      }
    },
    async insertStream(sql, body, step) {
      try {
        const res = await client.exec({ query: sql, values: body });
        // the server answers once it has read the whole body; drain the (empty) response
        for await (const chunk of res.stream) void chunk;
      } catch (err) {
        fail(err, step);
      }
    },
    async close() {
      await client.close().catch(() => undefined);
    },
  };
}

/** Error codes of the server that are the environment, not the data (ClickHouse's ErrorCodes). */
const ENVIRONMENT_CODES: Record<string, string> = {
  '81': 'unknown database',
  '60': 'unknown table',
  '159': 'timed out on the server',
  '164': 'the user is read-only',
  '192': 'unknown user',
  '193': 'wrong password',
  '194': 'a password is required',
  '202': 'too many simultaneous queries',
  '241': 'out of memory on the server',
  '279': 'all connection tries to a shard failed',
  '497': 'access denied',
  '516': 'authentication failed',
};

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the server closed the connection mid-query',
  EPIPE: 'the server closed the connection mid-query',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
};

/**
 * The typed error for a failure of one request. ClickHouse's own errors carry a numeric code;
 * anything else (a socket error, a timeout, a response cut short) is the connection.
 */
export function clickHouseError(url: string, step: string, err: unknown, mod?: Pick<ClientModule, 'ClickHouseError'>): MlopsError {
  const where = `clickhouse ${url} (${step})`;
  const message = err instanceof Error ? err.message : String(err);
  // 18.16 words its errors "Code: 47, e.displayText() = DB::Exception: ..., e.what() = ...",
  // which the client (written for current servers: "Code: 47. DB::Exception: ...") leaves unparsed
  const old = /^Code: (\d+), e\.displayText\(\) = (?:DB::Exception: )?([^\n]*?)(?:, e\.what\(\) = \S+)?$/m.exec(message);
  const parsed = mod && err instanceof mod.ClickHouseError ? { code: String(err.code), text: message.split('\n')[0]!.trim() } : old ? { code: old[1]!, text: old[2]!.trim() } : null;
  if (parsed) {
    const env = ENVIRONMENT_CODES[parsed.code];
    if (env) return new ConfigError(`${where}: ${env}: ${parsed.text}`, 'check engine.url, engine.database and MLOPS_CLICKHOUSE_USER / MLOPS_CLICKHOUSE_PASSWORD');
    return new DataError(`${where}: the server refused the query (code ${parsed.code}): ${parsed.text}`, 'check that the table holds the configured columns as numbers');
  }
  const sys = (err as NodeJS.ErrnoException | null)?.code;
  const firstLine = message.split('\n')[0]!.trim();
  const cause =
    (sys && NETWORK[sys]) ??
    (/timeout/i.test(message)
      ? 'timed out'
      : /socket hang up|aborted|premature close|other side closed/i.test(message)
        ? 'the server closed the connection mid-query'
        : firstLine || 'request failed');
  return new ConfigError(`${where}: ${cause}`, 'check that the server is up and reachable (curl URL/ping), then rerun: nothing was changed');
}
