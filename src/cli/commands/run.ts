import { loadConfig } from '../../store/config.js';
import { run } from '../../ops/run.js';
import type { Register } from '../command.js';
import { fmtSeconds, table } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('run')
    .description('the whole loop: ingest -> train -> score -> deploy')
    .action(
      bind(async (_o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const r = await run({ config });
        return {
          json: r,
          human: [
            ...table(
              ['step', 'outcome', 'seconds', 'detail'],
              r.steps.map((s) => [s.step, s.outcome, s.seconds, s.detail]),
            ),
            '',
            `${c.bold(r.decision)} in ${fmtSeconds(r.seconds)}`,
          ],
        };
      }),
    );
};
