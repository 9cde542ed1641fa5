import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';
import { fmtNum } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('report')
    .description('confusionmatrix.png and report.html of the deployed model (earlier reports kept under reports/)')
    .action(
      bind(async (_o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { report } = await import('../../ops/report.js');
        const r = await report({ config });
        return {
          json: r,
          human: [
            `${c.bold('report')} of release ${r.release} (F1 ${fmtNum(r.metrics.f1)}${r.drift ? ', drift detected' : ''})`,
            `  ${r.html}`,
            `  ${r.png}`,
            `  kept in ${r.archive}`,
          ],
        };
      }),
    );
};
