import { InvalidArgumentError } from 'commander';
import { ConfigError, EXIT_CODES } from '../../errors.js';
import { loadConfig, type DriftTestName } from '../../store/config.js';
import type { RunRecord } from '../../ops/run.js';
import { onProgress } from '../../progress.js';
import type { Register } from '../command.js';
import { sinceFlag } from '../since.js';
import { fmtSeconds, table } from '../output.js';

const driftSource = (v: string): 'files' | 'live' => {
  if (v !== 'files' && v !== 'live') throw new InvalidArgumentError('expected files or live');
  return v;
};

const driftTest = (v: string): DriftTestName => {
  if (v !== 'raw' && v !== 'parametric' && v !== 'nonparametric') throw new InvalidArgumentError('expected raw, parametric or nonparametric');
  return v;
};

/**
 * SIGINT/SIGTERM during a run: the current step finishes (every step is atomic), the rest is
 * abandoned, the lock is released. A second signal exits at once; process.exit still releases
 * the lock (the lock's own exit hook, src/store/lock.ts).
 */
function interruptible(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write(`mlops: ${sig}: finishing the current step, then stopping (again to stop at once)\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export const register: Register = (program, bind) => {
  program
    .command('run')
    .description('the loop: new data? -> ingest -> drift? -> retrain -> score -> gate -> deploy -> diagnose -> report')
    .option('--force', 'deploy the retrained model even when it scores worse than production')
    .option('--drift-test <name>', 'model drift test: raw (default), parametric or nonparametric', driftTest)
    .option('--drift-from <source>', 'what the drift step tests: files (the new input files) or live (the logged traffic); default config drift.source', driftSource)
    .option('--since <when>', 'with --drift-from live: the traffic logged since 24h, 7d, 30m or an ISO date; default config drift.since')
    .action(
      bind<{ force?: boolean; driftTest?: DriftTestName; driftFrom?: 'files' | 'live'; since?: string }>(async (o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        if (o.since !== undefined && (o.driftFrom ?? config.drift.source) !== 'live') {
          throw new ConfigError('--since applies to the live drift check', 'add --drift-from live, or set "drift": {"source": "live"} in config.json');
        }
        const since = sinceFlag(o.since);
        const intr = interruptible();
        let r: RunRecord;
        try {
          const { run } = await import('../../ops/run.js');
          // progress on stderr, only for a person watching a terminal
          const progress = process.stderr.isTTY && !flags.json && !flags.quiet;
          onProgress(null); // the steps report themselves below
          r = await run({
            config,
            force: o.force,
            driftTest: o.driftTest,
            driftFrom: o.driftFrom,
            since,
            signal: intr.signal,
            onStep: progress ? (s) => process.stderr.write(c.dim(`  ${s.step} ${s.outcome} (${s.seconds.toFixed(2)} s)\n`)) : undefined,
          });
        } finally {
          intr.dispose();
        }
        const human =
          r.decision === 'no new data'
            ? [`${c.bold('no new data')} (${r.reason})`]
            : [
                ...table(['step', 'outcome', 'seconds', 'detail'], r.steps.map((s) => [s.step, s.outcome, s.seconds, s.detail])),
                '',
                `${c.bold(r.decision)}: ${r.reason} (${fmtSeconds(r.seconds)})`,
              ];
        return { json: r, human, exitCode: r.decision === 'drift: not deployed' ? EXIT_CODES.drift : EXIT_CODES.ok };
      }),
    );

  program
    .command('runs')
    .description('recent runs of the loop, from runs.jsonl')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .action(
      bind<{ limit: number }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config);
        const { readRuns } = await import('../../ops/run.js');
        const runs = await readRuns(config, o.limit || 20);
        return {
          json: { runs },
          human: runs.length
            ? table(
                ['started', 'seconds', 'decision', 'steps', 'release', 'reason'],
                runs.map((r) => [r.started, r.seconds, r.decision, r.steps.map((s) => (s.outcome === 'ok' ? s.step : `${s.step}!`)).join(' '), r.release ?? '', r.reason]),
              )
            : ['no runs recorded yet'],
        };
      }),
    );
};
