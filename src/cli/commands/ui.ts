import { ConfigError } from '../../errors.js';
import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';
import { parsePort as port } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('ui')
    .description('web app: overview, models (compare, promote, roll back), data drift, runs')
    .option('--host <host>', 'address to bind (default 127.0.0.1; any other needs MLOPS_UI_TOKEN)')
    .option('--port <port>', 'port (default 8501; 0 picks a free one)', port)
    .action(
      bind<{ host?: string; port?: number }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const say = (line: string) => {
          if (!flags.quiet) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
        };
        const { startUi, DEFAULT_UI_PORT } = await import('../../ui/server.js');
        const token = process.env.MLOPS_UI_TOKEN || undefined;
        const ui = await startUi({ config, host: o.host, port: o.port, token, log: say }).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
            throw new ConfigError(`cannot listen on ${o.host ?? '127.0.0.1'}:${o.port ?? DEFAULT_UI_PORT} (${err.code})`, 'pick another --port or --host');
          }
          throw err;
        });
        const stopped = new Promise<void>((resolve) => {
          const stop = (sig: string) => {
            say(`${sig}: stopping`);
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            void ui.close().then(resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        say(`mlops ui on ${ui.url}${token ? ' (token required: open the /?token=... link once)' : ''}`);
        // stdout carries one line with the address, for scripts and tests (never the token)
        process.stdout.write(flags.json ? JSON.stringify({ url: ui.url, port: ui.port }) + '\n' : `${ui.url}\n`);
        await stopped;
        return { json: null, human: [] };
      }),
    );
};
