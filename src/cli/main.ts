/**
 * The CLI entry: assembles the subcommands, prints outcomes, and is the one place that maps
 * errors to exit codes (see EXIT_CODES in src/errors.ts and the README).
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { onProgress, phase } from '../progress.js';
import { EXIT_CODES, MlopsError, exitCodeOf } from '../errors.js';
import type { Action, CommandContext, Outcome, Register } from './command.js';
import { colours, prepareColours, type GlobalFlags } from './output.js';
import { register as ingest } from './commands/ingest.js';
import { register as train } from './commands/train.js';
import { register as score } from './commands/score.js';
import { register as deploy } from './commands/deploy.js';
import { register as run } from './commands/run.js';
import { register as drift } from './commands/drift.js';
import { register as diagnose } from './commands/diagnose.js';
import { register as reportCmd } from './commands/report.js';
import { register as scheduleCmd } from './commands/schedule.js';
import { register as serveCmd } from './commands/serve.js';
import { register as modelsCmd } from './commands/models.js';
import { register as exportCmd } from './commands/export.js';
import { register as liveCmd } from './commands/live.js';
import { register as uiCmd } from './commands/ui.js';

const COMMANDS: Register[] = [ingest, train, score, deploy, modelsCmd, exportCmd, diagnose, drift, reportCmd, run, scheduleCmd, serveCmd, liveCmd, uiCmd];

const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export async function main(argv: string[]): Promise<number> {
  phase('cli: modules loaded');
  await prepareColours();
  let exitCode: number = EXIT_CODES.ok;
  let flags: GlobalFlags = { config: 'config.json', json: false, quiet: false, verbose: false };
  const program = new Command('mlops')
    .description('Keep a deployed tabular ML model healthy: ingest, train, score, deploy, monitor.')
    .version(version)
    .option('--config <path>', 'config file; folder paths resolve relative to it', 'config.json')
    .option('--json', 'print one JSON object on stdout and nothing else', false)
    .option('-q, --quiet', 'print nothing but errors', false)
    .option('-v, --verbose', 'say more (e.g. files that were ignored)', false)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const bind =
    <O>(action: Action<O>) =>
    async (...args: unknown[]) => {
      const cmd = args.at(-1) as Command;
      flags = cmd.optsWithGlobals() as GlobalFlags;
      const ctx: CommandContext = { flags, c: colours() };
      if (process.stderr.isTTY && !flags.json && !flags.quiet) {
        const dim = colours(process.stderr).dim;
        onProgress((text, seconds) => process.stderr.write(`${dim(`  ${text} (${seconds.toFixed(2)} s)`)}\n`));
      }
      const outcome: Outcome = await action(cmd.opts() as O, ctx, cmd.args);
      if (flags.json) {
        if (outcome.json !== null) process.stdout.write(JSON.stringify(outcome.json) + '\n');
      }
      else if (!flags.quiet && outcome.human.length) process.stdout.write(outcome.human.join('\n') + '\n');
      exitCode = outcome.exitCode ?? EXIT_CODES.ok;
    };
  for (const reg of COMMANDS) reg(program, bind);

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return EXIT_CODES.ok;
      }
      return EXIT_CODES.usage;
    }
    return reportError(err, flags);
  }
}

function reportError(err: unknown, flags: GlobalFlags): number {
  const code = exitCodeOf(err);
  const c = colours(process.stderr);
  if (err instanceof MlopsError) {
    process.stderr.write(`${c.red('error:')} ${err.message}${err.hint ? ` (${err.hint})` : ''}\n`);
  } else {
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`${c.red('internal error:')} ${e.message.split('\n')[0]}\n`);
    if (flags.verbose || process.env.MLOPS_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
  }
  if (flags.json) {
    const e = err as Partial<MlopsError>;
    process.stdout.write(
      JSON.stringify({ error: { type: e.name ?? 'Error', message: e.message ?? String(err), hint: e.hint ?? null, exit_code: code } }) + '\n',
    );
  }
  return code;
}
