/** mlops export --sql: the model as one SQL query, on stdout or written to a file. */
import { resolve } from 'node:path';
import { modelToSql, type Dialect } from '../model/sql.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { loadModelFrom, type ModelChoice } from './modelchoice.js';

export interface ExportOptions {
  config: Config;
  model?: ModelChoice;
  dialect: Dialect;
  /** The table (or any FROM item) the query reads. */
  table: string;
  /** Write here instead of returning the text only. */
  out?: string;
}

export interface ExportResult {
  sql: string;
  model: string;
  version: number | null;
  dialect: Dialect;
  out: string | null;
}

export async function exportSql(opts: ExportOptions): Promise<ExportResult> {
  const { model, path, version } = await loadModelFrom(opts.config, opts.model ?? 'production');
  const sql = modelToSql(model, { dialect: opts.dialect, table: opts.table }) + '\n';
  const out = opts.out ? resolve(opts.out) : null;
  if (out) await writeFileAtomic(out, sql);
  return { sql, model: path, version, dialect: opts.dialect, out };
}
