import { InvalidArgumentError } from 'commander';
import { EXIT_CODES } from '../../errors.js';
import { sinceFlag } from '../since.js';
import { loadConfig } from '../../store/config.js';
import { SCORE_TESTS, type ScoreTestName } from '../../stats/scoretests.js';
import type { Register } from '../command.js';
import { fmtNum, table } from '../output.js';

const parseTests = (v: string): ScoreTestName[] => {
  if (v === 'all') return [...SCORE_TESTS];
  const names = v.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(SCORE_TESTS as readonly string[]).includes(n)) {
      throw new InvalidArgumentError(`expected raw, parametric, nonparametric, welch or all (got "${n}")`);
    }
  }
  return names as ScoreTestName[];
};

export const register: Register = (program, bind) => {
  program
    .command('drift')
    .description('model drift (score tests on the score history) and data drift (feature distributions); exit 4 on drift')
    .option('--metric <name>', 'score history metric (default from config drift.metric, "f1")')
    .option('--test <names>', 'raw, parametric, nonparametric, welch, a comma list, or all', parseTests)
    .option('--current <path>', 'current data file or folder for data drift, or "live" for the logged live traffic (default: the ingested finaldata.csv)')
    .option('--since <when>', 'with --current live: predictions since 24h, 7d, 30m or an ISO date')
    .option('--only <part>', '"model" or "data"')
    .action(
      bind<{ metric?: string; test?: ScoreTestName[]; current?: string; only?: string; since?: string }>(async (o, { flags, c }) => {
        if (o.only && o.only !== 'model' && o.only !== 'data') {
          throw new InvalidArgumentError(`--only must be "model" or "data"`);
        }
        const config = await loadConfig(flags.config);
        const { drift } = await import('../../ops/drift.js');
        const since = sinceFlag(o.since);
        const r = await drift({ config, metric: o.metric, tests: o.test, current: o.current, since, only: o.only as 'model' | 'data' | undefined });
        const human: string[] = [];
        const mark = (v: string) => (v === 'drift' ? c.red.bold(v) : v === 'no drift' ? c.green(v) : c.yellow(v));
        if (r.model) {
          human.push(c.bold(`Model drift: ${r.model.metric} (${r.model.direction}), new score ${fmtNum(r.model.newScore)}, ${r.model.previous.length} previous`));
          human.push(
            ...table(
              ['test', 'threshold', 'verdict', 'detail'],
              r.model.tests.map((t) => [t.test, fmtNum(t.threshold), mark(t.verdict), t.detail]),
            ),
            '',
          );
        }
        if (r.data) {
          human.push(c.bold(`Data drift: ${r.data.current} against the deployed training data`));
          human.push(
            ...table(
              ['feature', 'test', 'statistic', 'p-value', 'PSI', 'W/sd', 'verdict', 'reason'],
              r.data.features.map((f) => [
                f.feature,
                f.test,
                fmtNum(f.statistic),
                f.pValue === null ? 'n/a' : f.pValue < 1e-4 ? f.pValue.toExponential(2) : f.pValue.toFixed(4),
                fmtNum(f.psi),
                fmtNum(f.wassersteinNorm),
                mark(f.verdict),
                f.reason,
              ]),
            ),
            `${r.data.drifted} of ${r.data.features.length} features drifted; dataset drift ${r.data.datasetDrift ? c.red.bold('YES') : 'no'} (threshold ${r.data.threshold})`,
            '',
          );
        }
        human.push(...r.notes, r.drift ? c.red.bold('drift detected') : c.green('no drift'));
        return { json: r, human, exitCode: r.drift ? EXIT_CODES.drift : EXIT_CODES.ok };
      }),
    );
};
