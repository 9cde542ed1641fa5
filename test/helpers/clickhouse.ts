/**
 * Real ClickHouse servers for the engine tests (src/tools/clickhouse-server.ts). Without the
 * binary the tests skip with a loud warning; `.ci/run` installs the package.
 */
import { clickHouseBinary } from '../../src/tools/clickhouse-server.js';

export { clickHouseBinary, CLUSTER, freePort, startClickHouse, startTwoShards, type TestServer } from '../../src/tools/clickhouse-server.js';

/** Whether the tests can run; warns loudly (once per call site) when they cannot. */
export function clickHouseAvailable(suite: string): boolean {
  if (clickHouseBinary()) return true;
  console.warn(
    `\n!!! SKIPPED ${suite}: clickhouse-server is not installed.\n` +
      '!!! Install it with: apt-get update && apt-get install -y clickhouse-server clickhouse-client\n' +
      '!!! (or set MLOPS_CLICKHOUSE_SERVER to the binary); .ci/run does this.\n',
  );
  return false;
}

