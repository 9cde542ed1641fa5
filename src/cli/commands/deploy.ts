import { loadConfig } from '../../store/config.js';
import { versionName } from '../../store/names.js';
import type { Register } from '../command.js';
import { fmtNum } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('deploy')
    .description('promote the latest trained version to champion: one atomic production release')
    .option('--rollback', 'make the previous champion champion again')
    .option('--force', 'deploy even when the promotion gate fails (recorded as forced)')
    .action(
      bind<{ rollback?: boolean; force?: boolean }>(async (o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { deploy, rollback } = await import('../../ops/deploy.js');
        if (o.rollback) {
          const r = await rollback({ config });
          return {
            json: r,
            human: [`${c.bold('rolled back')} ${versionName(r.from_version)} -> ${versionName(r.to_version)} (release ${versionName(r.from)} -> ${versionName(r.to)})`],
          };
        }
        const r = await deploy({ config, force: o.force });
        if (!r.changed) {
          return { json: r, human: [`${versionName(r.model_version)} is already champion (release ${r.release}); nothing to do`] };
        }
        return {
          json: r,
          human: [
            `${c.bold('deployed')} ${versionName(r.model_version)} as champion: release ${r.manifest.name} (F1 ${fmtNum(r.score)}) in ${config.prod_deployment_path}` +
              (r.previous ? `; previous release ${versionName(r.previous)} kept` : '') +
              (r.forced ? ' (forced past the gate)' : ''),
            ...(r.gate ? [`gate: ${r.gate.summary}`] : []),
          ],
        };
      }),
    );
};
