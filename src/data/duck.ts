/** A DuckDB in-memory database for one command, plus SQL quoting helpers. */
import { createRequire } from 'node:module';
import type { DuckDBConnection, DuckDBInstance as DuckDBInstanceType } from '@duckdb/node-api';

// Loaded with require: importing this CommonJS package as ESM makes Node analyse each of its
// ~100 files for named exports, which cost ~70 ms more at every start on this machine.
const { DuckDBInstance } = createRequire(import.meta.url)('@duckdb/node-api') as { DuckDBInstance: typeof DuckDBInstanceType };

export interface Db {
  conn: DuckDBConnection;
  /** Run statements, ignore results. */
  exec(sql: string): Promise<void>;
  /** Run a query and return its rows as plain JSON-compatible objects. */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): void;
}

export async function openDb(): Promise<Db> {
  const instance = await DuckDBInstance.create(':memory:', {
    // Rows must come out in file order, then row order: de-duplication keeps the first one.
    preserve_insertion_order: 'true',
  });
  const conn = await instance.connect();
  return {
    conn,
    async exec(sql) {
      await conn.run(sql);
    },
    async rows<T>(sql: string) {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJS() as T[];
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
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
