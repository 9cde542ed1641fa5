import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';

const DIALECTS = ['duckdb', 'clickhouse', 'postgres'] as const;

export const register: Register = (program, bind) => {
  program
    .command('export')
    .description('the model as one SQL query that scores a table (id columns, prediction, probability)')
    .requiredOption('--sql', 'export as SQL (the one format today)')
    .option('--dialect <name>', 'duckdb (default), clickhouse or postgres', (v: string) => {
      if (!(DIALECTS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${DIALECTS.join(', ')}`);
      return v as (typeof DIALECTS)[number];
    }, 'duckdb')
    .option('--table <name>', 'the table the query reads', 'data')
    .option('--out <file>', 'write the query to this file instead of stdout')
    .option('--model <which>', '"production" (default), "trained", an alias, a version (v0003), or a model file path', 'production')
    .action(
      bind<{ dialect: (typeof DIALECTS)[number]; table: string; out?: string; model: string }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config);
        const { exportSql } = await import('../../ops/export.js');
        const r = await exportSql({ config, model: o.model, dialect: o.dialect, table: o.table, out: o.out });
        return { json: r, human: r.out ? [`wrote the ${r.dialect} query of ${r.model} to ${r.out}`] : [r.sql.trimEnd()] };
      }),
    );
};
