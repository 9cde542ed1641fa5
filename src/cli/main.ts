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

/**
 * The subcommand modules in the order `mlops --help` lists them, with the top-level commands
 * each one registers. A command line naming one of those loads only its module (the others'
 * imports are most of a short command's start-up); anything else (help, a typo to suggest a
 * name for) loads them all.
 */
export const COMMAND_MODULES: { names: readonly string[]; load: () => Promise<{ register: Register }> }[] = [
  { names: ['ingest'], load: () => import('./commands/ingest.js') },
  { names: ['train'], load: () => import('./commands/train.js') },
  { names: ['score', 'predict'], load: () => import('./commands/score.js') },
  { names: ['deploy'], load: () => import('./commands/deploy.js') },
  { names: ['models', 'promote'], load: () => import('./commands/models.js') },
  { names: ['export'], load: () => import('./commands/export.js') },
  { names: ['diagnose'], load: () => import('./commands/diagnose.js') },
  { names: ['drift'], load: () => import('./commands/drift.js') },
  { names: ['report'], load: () => import('./commands/report.js') },
  { names: ['run', 'runs'], load: () => import('./commands/run.js') },
  { names: ['schedule'], load: () => import('./commands/schedule.js') },
  { names: ['serve', 'apicalls'], load: () => import('./commands/serve.js') },
  { names: ['feedback', 'experiment', 'estimate'], load: () => import('./commands/live.js') },
  { names: ['ui'], load: () => import('./commands/ui.js') },
];

/** Global options that take a value (the word after them is not the command). */
const VALUE_OPTIONS = new Set(['--config']);

/** The modules a command line needs: the one registering its command, or all of them. */
export function modulesFor(args: readonly string[]): typeof COMMAND_MODULES {
  let name: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    name = a;
    break;
  }
  const one = name === null ? undefined : COMMAND_MODULES.find((m) => m.names.includes(name));
  return one ? [one] : COMMAND_MODULES;
}

/** Whether --json comes before any `--` (commander failed before the flags were parsed). */
const wantsJson = (args: readonly string[]) => {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
};

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
  for (const mod of await Promise.all(modulesFor(argv.slice(2)).map((m) => m.load()))) mod.register(program, bind);

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help asked for (--help, `mlops help`), or the version: fine. Help shown because a command
      // was missing (`mlops`, `mlops experiment`) is a usage error (commander's exitCode 1).
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0)) {
        return EXIT_CODES.ok;
      }
      // commander printed its one line (or the help) on stderr; --json also gets it as the error object
      if (wantsJson(argv.slice(2))) {
        const message = err.code === 'commander.help' ? 'a command is missing' : err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
        process.stdout.write(JSON.stringify({ error: { type: 'UsageError', message, hint: 'run with --help for usage', exit_code: EXIT_CODES.usage } }) + '\n');
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
