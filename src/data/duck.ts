/** A DuckDB in-memory database for one command, plus SQL quoting helpers. */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance as DuckDBInstanceType } from '@duckdb/node-api';

// Loaded with require, and only when a database is opened: importing this CommonJS package as
// ESM makes Node analyse each of its ~100 files for named exports (~70 ms more at every start),
// and commands on small files never need it.
const loadDuckDb = () => createRequire(import.meta.url)('@duckdb/node-api') as { DuckDBInstance: typeof DuckDBInstanceType };

export interface Db {
  conn: DuckDBConnection;
  /** Run statements, ignore results. */
  exec(sql: string): Promise<void>;
  /** Run a query and return its rows as plain JSON-compatible objects. */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /**
   * Another connection to the same database, to run a statement alongside one on this one
   * (temp tables belong to their connection: share plain tables). Closed with the database.
   */
  connect(): Promise<Db>;
  /**
   * Run `fn` with the database on one thread (the setting is the database's: no statement of
   * another connection should be running), then back to the default.
   */
  serially<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

/**
 * DuckDB's memory budget. Beyond it, sorts and hash tables spill to a temp folder, which keeps
 * the process lean at ten million rows. MLOPS_MEMORY_LIMIT overrides (DuckDB syntax, "2GB").
 */
const MEMORY_LIMIT = process.env.MLOPS_MEMORY_LIMIT || '768MB';

export async function openDb(): Promise<Db> {
  const spill = join(tmpdir(), `mlops-duckdb-${process.pid}`);
  const instance = await loadDuckDb().DuckDBInstance.create(':memory:', {
    // Rows must come out in file order, then row order: de-duplication keeps the first one.
    preserve_insertion_order: 'true',
    memory_limit: MEMORY_LIMIT,
    temp_directory: spill,
  });
  const extra: DuckDBConnection[] = [];
  const wrap = (conn: DuckDBConnection, close: () => void): Db => ({
    conn,
    async exec(sql) {
      await conn.run(sql);
    },
    async rows<T>(sql: string) {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJS() as T[];
    },
    async connect() {
      const c = await instance.connect();
      extra.push(c);
      return wrap(c, () => c.closeSync());
    },
    async serially(fn) {
      await conn.run('SET threads = 1');
      try {
        return await fn();
      } finally {
        await conn.run('RESET threads');
      }
    },
    close,
  });
  const conn = await instance.connect();
  return wrap(conn, () => {
    for (const c of extra) c.closeSync();
    conn.closeSync();
    instance.closeSync();
    rmSync(spill, { recursive: true, force: true });
  });
}

/** Open a database, run `fn`, always close it. */
export async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb();
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}
