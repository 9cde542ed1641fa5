/**
 * Linear models fitted where the data lives: Newton's method (IRLS) in which every iteration is
 * ONE aggregate query over the table, returning the objective, the gradient X'(p - y) and the
 * Hessian X'WX as sums over the rows; the Newton system (m = features + 1 unknowns) is solved
 * in Node with solveSpd from model/logreg.ts. Only O(m^2) numbers leave the engine per
 * iteration, whatever the row count, and a Distributed table sums on its shards in parallel.
 *
 * Logistic regression minimises the objective of fitLogistic (model/logreg.ts),
 * 0.5 ||w||^2 + C sum_i [log(1 + exp(z_i)) - y_i z_i], intercept unpenalised, with the same
 * start (the intercept-only optimum), the same backtracking line search and the same stopping
 * rule (a full Newton step with max_j |step_j| / (1 + |beta_j|) <= tol), so it stops at the same
 * optimum. Linear regression minimises 0.5 sum_i (y_i - z_i)^2 + 0.5 alpha ||w||^2 (ridge when
 * alpha > 0, intercept unpenalised; scikit-learn's Ridge has the same optimum).
 *
 * The sums are over features centred at their means (x - mean_j, an exact reparametrisation:
 * Newton's method is affine invariant, so the iterates are the same in exact arithmetic), which
 * keeps X'WX well conditioned when a feature sits far from zero; steps and the stopping rule
 * are taken in the original coordinates. Missing feature values are replaced by the means the
 * engine computes over the labelled rows (train's rule); rows without a label are left out.
 * Sums are compensated (sumKahan). Cost: one pass over the table for the means, then one per
 * iteration (plus one per backtracking halving, which is rare).
 */
import { DataError } from '../../errors.js';
import { fitLogistic, solveSpd, WARM_START_ROWS, type FitOptions, type FitResult } from '../../model/logreg.js';
import type { ClickHouse } from './client.js';
import { aggregate, type Aggregate } from './aggregate.js';
import { chFloat, chIdent, log1pSql } from './sql.js';

export interface EngineFitSpec {
  /** Table expression to read (chTable(db, name)), a Distributed table too. */
  from: string;
  target: string;
  features: readonly string[];
  /** Names the step in error messages ("train"). */
  step?: string;
}

export interface EngineFit extends FitResult {
  /** Means of the features over the labelled rows: the imputation values (model feature_means). */
  featureMeans: number[];
  /** Labelled rows the fit used. */
  rows: number;
  /** Aggregate queries run (one for the means, one per evaluated point). */
  queries: number;
}

interface ColumnPass {
  rows: number;
  /** Sum of the target over the labelled rows. */
  ySum: number;
  count: number[];
  mean: number[];
  min: number[];
  max: number[];
}

/** Labelled rows, the target's sum and each feature's count, mean, min and max over them. */
async function columnPass(ch: ClickHouse, spec: EngineFitSpec, step: string): Promise<ColumnPass> {
  const aggs: Record<string, Aggregate> = { n: ['sum', 'count()'], ys: ['sum', `sumKahan(toFloat64(${chIdent(spec.target)}))`] };
  spec.features.forEach((f, j) => {
    const x = `toFloat64(${chIdent(f)})`;
    aggs[`c${j}`] = ['sum', `count(${chIdent(f)})`];
    aggs[`s${j}`] = ['sum', `sumKahan(${x})`];
    aggs[`lo${j}`] = ['min', `min(${x})`];
    aggs[`hi${j}`] = ['max', `max(${x})`];
  });
  const row = await aggregate(ch, spec.from, aggs, `${step}, feature means`, { where: `isNotNull(${chIdent(spec.target)})` });
  const num = (k: string) => row[k] ?? Number.NaN;
  const count = spec.features.map((_, j) => num(`c${j}`));
  return {
    rows: num('n'),
    ySum: num('ys'),
    count,
    mean: spec.features.map((_, j) => num(`s${j}`) / count[j]!),
    min: spec.features.map((_, j) => num(`lo${j}`)),
    max: spec.features.map((_, j) => num(`hi${j}`)),
  };
}

/** Objective, gradient and Hessian at one point, in centred coordinates. */
interface Evaluation {
  f: number;
  g: Float64Array;
  H: Float64Array;
}

type Family = 'logistic' | 'squared';

/**
 * The one aggregate query of an iteration: at beta (centred coordinates: intercept b~ and
 * weights w over x~_j = x_j - mean_j) the loss sum, sum r x~_j and sum v x~_j x~_k, where for
 * logistic regression r = p - y and v = p (1 - p), for least squares r = z - y and v = 1.
 */
async function evaluateAt(
  ch: ClickHouse,
  spec: EngineFitSpec,
  family: Family,
  cols: readonly number[],
  means: readonly number[],
  beta: Float64Array,
  scale: { C: number; ridge: number },
  step: string,
): Promise<Evaluation> {
  const defs: [string, string][] = cols.map((j, k) => [`x${k + 1}`, `ifNull(toFloat64(${chIdent(spec.features[j]!)}), ${chFloat(means[j]!)}) - ${chFloat(means[j]!)}`]);
  defs.push(['y', `toFloat64(${chIdent(spec.target)})`]);
  defs.push(['z', [chFloat(beta[0]!), ...cols.map((_, k) => `${chFloat(beta[k + 1]!)} * x${k + 1}`)].join(' + ')]);
  if (family === 'logistic') {
    defs.push(['e', 'exp(-abs(z))'], ['p', 'if(z >= 0, 1 / (1 + e), e / (1 + e))'], ['r', 'p - y'], ['v', 'p * (1 - p)']);
    // log(1 + exp(z)) - y z without overflow, as evaluate() in model/logreg.ts
    defs.push(['loss', `if(z > 0, z, 0) + ${log1pSql('e')} - y * z`]);
  } else {
    defs.push(['r', 'z - y'], ['loss', '5e-1 * r * r']);
  }
  const x = (k: number) => (k === 0 ? '' : `x${k}`);
  const times = (...terms: string[]) => terms.filter(Boolean).join(' * ') || '1';
  const m = cols.length + 1;
  const aggs: Record<string, Aggregate> = { f: ['sum', 'sumKahan(loss)'] };
  for (let a = 0; a < m; a++) aggs[`g${a}`] = ['sum', `sumKahan(${times('r', x(a))})`];
  for (let a = 0; a < m; a++) {
    for (let b = 0; b <= a; b++) {
      aggs[`h${a}_${b}`] = ['sum', family === 'squared' && a === 0 && b === 0 ? 'count()' : `sumKahan(${times(family === 'logistic' ? 'v' : '', x(a), x(b))})`];
    }
  }
  const row = await aggregate(ch, spec.from, aggs, step, { where: `isNotNull(${chIdent(spec.target)})`, defs });
  const num = (k: string) => row[k] ?? Number.NaN;
  const g = new Float64Array(m);
  const H = new Float64Array(m * m);
  let pen = 0;
  for (let a = 0; a < m; a++) {
    g[a] = scale.C * num(`g${a}`) + (a > 0 ? scale.ridge * beta[a]! : 0);
    if (a > 0) pen += beta[a]! * beta[a]!;
    for (let b = 0; b <= a; b++) {
      const v = scale.C * num(`h${a}_${b}`) + (a === b && a > 0 ? scale.ridge : 0);
      H[a * m + b] = v;
      H[b * m + a] = v;
    }
  }
  return { f: 0.5 * scale.ridge * pen + scale.C * num('f'), g, H };
}

/** Original coordinates from centred ones: b = b~ - sum_j w_j mean_j; the weights are the same. */
function uncentre(beta: Float64Array, cols: readonly number[], means: readonly number[]): Float64Array {
  const out = beta.slice();
  cols.forEach((j, k) => (out[0]! -= beta[k + 1]! * means[j]!));
  return out;
}

/**
 * Newton's method with model/logreg.ts's line search and stopping rule, over evaluations by the
 * engine. Each trial point is one query that also yields the gradient and Hessian there, so an
 * accepted step costs exactly one query.
 */
async function newtonOnEngine(
  evaluate: (beta: Float64Array, what: string) => Promise<Evaluation>,
  start: Float64Array,
  toOriginal: (beta: Float64Array) => Float64Array,
  opts: { maxIter: number; tol: number },
): Promise<{ beta: Float64Array; ev: Evaluation; iterations: number; converged: boolean; queries: number }> {
  const m = start.length;
  let beta = start;
  let queries = 1;
  let ev = await evaluate(beta, 'Newton iteration 1');
  let converged = false;
  let lastFull = Infinity;
  let iter = 0;
  while (iter < opts.maxIter) {
    iter++;
    const negG = ev.g.map((v) => -v);
    let step = solveSpd(ev.H, negG, m);
    if (!step) {
      const Hl = ev.H.slice();
      for (let j = 0; j < m; j++) Hl[j * m + j]! *= 1 + 1e-6;
      step = solveSpd(Hl, negG, m);
      if (!step) break;
    }
    // the stopping rule in original coordinates (the intercept moves by its own step and the
    // weights' steps times the means)
    const orig = toOriginal(beta);
    const origStep = toOriginal(step);
    let size = 0;
    for (let j = 0; j < m; j++) size = Math.max(size, Math.abs(origStep[j]!) / (1 + Math.abs(orig[j]!)));
    let slope = 0;
    for (let j = 0; j < m; j++) slope += ev.g[j]! * step[j]!;
    const pureNewton = -slope <= 1e-10 * (Math.abs(ev.f) + 1);
    let t = 1;
    let accepted = false;
    for (let k = 0; k < 60; k++) {
      const next = new Float64Array(m);
      for (let j = 0; j < m; j++) next[j] = beta[j]! + t * step[j]!;
      queries++;
      const tried = await evaluate(next, `Newton iteration ${iter + 1}${k > 0 ? `, line search ${k}` : ''}`);
      if (pureNewton || tried.f <= ev.f + 1e-4 * t * slope) {
        accepted = true;
        beta = next;
        ev = tried;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) break;
    if (t < 1) continue;
    if (size <= opts.tol) {
      converged = true;
      break;
    }
    if (size <= 1e-6 && size >= lastFull) {
      converged = true;
      break;
    }
    lastFull = size;
  }
  return { beta, ev, iterations: iter, converged, queries };
}

/**
 * A start for a large table, as fitLogistic warm-starts: the fit on a sample of about
 * WARM_START_ROWS labelled rows (picked by a hash of their imputed values, one pass; C scaled so
 * the sample's loss weighs as much as the table's), after which Newton needs 2-4 passes over the
 * table instead of 7-12. Only the sample, a fixed number of rows, comes to Node. Null when the
 * sample has a single class.
 */
async function sampledStart(ch: ClickHouse, spec: EngineFitSpec, pass: ColumnPass, C: number, step: string): Promise<number[] | null> {
  const k = Math.floor(pass.rows / WARM_START_ROWS);
  const x = spec.features.map((f, j) => `ifNull(toFloat64(${chIdent(f)}), ${chFloat(Number.isFinite(pass.mean[j]!) ? pass.mean[j]! : 0)})`);
  const y = `toFloat64(${chIdent(spec.target)})`;
  const rows = await ch.query<{ r: number[] }>(
    `SELECT [${[y, ...x].join(', ')}] AS r FROM ${spec.from} WHERE isNotNull(${chIdent(spec.target)}) AND cityHash64(${[y, ...x].join(', ')}) % ${k} = 0`,
    `${step}, warm-start sample`,
  );
  const ys = Float64Array.from(rows, (row) => Number(row.r[0]));
  const positives = ys.reduce((a, v) => a + v, 0);
  if (ys.length < 2 || positives === 0 || positives === ys.length) return null;
  const X = spec.features.map((_, j) => Float64Array.from(rows, (row) => Number(row.r[j + 1])));
  const fit = fitLogistic(X, ys, { C: C * (pass.rows / ys.length), maxIter: 100, tol: 1e-3 });
  return [fit.intercept, ...fit.coefficients];
}

async function fitOnEngine(ch: ClickHouse, spec: EngineFitSpec, family: Family, opts: FitOptions & { alpha?: number }): Promise<EngineFit> {
  const stepName = spec.step ?? 'train';
  const pass = await columnPass(ch, spec, stepName);
  if (pass.rows === 0) throw new DataError(`${spec.from}: no rows with a label in "${spec.target}"`, 'load data that has labels');
  if (family === 'logistic' && (pass.ySum === 0 || pass.ySum === pass.rows)) {
    throw new DataError(
      `${spec.from}: target "${spec.target}" has a single class (${pass.ySum === 0 ? 0 : 1}) in all ${pass.rows} rows`,
      'training needs examples of both classes 0 and 1',
    );
  }
  spec.features.forEach((f, j) => {
    if (pass.count[j] === 0) throw new DataError(`${spec.from}: feature "${f}" has no values at all`, 'drop it with "features" in config.json');
  });
  // A constant feature (after imputation) has coefficient 0 at the optimum and is left out of
  // the system, as fitLogistic does.
  const cols = spec.features.flatMap((_, j) => (pass.min[j]! < pass.max[j]! ? [j] : []));
  const m = cols.length + 1;
  const start = new Float64Array(m);
  const sampled = !opts.start && family === 'logistic' && pass.rows >= 4 * WARM_START_ROWS;
  const given = opts.start ?? (sampled ? await sampledStart(ch, spec, pass, opts.C, stepName) : null);
  if (given) {
    let b = given[0]!;
    spec.features.forEach((_, j) => (b += given[j + 1]! * (cols.includes(j) ? pass.mean[j]! : pass.min[j]!)));
    start[0] = b;
    cols.forEach((j, k) => (start[k + 1] = given[j + 1]!));
  } else if (family === 'logistic') {
    const share = Math.min(Math.max(pass.ySum / pass.rows, 1e-12), 1 - 1e-12);
    start[0] = Math.log(share / (1 - share));
  }
  const scale = family === 'logistic' ? { C: opts.C, ridge: 1 } : { C: 1, ridge: opts.alpha ?? 0 };
  const toOriginal = (beta: Float64Array) => uncentre(beta, cols, pass.mean);
  const fit = await newtonOnEngine(
    (beta, what) => evaluateAt(ch, spec, family, cols, pass.mean, beta, scale, `${stepName}, ${what}`),
    start,
    toOriginal,
    { maxIter: opts.maxIter, tol: opts.tol ?? 1e-10 },
  );
  const orig = toOriginal(fit.beta);
  const coefficients = new Array<number>(spec.features.length).fill(0);
  cols.forEach((j, k) => (coefficients[j] = orig[k + 1]!));
  // the gradient in original coordinates: the intercept's entry is the same, a weight's entry
  // is its centred entry plus mean_j times the intercept's
  let gmax = 0;
  for (let a = 0; a < m; a++) {
    const ga = fit.ev.g[a]! + (a > 0 ? pass.mean[cols[a - 1]!]! * fit.ev.g[0]! : 0);
    gmax = Math.max(gmax, Math.abs(ga));
  }
  return {
    intercept: orig[0]!,
    coefficients,
    iterations: fit.iterations,
    gradientMaxNorm: gmax,
    objective: fit.ev.f,
    converged: fit.converged,
    featureMeans: pass.mean,
    rows: pass.rows,
    queries: fit.queries + 1 + (sampled ? 1 : 0),
  };
}

/**
 * Logistic regression on a table, the optimum of fitLogistic (same C, start, line search and
 * stopping rule). The target must hold 0, 1 or NULL.
 */
export function fitLogisticOnEngine(ch: ClickHouse, spec: EngineFitSpec, opts: FitOptions): Promise<EngineFit> {
  return fitOnEngine(ch, spec, 'logistic', opts);
}

/**
 * Least squares (ridge with alpha > 0, intercept unpenalised) on a table: Newton on a quadratic
 * reaches the optimum in one step; the second query confirms it (a step below tol).
 */
export function fitLinearOnEngine(ch: ClickHouse, spec: EngineFitSpec, opts: { alpha?: number; maxIter?: number; tol?: number } = {}): Promise<EngineFit> {
  return fitOnEngine(ch, spec, 'squared', { C: 1, maxIter: opts.maxIter ?? 10, tol: opts.tol, alpha: opts.alpha ?? 0 });
}
