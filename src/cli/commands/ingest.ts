import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';
import { skippedNote } from '../../data/csvfiles.js';
import { fmtNum, fmtSeconds, rolesTable, table } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('ingest')
    .description('merge every data file (.csv, .csv.gz, .parquet) of input_folder_path, drop duplicate rows, write finaldata.csv')
    .option('--input <dir>', 'read this folder instead of input_folder_path')
    .option('--from-feedback', 'first write the labelled live traffic (logged inputs and their feedback labels) as a new input file')
    .action(
      bind<{ input?: string; fromFeedback?: boolean }>(async (o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        let fed: string | null = null;
        let r;
        if (o.fromFeedback) {
          const { ingestFromFeedback } = await import('../../ops/live.js');
          const f = await ingestFromFeedback({ config });
          fed = f.file ? `${f.rows} labelled live requests written to ${f.file}` : 'no labelled live traffic to add';
          r = f.ingest;
        } else {
          const { ingest } = await import('../../ops/ingest.js');
          r = await ingest({ config, inputFolder: o.input });
        }
        const human = [
          ...(fed ? [fed] : []),
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
