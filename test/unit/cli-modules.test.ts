import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, modulesFor } from '../../src/cli/main.js';

describe('the CLI loads only the module of the command it runs', () => {
  it('each module registers exactly the commands the table names for it', async () => {
    for (const m of COMMAND_MODULES) {
      const program = new Command('mlops');
      (await m.load()).register(program, () => async () => undefined);
      expect(program.commands.map((c) => c.name())).toEqual(m.names);
    }
  });

  it('finds the command after global options, and loads every module otherwise', () => {
    const names = (args: string[]) => modulesFor(args).flatMap((m) => m.names);
    expect(names(['deploy'])).toEqual(['deploy']);
    expect(names(['--config', 'deploy', 'train', '--json'])).toEqual(['train']);
    expect(names(['-q', '--json', 'runs'])).toEqual(['run', 'runs']);
    const all = COMMAND_MODULES.flatMap((m) => m.names);
    for (const args of [[], ['--help'], ['help', 'deploy'], ['deplo'], ['--', 'deploy']]) expect(names(args)).toEqual(all);
  });
});
