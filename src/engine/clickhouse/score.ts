/**
 * Scoring where the data lives: the model's probability as a SQL expression (the linear form
 * through the logistic link, missing features replaced by the training means, computed in the
 * same order as predictProba in Node), and the metrics of model/metrics.ts as aggregates: the
 * confusion matrix and the log loss in one query, ROC AUC in a second (scores grouped by value,
 * the Mann-Whitney rank sum with average ranks for ties from arrayCumSum over the sorted groups,
 * all inside the engine). Two numbers per metric come back, whatever the row count.
 */
import { accuracyScore, f1Score, precisionScore, recallScore, type Confusion } from '../../model/metrics.js';
import { aggregate } from './aggregate.js';
import type { ClickHouse } from './client.js';
import { chFloat, chIdent, imputedSql, linearSql, sigmoidSql, withSql } from './sql.js';

/** What regression scoring needs of a model file. */
export interface LinearForm {
  features: readonly string[];
  coefficients: readonly number[];
  intercept: number;
  feature_means: readonly number[];
}

/** What classification scoring needs of a model file (model/modelfile.ts ModelFile has all of it). */
export interface LinearModel extends LinearForm {
  threshold: number;
}

/**
 * WITH definitions for the model's probability: x1..xd (imputed features), z (the linear form)
 * and p (the probability of class 1). Usable in any SELECT over a table holding the features.
 */
export function probabilityDefs(model: LinearForm): [string, string][] {
  return [...linearDefs(model), ['p', sigmoidSql('z')]];
}

/** WITH definitions x1..xd (imputed features) and z (the linear form: a regressor's prediction). */
export function linearDefs(model: LinearForm): [string, string][] {
  const defs: [string, string][] = model.features.map((f, j) => [`x${j + 1}`, imputedSql(f, model.feature_means[j]!)]);
  defs.push(['z', linearSql(model.intercept, model.coefficients, model.features.map((_, j) => `x${j + 1}`))]);
  return defs;
}

/** The probability of class 1 as one self-contained SQL expression (for `SELECT ... AS proba`). */
export function probabilitySql(model: LinearForm): string {
  const terms = model.features.map((f, j) => imputedSql(f, model.feature_means[j]!));
  const z = `(${linearSql(model.intercept, model.coefficients, terms)})`;
  return sigmoidSql(z);
}

export interface EngineScore {
  f1: number;
  precision: number;
  recall: number;
  accuracy: number;
  roc_auc: number | null;
  log_loss: number;
  confusion: Confusion;
  /** Labelled rows scored. */
  rows: number;
}

/**
 * classificationMetrics (model/metrics.ts) of the model on the labelled rows of a table:
 * class 1 when p > threshold, log loss with p clipped to [eps, 1 - eps], ROC AUC null when one
 * class is absent.
 */
export async function scoreOnEngine(ch: ClickHouse, from: string, target: string, model: LinearModel, step = 'score'): Promise<EngineScore> {
  const eps = Number.EPSILON;
  const defs = [
    ...probabilityDefs(model),
    ['y', `toFloat64(${chIdent(target)})`] as [string, string],
    ['pc', `if(p < ${chFloat(eps)}, ${chFloat(eps)}, if(p > ${chFloat(1 - eps)}, ${chFloat(1 - eps)}, p))`] as [string, string],
    ['hit', `p > ${chFloat(model.threshold)}`] as [string, string],
  ];
  const labelled = `WHERE isNotNull(${chIdent(target)})`;
  const row = await aggregate(
    ch,
    from,
    {
      n: ['sum', 'count()'],
      tp: ['sum', 'countIf(hit AND y = 1)'],
      fp: ['sum', 'countIf(hit AND y != 1)'],
      fn: ['sum', 'countIf(NOT hit AND y = 1)'],
      tn: ['sum', 'countIf(NOT hit AND y != 1)'],
      ll: ['sum', 'sumKahan(if(y = 1, -log(pc), -log(1 - pc)))'],
    },
    `${step}, confusion matrix and log loss`,
    { where: `isNotNull(${chIdent(target)})`, defs },
  );
  const c: Confusion = { tp: row.tp ?? 0, fp: row.fp ?? 0, tn: row.tn ?? 0, fn: row.fn ?? 0 };
  const n = row.n ?? 0;
  // groups of equal scores sorted by score: the average rank of a group is the rows before it
  // plus (size + 1) / 2; the rank sum of the positives adds positives x average rank
  const [auc] = await ch.query<{ pos: string | number; rs: number | null }>(
    `SELECT arraySum(ks) AS pos, arraySum(arrayMap((kk, cc, cum) -> kk * (cum - cc + (cc + 1) / 2), ks, cs, arrayCumSum(cs))) AS rs FROM ` +
      `(SELECT arraySort((a, s) -> s, groupArray(k), groupArray(p)) AS ks, arraySort((a, s) -> s, groupArray(c), groupArray(p)) AS cs ` +
      `FROM (${withSql(defs)}SELECT p, countIf(y = 1) AS k, count() AS c FROM ${from} ${labelled} GROUP BY p))`,
    `${step}, ROC AUC`,
  );
  const pos = Number(auc?.pos ?? 0);
  const neg = n - pos;
  return {
    f1: f1Score(c),
    precision: precisionScore(c),
    recall: recallScore(c),
    accuracy: accuracyScore(c),
    roc_auc: pos === 0 || neg === 0 ? null : (Number(auc!.rs) - (pos * (pos + 1)) / 2) / (pos * neg),
    log_loss: n === 0 ? Number.NaN : row.ll! / n,
    confusion: c,
    rows: n,
  };
}

/**
 * A SELECT of the model's predictions over a table: the `keep` columns, `probability` (of class
 * 1) and `prediction` (1 when probability > threshold), in row order when `orderBy` names a
 * column (ingested tables: ROW_COLUMN). For `mlops predict` to stream.
 */
export function predictionSql(model: LinearModel, from: string, opts: { keep?: readonly string[]; orderBy?: string | null } = {}): string {
  const keep = (opts.keep ?? []).map((c) => `${chIdent(c)}, `).join('');
  const order = opts.orderBy ? ` ORDER BY ${chIdent(opts.orderBy)}` : '';
  return `${withSql(probabilityDefs(model))}SELECT ${keep}p AS probability, toUInt8(p > ${chFloat(model.threshold)}) AS prediction FROM ${from}${order}`;
}

export interface EngineRegressionScore {
  r2: number;
  sse: number;
  rmse: number;
  mae: number;
  /** Mean absolute percentage error as a fraction; null when some target is 0. */
  mape: number | null;
  rows: number;
}

/**
 * Regression metrics of a linear model on the rows of a table with a target, as scikit-learn
 * defines them (and model/metrics.ts regressionMetrics on main): R^2 = 1 - SSE / SST (1 for an
 * exact fit of a constant target, else 0 when SST is 0), RMSE, MAE, MAPE. Two passes: the
 * target's mean, then SST around it (no cancellation) with the error sums.
 */
export async function regressionScoreOnEngine(ch: ClickHouse, from: string, target: string, model: LinearForm, step = 'score'): Promise<EngineRegressionScore> {
  const y = chIdent(target);
  const where = `isNotNull(${y})`;
  const first = await aggregate(ch, from, { n: ['sum', 'count()'], s: ['sum', `sumKahan(toFloat64(${y}))`] }, `${step}, target mean`, { where });
  const n = first.n ?? 0;
  const mean = n === 0 ? 0 : first.s! / n;
  const defs: [string, string][] = [...linearDefs(model), ['y', `toFloat64(${y})`], ['e', 'y - z']];
  const row = await aggregate(
    ch,
    from,
    {
      sse: ['sum', 'sumKahan(e * e)'],
      sst: ['sum', `sumKahan((y - ${chFloat(mean)}) * (y - ${chFloat(mean)}))`],
      abs: ['sum', 'sumKahan(abs(e))'],
      ape: ['sum', 'sumKahan(if(y = 0, 0, abs(e) / abs(y)))'],
      zero: ['sum', 'countIf(y = 0)'],
    },
    `${step}, errors`,
    { where, defs },
  );
  const sse = row.sse ?? 0;
  const sst = row.sst ?? 0;
  return {
    r2: n === 0 ? Number.NaN : sst === 0 ? (sse === 0 ? 1 : 0) : 1 - sse / sst,
    sse,
    rmse: Math.sqrt(sse / n),
    mae: (row.abs ?? 0) / n,
    mape: (row.zero ?? 0) > 0 || n === 0 ? null : (row.ape ?? 0) / n,
    rows: n,
  };
}
