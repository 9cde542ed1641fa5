import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';
import { fmtNum, fmtSeconds, table } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('train')
    .description('fit logistic regression on finaldata.csv and write trainedmodel.json')
    .action(
      bind(async (_o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { train } = await import('../../ops/train.js');
        const r = await train({ config });
        const m = r.model;
        const human = [
          ...table(
            ['feature', 'coefficient', 'mean'],
            [
              ...m.features.map((f, j) => [f, m.coefficients[j]!.toExponential(6), fmtNum(m.feature_means[j])]),
              ['(intercept)', m.intercept.toExponential(6), ''],
            ],
          ),
          '',
          `${c.bold('trained')} on ${m.training_rows} rows in ${m.iterations} Newton iterations ` +
            `(max |gradient| ${m.gradient_max_norm.toExponential(2)}), ${fmtSeconds(r.seconds)} -> ${r.output}`,
        ];
        if (r.unlabelledRows) human.push(`${r.unlabelledRows} rows without a label in "${m.target}" were left out`);
        return { json: r, human };
      }),
    );
};
