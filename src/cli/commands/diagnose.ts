import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';
import { fmtNum, rolesTable, table } from '../output.js';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('expected an integer from 1 to 100');
  return n;
};

export const register: Register = (program, bind) => {
  program
    .command('diagnose')
    .description('predictions, summary statistics, missing data, timings, dependency status, stability; writes diagnostics.json')
    .option('--time', 're-run ingest and train on a scratch copy and time them')
    .option('--repeat <n>', 'runs for --time (the median is reported)', positiveInt, 3)
    .option('--impute <how>', '"mean": write finaldata_imputed.csv with missing numeric values replaced by column means')
    .action(
      bind<{ time?: boolean; repeat: number; impute?: string }>(async (o, { flags, c }) => {
        if (o.impute !== undefined && o.impute !== 'mean') throw new InvalidArgumentError('--impute supports "mean"');
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { diagnose } = await import('../../ops/diagnose.js');
        const r = await diagnose({ config, time: o.time, repeat: o.repeat, impute: o.impute as 'mean' | undefined });
        const human: string[] = [c.bold(`Column roles of ${r.data}`), ...rolesTable(r.roles), ''];
        human.push(c.bold(`Summary statistics of ${r.data} (${r.rows} rows)`));
        human.push(
          ...table(
            ['column', 'count', 'mean', 'std', 'min', '25%', 'median', '75%', 'max'],
            r.summary.map((s) => [s.column, s.count, fmtNum(s.mean), fmtNum(s.std), fmtNum(s.min), fmtNum(s.q25), fmtNum(s.median), fmtNum(s.q75), fmtNum(s.max)]),
          ),
          '',
          c.bold('Missing data'),
          ...table(['column', 'missing', 'percent'], r.missing.map((m) => [m.column, m.missing, `${m.percent.toFixed(2)}%`])),
          '',
        );
        if (r.predictions) {
          const pr = r.predictions;
          const counts = new Map<string, number>();
          if (pr.probabilities) for (const v of pr.predictions) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
          const what = pr.probabilities ? [...counts].map(([v, n]) => `${n} predicted ${v}`).join(', ') : 'regression values';
          const unseen = Object.entries(pr.unseen_levels).filter(([, n]) => n > 0);
          human.push(
            `${c.bold('Predictions')} of release ${pr.release} on ${pr.data_files.join(', ')}: ${pr.predictions.length} rows, ${what} (all in diagnostics.json)`,
            ...(unseen.length ? [`unseen categorical levels (predicted as other): ${unseen.map(([f, n]) => `${f} ${n}`).join(', ')}`] : []),
            '',
          );
        }
        const t = r.timings;
        human.push(
          `${c.bold('Timings')} (${t.source}${t.repeat ? `, median of ${t.repeat}` : ''}): ingest ${fmtNum(t.ingest_seconds, 3)} s, train ${fmtNum(t.train_seconds, 3)} s`,
          '',
          c.bold(`Dependencies (registry ${r.dependencies.registry}${r.dependencies.reachable ? '' : ` unreachable: ${r.dependencies.error}`})`),
          ...table(
            ['package', 'installed', 'wanted', 'latest', 'status'],
            r.dependencies.dependencies.map((d) => [d.name, d.installed ?? '-', d.wanted ?? '?', d.latest ?? '?', d.status]),
          ),
          '',
        );
        const s = r.stability;
        if (s.previous) {
          human.push(
            c.bold(`Stability: ingestion ${s.latest} against ${s.previous}`),
            `rows read ${s.rows_read[0]} -> ${s.rows_read[1]}, duplicates ${s.duplicates_dropped[0]} -> ${s.duplicates_dropped[1]}, written ${s.rows_written[0]} -> ${s.rows_written[1]}`,
            ...table(
              ['column', 'mean before', 'mean after', 'change (sd)', 'missing before', 'missing after', 'flag'],
              s.columns.map((m) => [
                m.column,
                fmtNum(m.mean_before),
                fmtNum(m.mean_after),
                fmtNum(m.mean_change_sd, 3),
                `${m.missing_before_pct.toFixed(2)}%`,
                `${m.missing_after_pct.toFixed(2)}%`,
                m.flagged ? c.yellow(m.flagged) : '',
              ]),
            ),
            '',
          );
        }
        if (r.imputed) {
          human.push(
            `${c.bold('Imputed')} ${r.imputed.output}: ` +
              (r.imputed.columns.length ? r.imputed.columns.map((f) => `${f.column} ${f.filled} cells = ${fmtNum(f.value)}`).join(', ') : 'nothing was missing'),
          );
        }
        human.push(...r.notes, `written ${r.output}`);
        return { json: r, human };
      }),
    );
};
