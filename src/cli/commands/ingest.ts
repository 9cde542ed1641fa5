import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';
import { skippedNote } from '../../data/csvfiles.js';
import { fmtNum, fmtSeconds, rolesTable, table } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('ingest')
    .description('merge every data file (.csv, .csv.gz, .parquet) of input_folder_path, drop duplicate rows, write finaldata.csv')
    .option('--input <dir>', 'read this folder instead of input_folder_path')
    .action(
      bind<{ input?: string }>(async (o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { ingest } = await import('../../ops/ingest.js');
        const r = await ingest({ config, inputFolder: o.input });
        const human = [
          ...table(
            ['file', 'rows', 'bytes'],
            r.files.map((f) => [f.name, f.rows, f.size]),
          ),
          '',
          `${c.bold(String(r.rows_read))} rows read, ${r.duplicates_dropped} duplicates dropped, ` +
            `${c.bold(String(r.rows_written))} rows written to ${r.output} in ${fmtSeconds(r.seconds)}`,
        ];
        const withMissing = r.columns.filter((col) => col.missing > 0);
        if (withMissing.length) {
          human.push(`missing values: ${withMissing.map((col) => `${col.name} ${col.missing}`).join(', ')}`);
        }
        const skipped = skippedNote(r.skipped);
        if (skipped) human.push(skipped);
        human.push('', ...rolesTable(r.roles));
        if (flags.verbose) {
          human.push(`columns: ${r.columns.map((col) => `${col.name} (${col.kind}, mean ${fmtNum(col.mean)})`).join(', ')}`);
          if (r.ignored.length) human.push(`ignored (hidden or not data): ${r.ignored.map((n) => JSON.stringify(n)).join(', ')}`);
        }
        return { json: r, human };
      }),
    );
};
