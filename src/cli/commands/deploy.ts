import { loadConfig } from '../../store/config.js';
import { releaseName } from '../../store/releases.js';
import type { Register } from '../command.js';
import { fmtNum } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('deploy')
    .description('copy trainedmodel.json, latestscore.txt and ingestedfiles.txt to production as one release')
    .option('--rollback', 'make the previous release current again')
    .action(
      bind<{ rollback?: boolean }>(async (o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { deploy, rollback } = await import('../../ops/deploy.js');
        if (o.rollback) {
          const r = await rollback({ config });
          return { json: r, human: [`${c.bold('rolled back')} ${releaseName(r.from)} -> ${releaseName(r.to)}`] };
        }
        const r = await deploy({ config });
        return {
          json: r,
          human: [
            `${c.bold('deployed')} ${r.manifest.name} (F1 ${fmtNum(r.score)}) to ${config.prod_deployment_path}` +
              (r.previous ? `; previous release ${releaseName(r.previous)} kept` : ''),
          ],
        };
      }),
    );
};
