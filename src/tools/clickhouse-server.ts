/**
 * Scratch ClickHouse servers for the engine tests and the bench: Debian's clickhouse-server
 * (18.16) started on free loopback ports with its own config in a temp folder (no root, no
 * service setup), waited for until /ping answers, stopped after. `startTwoShards` starts two
 * servers that both know a cluster `mlops_two_shards` of one shard each (remote_servers on their
 * TCP ports), for tables of the Distributed engine. Never used by the verbs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = [process.env.MLOPS_CLICKHOUSE_SERVER, '/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server'];

/** The clickhouse-server binary, or null when it is not installed. */
export function clickHouseBinary(): string | null {
  for (const c of CANDIDATES) if (c && existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v clickhouse-server'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}

export interface TestServer {
  url: string;
  httpPort: number;
  tcpPort: number;
  dir: string;
  proc: ChildProcess;
  /** Kill the process at once (SIGKILL), as a crash would. */
  kill(): void;
  /** Start the server again on its ports and data (after kill()); resolves once /ping answers. */
  restart(): Promise<void>;
  /** Stop the process and remove its folder. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released; the race with other processes is accepted). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const xml = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');

function writeConfig(dir: string, httpPort: number, tcpPort: number, remoteServers: string, maxMemoryBytes: number): string {
  const config = join(dir, 'config.xml');
  const users = join(dir, 'users.xml');
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(
    config,
    `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${xml(join(dir, 'server.log'))}</log>
    <errorlog>${xml(join(dir, 'server.err.log'))}</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${xml(join(dir, 'data'))}/</path>
  <tmp_path>${xml(join(dir, 'tmp'))}/</tmp_path>
  <user_files_path>${xml(join(dir, 'user_files'))}/</user_files_path>
  <format_schema_path>${xml(join(dir, 'format_schemas'))}/</format_schema_path>
  <users_config>${xml(users)}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
  <remote_servers>${remoteServers}</remote_servers>
</yandex>
`,
  );
  writeFileSync(
    users,
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>${maxMemoryBytes}</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
  );
  return config;
}

async function waitForPing(url: string, proc: ChildProcess, dir: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null) break;
    const ok = await fetch(`${url}/ping`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = [join(dir, 'server.err.log'), join(dir, 'stderr.log')].filter(existsSync).map((f) => readFileSync(f, 'utf8').slice(-2000)).join('\n');
  proc.kill('SIGKILL');
  throw new Error(`clickhouse-server on ${url} did not answer /ping (exit ${proc.exitCode}):\n${log}`);
}

/** A server process on a config; its stderr kept in the folder when it exits. */
function spawnServer(bin: string, dir: string, config: string): ChildProcess {
  const proc = spawn(bin, [`--config-file=${config}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const errLog: Buffer[] = [];
  proc.stderr?.on('data', (b: Buffer) => errLog.push(b));
  proc.once('exit', () => {
    if (existsSync(dir)) writeFileSync(join(dir, 'stderr.log'), Buffer.concat(errLog));
  });
  return proc;
}

async function launch(httpPort: number, tcpPort: number, remoteServers = '', maxMemoryBytes = 2e9): Promise<TestServer> {
  const bin = clickHouseBinary();
  if (!bin) throw new Error('clickhouse-server is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'mlops-ch-'));
  const config = writeConfig(dir, httpPort, tcpPort, remoteServers, maxMemoryBytes);
  const url = `http://127.0.0.1:${httpPort}`;
  let proc = spawnServer(bin, dir, config);
  await waitForPing(url, proc, dir);
  const running = () => proc.exitCode === null && proc.signalCode === null;
  // a test run that is aborted must not leave servers behind
  const killAtExit = () => {
    if (running()) proc.kill('SIGKILL');
  };
  process.once('exit', killAtExit);
  const exited = () => new Promise<void>((resolve) => (!running() ? resolve() : proc.once('exit', () => resolve())));
  const server: TestServer = {
    url,
    httpPort,
    tcpPort,
    dir,
    proc,
    kill() {
      if (running()) proc.kill('SIGKILL');
    },
    async restart() {
      if (running()) throw new Error(`clickhouse-server on ${url} is still running`);
      // the ports may linger for a moment after the kill
      for (let attempt = 0; ; attempt++) {
        proc = spawnServer(bin, dir, config);
        server.proc = proc;
        try {
          await waitForPing(url, proc, dir, 15_000);
          return;
        } catch (err) {
          if (attempt >= 3) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    async stop() {
      process.off('exit', killAtExit);
      if (running()) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited();
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** One server on free loopback ports; a query may use up to `maxMemoryBytes` (default 2 GB). */
export async function startClickHouse(opts: { maxMemoryBytes?: number } = {}): Promise<TestServer> {
  return launch(await freePort(), await freePort(), '', opts.maxMemoryBytes);
}

export const CLUSTER = 'mlops_two_shards';

/** Two servers, each one shard of the cluster CLUSTER (both configs name both shards). */
export async function startTwoShards(): Promise<[TestServer, TestServer]> {
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  const shard = (tcp: number) => `<shard><replica><host>127.0.0.1</host><port>${tcp}</port></replica></shard>`;
  const remote = `<${CLUSTER}>${shard(ports[1]!)}${shard(ports[3]!)}</${CLUSTER}>`;
  const a = await launch(ports[0]!, ports[1]!, remote);
  try {
    const b = await launch(ports[2]!, ports[3]!, remote);
    return [a, b];
  } catch (err) {
    await a.stop();
    throw err;
  }
}
