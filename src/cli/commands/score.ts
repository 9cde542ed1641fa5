import { InvalidArgumentError } from 'commander';
import type { EvaluationRole } from '../../store/records.js';
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
    .option('--role <role>', 'what the data is: test (default for test_data_path), new-data, holdout or adhoc (default for --data)', (v: string) => {
      if (!['test', 'new-data', 'holdout', 'adhoc'].includes(v)) throw new InvalidArgumentError('expected test, new-data, holdout or adhoc');
      return v as EvaluationRole;
    })
    .option('--data <dir>', 'score on this file or folder instead of test_data_path (an ad-hoc evaluation: recorded, changes nothing else)')
    .action(
      bind<{ model: string; data?: string; role?: EvaluationRole }>(async (o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
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
