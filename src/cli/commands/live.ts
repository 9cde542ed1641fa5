import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';
import { fmtNum, table } from '../output.js';

const fraction = (v: string) => {
  const n = Number(v);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('expected a number in (0, 1]');
  return n;
};
const positive = (v: string) => {
  const n = Number(v);
  if (!(n > 0 && Number.isFinite(n))) throw new InvalidArgumentError('expected a positive number');
  return n;
};

/** The live model's verbs: feedback labels, experiments, and performance estimation. */
export const register: Register = (program, bind) => {
  program
    .command('feedback')
    .description('labels for logged predictions: a CSV file with request_id,label')
    .requiredOption('--file <csv>', 'request_id,label per line')
    .action(
      bind<{ file: string }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { feedbackFile } = await import('../../ops/live.js');
        const r = await feedbackFile({ config, file: o.file });
        return { json: r, human: [`${r.accepted} labels stored (${r.replaced} replaced earlier ones), ${r.unknown} with an unknown request id`] };
      }),
    );

  const exp = program.command('experiment').description('a challenger against the champion on live traffic: start, status, stop');
  exp
    .command('start')
    .description('shadow: both models score every request, the champion answers; canary: a share of traffic is answered by the challenger')
    .requiredOption('--challenger <version>', 'a registered version (v0003), or an alias')
    .requiredOption('--mode <mode>', 'shadow or canary', (v: string) => {
      if (v !== 'shadow' && v !== 'canary') throw new InvalidArgumentError('expected shadow or canary');
      return v;
    })
    .option('--traffic <share>', 'canary: the share the challenger answers (default 0.1)', fraction)
    .option('--sticky-key <column>', 'canary: keep a caller on one arm by a hash of this request column')
    .option('--metric <loss>', 'shadow: the per-request loss compared, brier (default) or log_loss', (v: string) => {
      if (v !== 'brier' && v !== 'log_loss') throw new InvalidArgumentError('expected brier or log_loss');
      return v;
    })
    .option('--alpha <a>', 'significance level (default 0.05)', positive)
    .option('--tau <t>', 'mixing parameter of the always-valid test', positive)
    .action(
      bind<{ challenger: string; mode: 'shadow' | 'canary'; traffic?: number; stickyKey?: string; metric?: 'brier' | 'log_loss'; alpha?: number; tau?: number }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { experimentStart } = await import('../../ops/live.js');
        const e = await experimentStart({ config, challenger: o.challenger, mode: o.mode, traffic: o.traffic, stickyKey: o.stickyKey ?? null, metric: o.metric, alpha: o.alpha, tau: o.tau ?? null });
        return { json: e, human: [`experiment ${e.id}: ${e.challenger} against ${e.champion ?? 'the champion'} (${e.mode}${e.mode === 'canary' ? `, ${e.traffic} of traffic` : ''})`] };
      }),
    );
  exp
    .command('status')
    .description('the running (or last) experiment and its verdict now')
    .action(
      bind(async (_o, { flags }) => {
        const config = await loadConfig(flags.config);
        const { experimentAuto } = await import('../../ops/live.js');
        const auto = await experimentAuto({ config });
        const r = auto.status;
        if (!r) return { json: null, human: ['no experiment has been started'] };
        const v = r.verdict;
        return {
          json: { ...r, auto: auto.action, auto_reason: auto.reason },
          human: [
            `experiment ${r.experiment.id} (${r.experiment.status}): ${r.experiment.challenger} vs ${r.experiment.champion ?? 'champion'}, ${r.experiment.mode}`,
            `verdict: ${v.decision} after ${v.n} observations (difference ${fmtNum(v.difference)}, interval [${v.interval.map((x) => fmtNum(x)).join(', ')}], always-valid p ${fmtNum(v.p_value)})`,
            ...(auto.action ? [`promotion.auto: ${auto.action}${auto.reason ? ` (${auto.reason})` : ''}`] : []),
          ],
        };
      }),
    );
  exp
    .command('stop')
    .description('stop the running experiment and record its verdict')
    .option('--reason <text>', 'why (kept in the state file)')
    .action(
      bind<{ reason?: string }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config);
        const { experimentStop } = await import('../../ops/live.js');
        const r = await experimentStop({ config, reason: o.reason });
        return { json: r, human: [`experiment ${r.experiment.id} stopped: ${r.verdict.decision}`] };
      }),
    );

  program
    .command('estimate')
    .description("the model's performance on data without labels (confidence-based estimation, calibrated on the test set), per chunk with alert bands")
    .requiredOption('--data <path>', 'a CSV file or folder')
    .option('--model <which>', '"champion" (default), "trained", an alias, a version, or a model file', 'champion')
    .option('--chunk-size <n>', 'rows per chunk (default a tenth of the test set)', positive)
    .action(
      bind<{ data: string; model: string; chunkSize?: number }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config);
        const { estimate } = await import('../../ops/estimate.js');
        const r = await estimate({ config, data: o.data, model: o.model, chunkSize: o.chunkSize });
        const rows = r.chunks.map((c, i) => [i + 1, `${c.start}-${c.end}`, fmtNum(c.estimated.f1), c.realized ? fmtNum(c.realized.f1) : '', fmtNum(c.estimated.accuracy), c.alerts.join(',') || 'none']);
        return { json: r, human: table(['chunk', 'rows', 'est. F1', 'realized F1', 'est. accuracy', 'alerts'], rows) };
      }),
    );
};
