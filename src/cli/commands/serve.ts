import { ConfigError } from '../../errors.js';
import { loadConfig } from '../../store/config.js';
import type { Register } from '../command.js';
import { parsePort as port } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('serve')
    .description('REST API: POST /prediction, GET /scoring /summarystats /diagnostics /health /metrics')
    .option('--host <host>', 'address to bind (default config server.host, 127.0.0.1)')
    .option('--port <port>', 'port (default config server.port, 8000; 0 picks a free one)', port)
    .action(
      bind<{ host?: string; port?: number }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config);
        const say = (line: string) => {
          if (!flags.quiet) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
        };
        const { startServer } = await import('../../server/app.js');
        const srv = await startServer({ config, host: o.host, port: o.port, log: say }).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
            throw new ConfigError(`cannot listen on ${o.host ?? config.server.host}:${o.port ?? config.server.port} (${err.code})`, 'pick another --port or --host');
          }
          throw err;
        });
        // Signal handlers first, then the address line: whoever reads that line may stop us at once.
        const stopped = new Promise<void>((resolve) => {
          const stop = (sig: string) => {
            say(`${sig}: finishing requests in flight, then stopping`);
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            void srv.close().then(resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        say(`listening on ${srv.url} (model ${srv.live.current?.version ?? 'none yet'})`);
        // stdout carries one line with the address, for scripts and tests
        process.stdout.write(flags.json ? JSON.stringify({ url: srv.url, port: srv.port }) + '\n' : `${srv.url}\n`);
        await stopped;
        say('stopped');
        return { json: null, human: [] };
      }),
    );

  program
    .command('apicalls')
    .description('call every endpoint of a running server; write the responses to apireturns.txt')
    .option('--url <url>', 'server address (default config server.url or http://host:port)')
    .action(
      bind<{ url?: string }>(async (o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { apicalls } = await import('../../ops/apicalls.js');
        const r = await apicalls({ config, url: o.url });
        return { json: r, human: [...r.calls.map((x) => `${x.method} ${x.path} -> ${c.green(String(x.status))} (${x.ms.toFixed(1)} ms)`), `responses in ${r.output}`] };
      }),
    );
};
