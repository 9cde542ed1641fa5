import { loadConfig } from '../../store/config.js';
import { MLOPS_BIN } from '../../toolkit.js';
import type { Register } from '../command.js';

export const register: Register = (program, bind) => {
  program
    .command('schedule')
    .description('run the loop on a cron schedule (default: config "schedule", else every 10 minutes)')
    .option('--cron <expr>', 'cron expression, e.g. "*/10 * * * *" (six fields: seconds first)')
    .option('--once', 'run the next due run, then exit')
    .option('--print-crontab', 'print a ready crontab line instead of running')
    .action(
      bind<{ cron?: string; once?: boolean; printCrontab?: boolean }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const bin = MLOPS_BIN;
        const { crontabLine, DEFAULT_SCHEDULE, schedule } = await import('../../scheduler/schedule.js');
        if (o.printCrontab) {
          const line = crontabLine(config, bin, o.cron ?? config.schedule ?? DEFAULT_SCHEDULE);
          return { json: { crontab: line }, human: [line] };
        }
        const ac = new AbortController();
        const onSignal = () => ac.abort();
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const r = await schedule({
            config,
            cron: o.cron,
            once: o.once,
            bin,
            signal: ac.signal,
            // Live log lines; with --json only the final summary is printed.
            onEvent: (e) => {
              if (!flags.json && !flags.quiet) process.stdout.write(`${e.time} ${e.event}${e.decision ? ` ${e.decision}` : ''}${e.seconds !== undefined ? ` (${e.seconds.toFixed(2)} s)` : ''}${e.detail ? `: ${e.detail}` : ''}\n`);
            },
          });
          return { json: r, human: [] };
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );
};
