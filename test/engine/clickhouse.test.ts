/**
 * The ClickHouse engine against real servers from Debian's clickhouse-server package (18.16):
 * one node, and a Distributed table over two shards served by two processes. Every result is
 * compared with the DuckDB / in-Node path on the same data: `mlops ingest`'s de-duplication,
 * fitLogistic, a normal-equations solve, the DuckDB column summaries, featureDrift and
 * classificationMetrics.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvFilesAt, listCsvFiles } from '../../src/data/csvfiles.js';
import { withFrame } from '../../src/data/read.js';
import { withDb } from '../../src/data/duck.js';
import { loadCsvTable } from '../../src/data/table.js';
import { connectClickHouse, type ClickHouse } from '../../src/engine/clickhouse/client.js';
import { describeSourceTable, ingestCsvToClickHouse } from '../../src/engine/clickhouse/ingest.js';
import { fitLinearOnEngine, fitLogisticOnEngine } from '../../src/engine/clickhouse/solver.js';
import { chFloat, chIdent, chString, chTable } from '../../src/engine/clickhouse/sql.js';
import { describeOnEngine, featureDriftOnEngine } from '../../src/engine/clickhouse/stats.js';
import { predictionSql, regressionScoreOnEngine, scoreOnEngine } from '../../src/engine/clickhouse/score.js';
import { ConfigError, DataError, exitCodeOf } from '../../src/errors.js';
import { fitLogistic, predictProba, solveSpd } from '../../src/model/logreg.js';
import { classificationMetrics } from '../../src/model/metrics.js';
import { ingest } from '../../src/ops/ingest.js';
import { featureDrift, type DataDriftSettings } from '../../src/stats/datadrift.js';
import { loadConfig } from '../../src/store/config.js';
import { generate } from '../../src/tools/gendata.js';
import { CLASSIC, project } from '../helpers.js';
import { CLUSTER, clickHouseAvailable, freePort, startClickHouse, startTwoShards, type TestServer } from '../helpers/clickhouse.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
const TARGET = 'exited';
const NUMERIC = [...FEATURES, TARGET];

/** |a - b| <= tol * max(|a|, |b|), elementwise, naming the entry that is off. */
function expectRelClose(actual: readonly (number | null)[], expected: readonly (number | null)[], tol: number, what: string): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, j) => {
    const e = expected[j]!;
    if (a === null || e === null) return expect(a, `${what}[${j}]`).toBe(e);
    const rel = Math.abs(a - e) / Math.max(Math.abs(a), Math.abs(e), Number.MIN_VALUE);
    expect(rel, `${what}[${j}]: ${a} vs ${e}`).toBeLessThanOrEqual(tol);
  });
}

interface NodeData {
  finalData: string;
  /** Every numeric column of finaldata.csv, NaN where missing, in row order. */
  columns: Map<string, Float64Array>;
}

/** The DuckDB path: `mlops ingest` of the folder into a temp project, finaldata.csv read back. */
async function duckIngest(folder: string): Promise<NodeData> {
  const dir = project({ classic: false });
  const config = await loadConfig(join(dir, 'config.json'), { createOutputs: true });
  await ingest({ config, inputFolder: folder });
  const finalData = join(config.output_folder_path, 'finaldata.csv');
  const X = await withFrame(await csvFilesAt(finalData), { name: 'final', numeric: NUMERIC, text: [], labels: null }, (f) => f.numeric(NUMERIC));
  return { finalData, columns: new Map(NUMERIC.map((c, j) => [c, X[j]!])) };
}

/** Mean of the non-missing values. */
function nanMean(col: Float64Array): number {
  let s = 0;
  let n = 0;
  for (const v of col) {
    if (v !== v) continue;
    s += v;
    n++;
  }
  return n === 0 ? Number.NaN : s / n;
}

/** Missing values replaced by `fill[j]`, in place. */
function imputeInPlace(X: Float64Array[], fill: readonly number[]): void {
  X.forEach((col, j) => {
    for (let i = 0; i < col.length; i++) if (col[i] !== col[i]) col[i] = fill[j]!;
  });
}

/** train's data: labelled rows, features imputed with their means over those rows. */
function trainingData(data: NodeData, target = TARGET, features = FEATURES) {
  const yAll = data.columns.get(target)!;
  const keep = [...yAll.keys()].filter((i) => !Number.isNaN(yAll[i]!));
  const X = features.map((f) => Float64Array.from(keep, (i) => data.columns.get(f)![i]!));
  const means = X.map(nanMean);
  imputeInPlace(X, means);
  return { X, y: Float64Array.from(keep, (i) => yAll[i]!), means };
}

/** Ridge / least squares by the normal equations on centred data, intercept unpenalised. */
function normalEquations(X: Float64Array[], y: Float64Array, alpha: number): number[] {
  const d = X.length;
  const n = y.length;
  const mx = X.map((c) => c.reduce((s, v) => s + v, 0) / n);
  const my = y.reduce((s, v) => s + v, 0) / n;
  const A = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) b[j]! += (X[j]![i]! - mx[j]!) * (y[i]! - my);
    for (let k = 0; k <= j; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (X[j]![i]! - mx[j]!) * (X[k]![i]! - mx[k]!);
      A[j * d + k] = A[k * d + j] = s + (j === k ? alpha : 0);
    }
  }
  const w = Array.from(solveSpd(A, b, d)!);
  return [my - w.reduce((s, wj, j) => s + wj * mx[j]!, 0), ...w];
}

/** b + X w row by row, the regressor's prediction. */
const predictions = (X: Float64Array[], b: number, w: readonly number[]) => Float64Array.from(X[0]!, (_, i) => X.reduce((z, col, j) => z + w[j]! * col[i]!, b));

const DRIFT: DataDriftSettings = { pValue: 0.05, psi: 0.1, wasserstein: 0.1, minRows: 30, maxCategories: 10 };

const available = clickHouseAvailable('test/engine/clickhouse.test.ts');
const run = available ? describe : describe.skip;

run('ClickHouse engine, one server', () => {
  let server: TestServer;
  let ch: ClickHouse;
  const scratch = mkdtempSync(join(tmpdir(), 'mlops-chdata-'));
  let gen: NodeData;
  let cur: NodeData;
  const genFrom = chTable('default', 'gen');
  const curFrom = chTable('default', 'cur');
  beforeAll(async () => {
    server = await startClickHouse();
    ch = connectClickHouse({ url: server.url });
    generate({ rows: 100_000, files: 2, out: join(scratch, 'gen'), seed: 11, missing: 0.02, dup: 0.05 });
    generate({ rows: 20_000, files: 1, out: join(scratch, 'cur'), seed: 12, missing: 0.02, shift: 0.3 });
    const load = async (name: string) => {
      const files = (await listCsvFiles(join(scratch, name))).csv;
      return withDb((db) => ingestCsvToClickHouse(ch, db, files, { table: name, numeric: [TARGET], labels: TARGET }));
    };
    const loaded = await load('gen');
    await load('cur');
    gen = await duckIngest(join(scratch, 'gen'));
    cur = await duckIngest(join(scratch, 'cur'));
    expect(loaded.rowsWritten).toBe(gen.columns.get(TARGET)!.length);
  });
  afterAll(async () => {
    await ch?.close();
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('ingests the classic data with duplicates dropped, first occurrences in file order, as mlops ingest', async () => {
    const { csv } = await listCsvFiles(join(CLASSIC, 'practicedata'));
    const res = await withDb((db) => ingestCsvToClickHouse(ch, db, csv, { table: 'classic', numeric: [TARGET], labels: TARGET }));
    const ref = await duckIngest(join(CLASSIC, 'practicedata'));
    const lines = readFileSync(ref.finalData, 'utf8').trim().split('\n');
    expect(res.rowsRead).toBe(36);
    expect(res.rowsWritten).toBe(lines.length - 1);
    expect(res.duplicatesDropped).toBe(36 - res.rowsWritten);
    const rows = await ch.query<Record<string, unknown>>(`SELECT corporation, ${NUMERIC.join(', ')} FROM ${res.from} ORDER BY _mlops_row`, 'test');
    expect(rows.map((r) => Object.values(r).join(','))).toEqual(lines.slice(1));
    // a second ingest under the same name replaces the table whole, and leaves no helper tables
    const { csv: later } = await listCsvFiles(join(CLASSIC, 'sourcedata'));
    const names = async (t: string) => (await ch.query<{ c: string }>(`SELECT corporation AS c FROM ${t} ORDER BY _mlops_row`, 'test')).map((r) => r.c);
    await withDb((db) => ingestCsvToClickHouse(ch, db, later, { table: 'classic2', numeric: [TARGET], labels: TARGET }));
    expect(await names('classic2')).not.toEqual(await names('classic'));
    await withDb((db) => ingestCsvToClickHouse(ch, db, csv, { table: 'classic2', numeric: [TARGET], labels: TARGET }));
    expect(await names('classic2')).toEqual(await names('classic'));
    const tables = await ch.query<{ name: string }>("SELECT name FROM system.tables WHERE database = 'default' AND name LIKE '%mlops%'", 'test');
    expect(tables).toEqual([]);
    const source = await describeSourceTable(ch, 'classic', { target: TARGET, features: FEATURES });
    expect(source.rows).toBe(res.rowsWritten);
    await expect(describeSourceTable(ch, 'classic', { target: 'corporation' })).rejects.toThrow(/column "corporation" is Nullable\(String\), not a number/);
    await expect(describeSourceTable(ch, 'nosuch', { target: TARGET })).rejects.toBeInstanceOf(DataError);
    await ch.command(`CREATE TABLE badlabels ENGINE = MergeTree ORDER BY tuple() AS SELECT toFloat64(number % 3) AS exited FROM numbers(10)`, 'test');
    await expect(describeSourceTable(ch, 'badlabels', { target: TARGET })).rejects.toThrow(/target column "exited" holds 2 in 3 rows; labels must be 0 or 1/);
  });

  it('logistic regression on the classic data equals fitLogistic to 1e-8 (same iterations)', async () => {
    const ref = trainingData(await duckIngest(join(CLASSIC, 'practicedata')));
    const expected = fitLogistic(ref.X, ref.y, { C: 1, maxIter: 100 });
    const fit = await fitLogisticOnEngine(ch, { from: chTable('default', 'classic'), target: TARGET, features: FEATURES }, { C: 1, maxIter: 100 });
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBe(expected.iterations);
    expect(fit.queries).toBe(fit.iterations + 2); // the means, then one per iteration (and the start)
    expectRelClose([fit.intercept, ...fit.coefficients], [expected.intercept, ...expected.coefficients], 1e-8, 'beta');
    expectRelClose(fit.featureMeans, ref.means, 1e-14, 'means');
    expectRelClose([fit.objective], [expected.objective], 1e-12, 'objective');
    // predictions in row order, as predictProba
    const model = { features: FEATURES, coefficients: fit.coefficients, intercept: fit.intercept, feature_means: fit.featureMeans, threshold: 0.5 };
    const rows = await ch.query<{ corporation: string; probability: number; prediction: number }>(
      predictionSql(model, chTable('default', 'classic'), { keep: ['corporation'], orderBy: '_mlops_row' }),
      'predict',
    );
    const proba = predictProba(ref.X, fit.intercept, fit.coefficients);
    expectRelClose(rows.map((r) => r.probability), Array.from(proba), 1e-14, 'probability');
    expect(rows.map((r) => r.prediction)).toEqual(Array.from(proba, (p) => (p > 0.5 ? 1 : 0)));
  });

  it('logistic regression on 100k generated rows (missing values, duplicates, C = 0.5) equals fitLogistic to 1e-8', async () => {
    const ref = trainingData(gen);
    const expected = fitLogistic(ref.X, ref.y, { C: 0.5, maxIter: 100 });
    const fit = await fitLogisticOnEngine(ch, { from: genFrom, target: TARGET, features: FEATURES }, { C: 0.5, maxIter: 100 });
    expect(fit.rows).toBe(ref.y.length);
    expect(fit.converged).toBe(true);
    expectRelClose([fit.intercept, ...fit.coefficients], [expected.intercept, ...expected.coefficients], 1e-8, 'beta');
    expect(fit.gradientMaxNorm).toBeLessThan(1e-4);
  });

  it('on 200k+ rows it warm-starts from a sample, as fitLogistic does: the same optimum in fewer passes', async () => {
    await ch.command(`CREATE TABLE gen3 ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM ${genFrom}`, 'test');
    for (let k = 0; k < 2; k++) await ch.command(`INSERT INTO gen3 SELECT * FROM ${genFrom}`, 'test');
    const ref = trainingData(gen);
    const triple = (c: Float64Array) => Float64Array.from({ length: 3 * c.length }, (_, i) => c[i % c.length]!);
    const expected = fitLogistic(ref.X.map(triple), triple(ref.y), { C: 1, maxIter: 100 });
    const warm = await fitLogisticOnEngine(ch, { from: chTable('default', 'gen3'), target: TARGET, features: FEATURES }, { C: 1, maxIter: 100 });
    expect(warm.rows).toBe(3 * ref.y.length);
    expectRelClose([warm.intercept, ...warm.coefficients], [expected.intercept, ...expected.coefficients], 1e-8, 'beta');
    // from the intercept-only start the same data takes more passes
    const cold = await fitLogisticOnEngine(ch, { from: chTable('default', 'gen3'), target: TARGET, features: FEATURES }, { C: 1, maxIter: 100, start: [Math.log(0.5), 0, 0, 0] });
    expect(warm.iterations).toBeLessThan(cold.iterations);
    expectRelClose([warm.intercept, ...warm.coefficients], [cold.intercept, ...cold.coefficients], 1e-9, 'cold');
  });

  it('a constant feature gets coefficient 0, as in fitLogistic', async () => {
    await ch.command(`CREATE TABLE withconst ENGINE = MergeTree ORDER BY _mlops_row AS SELECT *, toFloat64(7) AS seven FROM ${chTable('default', 'classic')}`, 'test');
    const ref = trainingData(await duckIngest(join(CLASSIC, 'practicedata')));
    const expected = fitLogistic([...ref.X, new Float64Array(ref.y.length).fill(7)], ref.y, { C: 1, maxIter: 100 });
    const fit = await fitLogisticOnEngine(ch, { from: chTable('default', 'withconst'), target: TARGET, features: [...FEATURES, 'seven'] }, { C: 1, maxIter: 100 });
    expect(fit.coefficients[3]).toBe(0);
    expectRelClose([fit.intercept, ...fit.coefficients.slice(0, 3)], [expected.intercept, ...expected.coefficients.slice(0, 3)], 1e-8, 'beta');
    // a start at the optimum (with the constant's coefficient folded into the intercept) stays there
    const restart = await fitLogisticOnEngine(
      ch,
      { from: chTable('default', 'withconst'), target: TARGET, features: [...FEATURES, 'seven'] },
      { C: 1, maxIter: 100, start: [fit.intercept - 7 * 0.5, ...fit.coefficients.slice(0, 3), 0.5] },
    );
    expect(restart.iterations).toBeLessThanOrEqual(2);
    expectRelClose([restart.intercept, ...restart.coefficients], [fit.intercept, ...fit.coefficients], 1e-9, 'restart');
    // train's refusals: a single class, a feature without values
    await ch.command(`CREATE TABLE oneclass ENGINE = MergeTree ORDER BY tuple() AS SELECT toFloat64(number) AS a, CAST(NULL AS Nullable(Float64)) AS b, toFloat64(0) AS exited FROM numbers(5)`, 'test');
    await expect(fitLogisticOnEngine(ch, { from: 'oneclass', target: TARGET, features: ['a'] }, { C: 1, maxIter: 100 })).rejects.toThrow(/has a single class \(0\) in all 5 rows/);
    await expect(fitLinearOnEngine(ch, { from: 'oneclass', target: TARGET, features: ['a', 'b'] })).rejects.toThrow(/feature "b" has no values at all/);
  });

  it('linear and ridge regression equal the normal equations solved in Node to 1e-8', async () => {
    const target = 'lastmonth_activity';
    const features = ['lastyear_activity', 'number_of_employees', 'exited'];
    const ref = trainingData(gen, target, features);
    for (const alpha of [0, 1e4]) {
      const fit = await fitLinearOnEngine(ch, { from: genFrom, target, features }, { alpha });
      expect(fit.converged).toBe(true);
      expect(fit.iterations).toBeLessThanOrEqual(2);
      expectRelClose([fit.intercept, ...fit.coefficients], normalEquations(ref.X, ref.y, alpha), 1e-8, `alpha ${alpha}`);
    }
  });

  it('regression metrics (R², SSE, RMSE, MAE, MAPE) equal a direct computation in Node', async () => {
    for (const target of ['lastmonth_activity', 'number_of_employees']) {
      const features = FEATURES.filter((f) => f !== target);
      const ref = trainingData(gen, target, features);
      const fit = await fitLinearOnEngine(ch, { from: genFrom, target, features }, { alpha: 1 });
      const model = { features, coefficients: fit.coefficients, intercept: fit.intercept, feature_means: fit.featureMeans };
      // scikit-learn's definitions, row by row
      const n = ref.y.length;
      const pred = predictions(ref.X, fit.intercept, fit.coefficients);
      const mean = ref.y.reduce((a, b) => a + b, 0) / n;
      let sse = 0;
      let sst = 0;
      let abs = 0;
      let ape = 0;
      let zero = false;
      ref.y.forEach((y, i) => {
        const e = y - pred[i]!;
        sse += e * e;
        sst += (y - mean) ** 2;
        abs += Math.abs(e);
        if (y === 0) zero = true;
        else ape += Math.abs(e) / Math.abs(y);
      });
      const got = await regressionScoreOnEngine(ch, genFrom, target, model);
      expect(got.rows).toBe(n);
      expectRelClose([got.sse, got.rmse, got.mae], [sse, Math.sqrt(sse / n), abs / n], 1e-9, target);
      // R² = 1 - SSE/SST cancels when the fit explains little: compare it absolutely
      expect(Math.abs(got.r2 - (1 - sse / sst))).toBeLessThan(1e-12);
      if (zero) expect(got.mape).toBeNull();
      else expectRelClose([got.mape], [ape / n], 1e-9, `${target} mape`);
    }
  });

  it('summary statistics equal the DuckDB describe path (mean, std, min, max, quartiles, missing)', async () => {
    const stats = await describeOnEngine(ch, genFrom, NUMERIC);
    const duck = await withDb(async (db) => {
      const t = await loadCsvTable(db, await csvFilesAt(gen.finalData), { name: 'final', numeric: NUMERIC });
      const q = NUMERIC.map((c, i) => `quantile_cont("${c}", [0.25, 0.5, 0.75]) AS q${i}`).join(', ');
      const [row] = await db.rows<Record<string, number[]>>(`SELECT ${q} FROM ${t.view}`);
      return NUMERIC.map((c, i) => ({ info: t.columns.find((x) => x.name === c)!, q: row![`q${i}`]!.map(Number), rows: t.rows }));
    });
    stats.forEach((s, i) => {
      const d = duck[i]!;
      expect(s.missing).toBe(d.info.missing);
      expect(s.count).toBe(d.rows - d.info.missing);
      expect([s.min, s.max]).toEqual([d.info.min, d.info.max]);
      expectRelClose([s.mean, s.std], [d.info.mean ?? null, d.info.std ?? null], 1e-15, `${s.column} mean/std`);
      expectRelClose([s.q25, s.median, s.q75], d.q, 1e-15, `${s.column} quartiles`);
    });
    // far from zero: a column at 1e12 with sd ~ 1 keeps its digits, as the DuckDB path does
    const [far] = await describeOnEngine(ch, `(SELECT lastmonth_activity + 1e12 AS big FROM ${genFrom})`, ['big']);
    const x = Array.from(gen.columns.get('lastmonth_activity')!).filter((v) => !Number.isNaN(v)).map((v) => v + 1e12);
    const { momentsOf, momentsStd } = await import('../../src/stats/moments.js');
    const mo = momentsOf(x)!;
    expectRelClose([far!.mean, far!.std], [mo.mean, momentsStd(mo, 1)], 1e-15, 'shifted');
  });

  it('data drift (KS, PSI, Wasserstein, chi-square) and verdicts equal featureDrift in Node', async () => {
    for (const f of NUMERIC) {
      const onEngine = await featureDriftOnEngine(ch, f, { from: genFrom }, { from: curFrom }, DRIFT);
      const inNode = featureDrift(f, gen.columns.get(f)!, cur.columns.get(f)!, DRIFT);
      expect(onEngine.kind).toBe(inNode.kind);
      expect(onEngine.verdict).toBe(inNode.verdict);
      expect([onEngine.refRows, onEngine.curRows, onEngine.statistic, onEngine.pValue, onEngine.psi]).toEqual([
        inNode.refRows,
        inNode.curRows,
        inNode.statistic,
        inNode.pValue,
        inNode.psi,
      ]);
      expectRelClose([onEngine.wassersteinNorm], [inNode.wassersteinNorm], 1e-12, `${f} W/sd`);
      expect(onEngine.reason).toBe(inNode.reason);
    }
    // no drift of a sample against itself; the categorical target tested by chi-square
    const same = await featureDriftOnEngine(ch, TARGET, { from: genFrom }, { from: genFrom }, DRIFT);
    expect([same.test, same.verdict, same.statistic]).toEqual(['chi-square', 'no drift', 0]);
  });

  it('quantile summaries of sides with too many distinct values keep KS within 1/levels', async () => {
    const f = 'lastyear_activity';
    const approx = await featureDriftOnEngine(ch, f, { from: genFrom }, { from: curFrom }, DRIFT, { maxValues: 10, quantileLevels: 2000 });
    const exact = featureDrift(f, gen.columns.get(f)!, cur.columns.get(f)!, DRIFT);
    expect(Math.abs(approx.statistic! - exact.statistic!)).toBeLessThanOrEqual(2 / 2000);
    expect(approx.verdict).toBe(exact.verdict);
  });

  it('scoring metrics equal classificationMetrics to 1e-9 (confusion matrix exactly)', async () => {
    const ref = trainingData(gen);
    const fit = fitLogistic(ref.X, ref.y, { C: 1, maxIter: 100 });
    const model = { features: FEATURES, coefficients: fit.coefficients, intercept: fit.intercept, feature_means: ref.means, threshold: 0.5 };
    // scored on the current data: its own missing values imputed with the training means
    const test = trainingData(cur);
    const X = FEATURES.map((f) => {
      const y = cur.columns.get(TARGET)!;
      return Float64Array.from([...y.keys()].filter((i) => !Number.isNaN(y[i]!)), (i) => cur.columns.get(f)![i]!);
    });
    imputeInPlace(X, ref.means);
    for (const threshold of [0.5, 0.3]) {
      const expected = classificationMetrics(test.y, predictProba(X, fit.intercept, fit.coefficients), threshold);
      const got = await scoreOnEngine(ch, curFrom, TARGET, { ...model, threshold });
      expect(got.confusion).toEqual(expected.confusion);
      expect(got.rows).toBe(test.y.length);
      for (const k of ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss'] as const) {
        expectRelClose([got[k]], [expected[k]], 1e-9, k);
      }
    }
  });

  it('connection problems and SQL errors are typed errors naming the server and the step', async () => {
    const closed = connectClickHouse({ url: `http://127.0.0.1:${await freePort()}` });
    const refused = await closed.query('SELECT 1', 'train, Newton iteration 3').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect(exitCodeOf(refused)).toBe(2);
    expect((refused as Error).message).toMatch(/^clickhouse http:\/\/127\.0\.0\.1:\d+ \(train, Newton iteration 3\): connection refused$/);
    await closed.close();

    const impatient = connectClickHouse({ url: server.url, timeoutMs: 300 });
    const slow = await impatient.query('SELECT sleep(2)', 'score').catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(ConfigError);
    expect((slow as Error).message).toMatch(/\(score\): timed out/);
    await impatient.close();

    const badColumn = await ch.query('SELECT nosuch FROM gen', 'drift').catch((e: unknown) => e);
    expect(badColumn).toBeInstanceOf(DataError);
    expect(exitCodeOf(badColumn)).toBe(3);
    expect((badColumn as Error).message).toMatch(/\(drift\): the server refused the query \(code 47\): .*nosuch/);
    const badTable = await ch.query('SELECT 1 FROM nosuch', 'drift').catch((e: unknown) => e);
    expect(badTable).toBeInstanceOf(ConfigError);

    const wrongUser = connectClickHouse({ url: server.url }, { MLOPS_CLICKHOUSE_USER: 'nobody', MLOPS_CLICKHOUSE_PASSWORD: 'x' });
    const denied = await wrongUser.query('SELECT 1', 'train').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ConfigError);
    await wrongUser.close();
    expect(() => connectClickHouse({ url: 'http://u:p@127.0.0.1:1' })).toThrow(/holds credentials/);
  });

  it('literals are exact Float64 (subnormals, huge values, negative zero)', async () => {
    const values = [0.1, -1 / 3, 5e-324, -2.5e-310, 1.7976931348623157e308, 123456789012345680000, 3, -0];
    const [row] = await ch.query<{ v: number[] }>(`SELECT [${values.map(chFloat).join(', ')}] AS v`, 'test');
    expect(row!.v.map(Number)).toEqual(values);
    const odd = "we`ird \\ na'me";
    const [quoted] = await ch.query<Record<string, unknown>>(`SELECT ${chString(odd)} AS ${chIdent(odd)}`, 'test');
    expect(quoted).toEqual({ [odd]: odd });
  });
});

run('ClickHouse engine, Distributed table over two shards', () => {
  let shards: [TestServer, TestServer];
  let ch: ClickHouse;
  beforeAll(async () => {
    shards = await startTwoShards();
    ch = connectClickHouse({ url: shards[0].url });
  });
  afterAll(async () => {
    await ch?.close();
    await Promise.all(shards?.map((s) => s.stop()) ?? []);
  });

  it('gives the coefficients, summaries and scores of the one-table path', async () => {
    const { csv } = await listCsvFiles(join(CLASSIC, 'practicedata'));
    const all = await withDb((db) => ingestCsvToClickHouse(ch, db, csv, { table: 'all_rows', numeric: [TARGET], labels: TARGET }));
    const other = connectClickHouse({ url: shards[1].url });
    const schema = `ENGINE = MergeTree ORDER BY _mlops_row AS SELECT * FROM ${all.from} WHERE 0`;
    await ch.command(`CREATE TABLE part ${schema}`, 'test');
    await ch.command(`INSERT INTO part SELECT * FROM ${all.from} WHERE _mlops_row % 2 = 0`, 'test');
    await other.command(`CREATE TABLE part ENGINE = MergeTree ORDER BY _mlops_row AS SELECT * FROM remote('127.0.0.1:${shards[0].tcpPort}', default, all_rows) WHERE _mlops_row % 2 = 1`, 'test');
    await other.close();
    await ch.command(`CREATE TABLE dist AS part ENGINE = Distributed(${CLUSTER}, default, part)`, 'test');
    const [counts] = await ch.query<{ a: string; b: string }>(`SELECT (SELECT count() FROM part) AS a, (SELECT count() FROM dist) AS b`, 'test');
    expect(Number(counts!.a)).toBeGreaterThan(0);
    expect(Number(counts!.b)).toBe(all.rowsWritten);
    expect(Number(counts!.a)).toBeLessThan(all.rowsWritten);

    const duck = await duckIngest(join(CLASSIC, 'practicedata'));
    const ref = trainingData(duck);
    const expected = fitLogistic(ref.X, ref.y, { C: 1, maxIter: 100 });
    const spec = { target: TARGET, features: FEATURES };
    const fit = await fitLogisticOnEngine(ch, { ...spec, from: chTable('default', 'dist') }, { C: 1, maxIter: 100 });
    expectRelClose([fit.intercept, ...fit.coefficients], [expected.intercept, ...expected.coefficients], 1e-8, 'beta');
    const linear = await fitLinearOnEngine(ch, { from: chTable('default', 'dist'), target: 'lastmonth_activity', features: ['lastyear_activity'] }, { alpha: 1 });
    const linearRef = await fitLinearOnEngine(ch, { from: all.from, target: 'lastmonth_activity', features: ['lastyear_activity'] }, { alpha: 1 });
    expectRelClose([linear.intercept, ...linear.coefficients], [linearRef.intercept, ...linearRef.coefficients], 1e-12, 'linear');

    // the same to the last bit or two (the shards' compensated sums are added in another order)
    const onShards = await describeOnEngine(ch, chTable('default', 'dist'), NUMERIC);
    const onOne = await describeOnEngine(ch, all.from, NUMERIC);
    onShards.forEach((s, i) => {
      const o = onOne[i]!;
      expect([s.column, s.rows, s.count, s.missing, s.min, s.max, s.q25, s.median, s.q75]).toEqual([o.column, o.rows, o.count, o.missing, o.min, o.max, o.q25, o.median, o.q75]);
      expectRelClose([s.mean, s.std], [o.mean, o.std], 1e-15, `${s.column} mean/std`);
    });
    const model = { features: FEATURES, coefficients: fit.coefficients, intercept: fit.intercept, feature_means: fit.featureMeans, threshold: 0.5 };
    const scored = await scoreOnEngine(ch, chTable('default', 'dist'), TARGET, model);
    const expectedScore = classificationMetrics(ref.y, predictProba(ref.X, fit.intercept, fit.coefficients), 0.5);
    expect(scored.confusion).toEqual(expectedScore.confusion);
    for (const k of ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss'] as const) expectRelClose([scored[k]], [expectedScore[k]], 1e-9, k);
    // drift with the reference on the shards: value counts merge across them
    for (const f of NUMERIC) {
      const onShards = await featureDriftOnEngine(ch, f, { from: chTable('default', 'dist') }, { from: all.from }, { ...DRIFT, minRows: 5 });
      const inNode = featureDrift(f, duck.columns.get(f)!, duck.columns.get(f)!, { ...DRIFT, minRows: 5 });
      expect(onShards).toEqual(inNode);
    }
  });

  it('gives the coefficients of fitLogistic on 100k generated rows split over the shards', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'mlops-chdist-'));
    try {
      generate({ rows: 100_000, files: 2, out: folder, seed: 21, missing: 0.01, dup: 0.02 });
      const { csv } = await listCsvFiles(folder);
      const all = await withDb((db) => ingestCsvToClickHouse(ch, db, csv, { table: 'gen_all', numeric: [TARGET], labels: TARGET }));
      const other = connectClickHouse({ url: shards[1].url });
      await ch.command(`CREATE TABLE gen_part ENGINE = MergeTree ORDER BY _mlops_row AS SELECT * FROM ${all.from} WHERE _mlops_row % 3 = 0`, 'test');
      await other.command(`CREATE TABLE gen_part ENGINE = MergeTree ORDER BY _mlops_row AS SELECT * FROM remote('127.0.0.1:${shards[0].tcpPort}', default, gen_all) WHERE _mlops_row % 3 != 0`, 'test');
      await other.close();
      await ch.command(`CREATE TABLE gen_dist AS gen_part ENGINE = Distributed(${CLUSTER}, default, gen_part)`, 'test');
      const ref = trainingData(await duckIngest(folder));
      const expected = fitLogistic(ref.X, ref.y, { C: 1, maxIter: 100 });
      const fit = await fitLogisticOnEngine(ch, { from: chTable('default', 'gen_dist'), target: TARGET, features: FEATURES }, { C: 1, maxIter: 100 });
      expect(fit.rows).toBe(ref.y.length);
      expectRelClose([fit.intercept, ...fit.coefficients], [expected.intercept, ...expected.coefficients], 1e-8, 'beta');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

run('ClickHouse engine, a server that dies', () => {
  it('killed between two Newton iterations or mid-query: a typed error (exit 2), not a crash', async () => {
    const server = await startClickHouse();
    try {
      const ch = connectClickHouse({ url: server.url });
      const { csv } = await listCsvFiles(join(CLASSIC, 'practicedata'));
      const res = await withDb((db) => ingestCsvToClickHouse(ch, db, csv, { table: 'classic', numeric: [TARGET], labels: TARGET }));
      let calls = 0;
      const dying: ClickHouse = {
        ...ch,
        query: (sql, step) => {
          if (++calls === 3) server.kill();
          return ch.query(sql, step);
        },
      };
      const err = await fitLogisticOnEngine(dying, { from: res.from, target: TARGET, features: FEATURES }, { C: 1, maxIter: 100 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(exitCodeOf(err)).toBe(2);
      expect((err as Error).message).toMatch(/^clickhouse http:\/\/127\.0\.0\.1:\d+ \(train, Newton iteration 2\): (connection refused|the server closed the connection mid-query)$/);
      await ch.close();
    } finally {
      await server.stop();
    }
    const third = await startClickHouse();
    try {
      // an ingest whose server dies as the rows are sent: typed too, and the cleanup in its
      // finally does not mask it
      const ch = connectClickHouse({ url: third.url });
      const { csv } = await listCsvFiles(join(CLASSIC, 'practicedata'));
      const dead: ClickHouse = { ...ch, insertStream: (sql, body, step) => (third.kill(), ch.insertStream(sql, body, step)) };
      const err = await withDb((db) => ingestCsvToClickHouse(dead, db, csv, { table: 'classic', numeric: [TARGET], labels: TARGET })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/\(ingest classic, sending rows\): (connection refused|the server closed the connection mid-query)$/);
      await ch.close();
    } finally {
      await third.stop();
    }
    const again = await startClickHouse();
    try {
      const ch = connectClickHouse({ url: again.url });
      const pending = ch.query('SELECT sleep(3)', 'diagnose, pass 2').catch((e: unknown) => e);
      setTimeout(() => again.kill(), 300);
      const err = await pending;
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/\(diagnose, pass 2\): the server closed the connection mid-query$/);
      await ch.close();
    } finally {
      await again.stop();
    }
  });
});

if (!available) {
  describe('ClickHouse engine', () => {
    it.skip('needs clickhouse-server (see the warning above)', () => undefined);
  });
}
