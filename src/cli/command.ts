/** What every subcommand returns to the entry: data for --json, lines for humans, an exit code. */
import type { Command } from 'commander';
import type { ChalkInstance } from 'chalk';
import type { GlobalFlags } from './output.js';

export interface Outcome {
  json: unknown;
  human: string[];
  /** Exit code when not 0 without an error (e.g. 4 for drift). */
  exitCode?: number;
}

export interface CommandContext {
  flags: GlobalFlags;
  c: ChalkInstance;
}

export type Action<O> = (opts: O, ctx: CommandContext, args: string[]) => Promise<Outcome>;

/** Registers subcommands; `run` receives the action's outcome so main can print it. */
export type Register = (program: Command, bind: <O>(action: Action<O>) => (...args: unknown[]) => Promise<void>) => void;
