/**
 * The ClickHouse engine against real servers from Debian's clickhouse-server package (18.16):
 * one node, and a Distributed table over two shards served by two processes. Every result is
 * compared with the in-Node / DuckDB path on the same data.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCsvFiles } from '../../src/data/csvfiles.js';
import { imputeInPlace, nanMean, readDataset } from '../../src/data/dataset.js';
import { withDb } from '../../src/data/duck.js';
import { connectClickHouse, type ClickHouse } from '../../src/engine/clickhouse/client.js';
import { ingestCsvToClickHouse } from '../../src/engine/clickhouse/ingest.js';
import { fitLinearOnEngine, fitLogisticOnEngine } from '../../src/engine/clickhouse/solver.js';
import { fitLogistic } from '../../src/model/logreg.js';
import { ingest } from '../../src/ops/ingest.js';
import { loadConfig } from '../../src/store/config.js';
import { generate } from '../../src/tools/gendata.js';
import { CLASSIC, project } from '../helpers.js';
import { clickHouseAvailable, startClickHouse, type TestServer } from '../helpers/clickhouse.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
const TARGET = 'exited';

/** |a - b| <= tol * max(|a|, |b|), elementwise, with a message naming the entry. */
function expectRelClose(actual: readonly number[], expected: readonly number[], tol: number, what: string): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, j) => {
    const e = expected[j]!;
    const rel = Math.abs(a - e) / Math.max(Math.abs(a), Math.abs(e), Number.MIN_VALUE);
    expect(rel, `${what}[${j}]: ${a} vs ${e}`).toBeLessThanOrEqual(tol);
  });
}

/** The DuckDB path: `mlops ingest` on the folder, then train's read, imputation and fit. */
async function nodeFit(folder: string, C = 1) {
  const dir = project({ classic: false });
  const config = await loadConfig(join(dir, 'config.json'), { createOutputs: true });
  await ingest({ config, inputFolder: folder });
  const finalData = join(config.output_folder_path, 'finaldata.csv');
  const { csv } = await listCsvFiles(config.output_folder_path);
  const ds = await readDataset(csv.filter((f) => f.path === finalData), { target: TARGET, features: FEATURES, name: 'train' });
  const means = ds.X.map(nanMean);
  imputeInPlace(ds.X, means);
  return { fit: fitLogistic(ds.X, ds.y!, { C, maxIter: 100 }), means, X: ds.X, y: ds.y!, finalData };
}

const run = clickHouseAvailable('test/engine/clickhouse.test.ts') ? describe : describe.skip;

run('ClickHouse engine (one server)', () => {
  let server: TestServer;
  let ch: ClickHouse;
  const scratch = mkdtempSync(join(tmpdir(), 'mlops-chdata-'));
  beforeAll(async () => {
    server = await startClickHouse();
    ch = connectClickHouse({ url: server.url });
  });
  afterAll(async () => {
    await ch?.close();
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('ingests the classic data with duplicates dropped as mlops ingest does', async () => {
    const { csv } = await listCsvFiles(join(CLASSIC, 'practicedata'));
    const res = await withDb((db) => ingestCsvToClickHouse(ch, db, csv, { table: 'classic', numeric: [TARGET], labels: TARGET }));
    const ref = await nodeFit(join(CLASSIC, 'practicedata'));
    const lines = readFileSync(ref.finalData, 'utf8').trim().split('\n');
    expect(res.rowsWritten).toBe(lines.length - 1);
    const rows = await ch.query<Record<string, unknown>>(`SELECT corporation, ${FEATURES.join(', ')}, exited FROM ${res.from} ORDER BY _mlops_row`, 'test');
    expect(rows.map((r) => Object.values(r).join(','))).toEqual(lines.slice(1));
  });

  it('fits logistic regression on the classic data: fitLogistic to 1e-8 relative', async () => {
    const ref = await nodeFit(join(CLASSIC, 'practicedata'));
    const fit = await fitLogisticOnEngine(ch, { from: '`default`.`classic`', target: TARGET, features: FEATURES }, { C: 1, maxIter: 100 });
    expect(fit.converged).toBe(true);
    expectRelClose([fit.intercept, ...fit.coefficients], [ref.fit.intercept, ...ref.fit.coefficients], 1e-8, 'beta');
    expectRelClose(fit.featureMeans, ref.means, 1e-14, 'means');
    console.log(fit.iterations, ref.fit.iterations, fit.queries, fit.intercept - ref.fit.intercept);
  });

  it('fits logistic regression on 100k generated rows with missing values and duplicates', async () => {
    const folder = join(scratch, 'gen');
    generate({ rows: 100_000, files: 2, out: folder, seed: 11, missing: 0.02, dup: 0.05 });
    const { csv } = await listCsvFiles(folder);
    let t = Date.now();
    const res = await withDb((db) => ingestCsvToClickHouse(ch, db, csv, { table: 'gen', numeric: [TARGET], labels: TARGET }));
    console.log('ingest', Date.now() - t);
    const ref = await nodeFit(folder, 0.5);
    t = Date.now();
    const fit = await fitLogisticOnEngine(ch, { from: res.from, target: TARGET, features: FEATURES }, { C: 0.5, maxIter: 100 });
    console.log('fit', Date.now() - t, fit.iterations, ref.fit.iterations);
    expect(fit.rows).toBe(ref.y.length);
    expectRelClose([fit.intercept, ...fit.coefficients], [ref.fit.intercept, ...ref.fit.coefficients], 1e-8, 'beta');
    void fitLinearOnEngine;
  });
});
