import { InvalidArgumentError } from 'commander';
import type { EvaluationRole } from '../../store/records.js';
import { sinceFlag } from '../since.js';
import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';
import { fmtNum, fmtSeconds, table } from '../output.js';

const METRIC_LABEL: Record<string, string> = {
  f1: 'F1', roc_auc: 'ROC AUC', log_loss: 'log loss', r2: 'R²', sse: 'SSE', rmse: 'RMSE', mae: 'MAE', mape: 'MAPE',
};

export const register: Register = (program, bind) => {
  program
    .command('score')
    .description('score a model on the test data; write latestscore.txt and append to the score history')
    .option('--model <which>', '"trained" (output_model_path), "champion", an alias, a version (v0003), or a model file path', 'trained')
    .option('--role <role>', 'what the data is: test (default for test_data_path), new-data, holdout, adhoc (default for --data), or live (labelled live traffic, per model version)', (v: string) => {
      if (!['test', 'new-data', 'holdout', 'adhoc', 'live'].includes(v)) throw new InvalidArgumentError('expected test, new-data, holdout, adhoc or live');
      return v as EvaluationRole;
    })
    .option('--since <when>', 'with --role live: predictions since 24h, 7d, 30m or an ISO date')
    .option('--data <dir>', 'score on this file or folder instead of test_data_path (an ad-hoc evaluation: recorded, changes nothing else)')
    .action(
      bind<{ model: string; data?: string; role?: EvaluationRole; since?: string }>(async (o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        if (o.role === 'live') {
          const { scoreLiveTraffic } = await import('../../ops/live.js');
          const scores = await scoreLiveTraffic({ config, since: sinceFlag(o.since) });
          const human = scores.length
            ? table(['version', 'labelled', 'F1', 'accuracy', 'median label delay s', 'recorded'], scores.map((x) => [x.version, x.rows, fmtNum(x.metrics.f1), fmtNum(x.metrics.accuracy), Math.round(x.label_delay_s.median), x.recorded ? 'yes' : 'no']))
            : ['no labelled live traffic yet (POST /feedback or `mlops feedback --file`)'];
          return { json: scores, human };
        }
        const { score } = await import('../../ops/score.js');
        const r = await score({ config, model: o.model, dataFolder: o.data, role: o.role });
        const m = r.metrics;
        const human = [
          ...table(
            ['metric', 'value'],
            Object.entries(m).map(([k, v]) => [METRIC_LABEL[k] ?? k, fmtNum(v)]),
          ),
          '',
          `${c.bold('scored')} the ${o.model} model${r.version !== null && !/^v?\d+$/.test(o.model) ? ` (v${String(r.version).padStart(4, '0')})` : ''} on ${r.rows} rows (${r.role}${r.role === 'adhoc' ? ': recorded, changes nothing else' : ''}) in ${fmtSeconds(r.seconds)}` +
            (r.latestScore ? ` -> ${r.latestScore}` : ''),
        ];
        return { json: r, human };
      }),
    );

  program
    .command('predict')
    .description('predictions and probabilities for a CSV file (CSV on stdout, or JSON with --json)')
    .requiredOption('--input <file>', 'CSV file with the model feature columns')
    .option('--model <which>', '"production" (default), "trained", or a model file path', 'production')
    .action(
      bind<{ input: string; model: string }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config);
        const { predict } = await import('../../ops/predict.js');
        const r = await predict({ config, input: o.input, model: o.model });
        const ids = Object.keys(r.ids);
        const cell = (v: string | number | null) => (v === null ? '' : typeof v === 'string' && /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
        const human = [
          ['row', ...ids, 'prediction', ...(r.probabilities ? ['probability'] : [])].map(cell).join(','),
          ...r.predictions.map((p, i) => [i + 1, ...ids.map((c) => r.ids[c]![i]!), p, ...(r.probabilities ? [r.probabilities[i]!] : [])].map(cell).join(',')),
        ];
        return { json: r, human };
      }),
    );
};
