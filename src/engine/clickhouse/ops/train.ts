/**
 * `mlops train` on a ClickHouse engine: the roles from the engine's column counts, then the
 * logistic or linear model fitted by Newton's method whose sums the engine computes (../solver.ts),
 * and the same model file as on DuckDB (inputs with their training means as fills, one linear
 * term per input, importances |coefficient| x the imputed column's standard deviation). Only
 * aggregates leave the engine. Boosted trees and text features are refused with the way out.
 */
import { ConfigError, ModelError } from '../../../errors.js';
import { phase } from '../../../progress.js';
import { linearTerms } from '../../../model/family.js';
import { MODEL_FORMAT, type InputSpec, type ModelFile } from '../../../model/modelfile.js';
import { decideRoles, featureColumns } from '../../../model/roles.js';
import type { TrainOptions } from '../../../ops/train.js';
import type { Config } from '../../../store/config.js';
import { aggregate, type Aggregate } from '../aggregate.js';
import { fitLinearOnEngine, fitLogisticOnEngine, type EngineFit } from '../solver.js';
import { chFloat, chIdent } from '../sql.js';
import { checkModelColumns, columnStatsOnEngine, dataLabel, dataTable, fingerprint, withClickHouse } from './project.js';

export interface EngineTrained {
  model: ModelFile;
  heldOut: number;
  unlabelled: number;
}

export async function fitOnClickHouse(cfg: Config, opts: Pick<TrainOptions, 'exclude'>): Promise<EngineTrained> {
  if (cfg.model.type === 'gradient_boosting') {
    throw new ConfigError(
      `${cfg.file}: "model.type" gradient_boosting does not run on the ClickHouse engine (its trees would need per-node histograms in SQL)`,
      'use "model": {"type": "logistic_regression"} (or linear_regression for a regression task) on ClickHouse, or the DuckDB engine for boosted trees',
    );
  }
  if (opts.exclude?.size) throw new ConfigError(`${cfg.file}: a holdout cannot be left out of a fit on the ClickHouse engine`, 'set "promotion": {"holdout": 0}');
  return withClickHouse(cfg, async (ch, engine) => {
    const where = dataLabel(engine);
    const { from, columns } = await dataTable(ch, engine, 'train');
    const names = new Set(columns.map((c) => c.name));
    if (!names.has(cfg.target)) throw new ConfigError(`${where}: no target column "${cfg.target}"`, `set "target" in config.json to the label column (columns: ${[...names].join(', ')})`);
    checkModelColumns({ target: cfg.target, features: cfg.features ?? [] }, names, where, false);
    const kinds = new Map(columns.map((c) => [c.name, c.kind]));
    if (kinds.get(cfg.target) === 'string') {
      throw new ConfigError(`${where}: target column "${cfg.target}" is text; the ClickHouse engine takes a numeric target (labels 0 and 1)`, 'store the target as numbers, or use the DuckDB engine');
    }
    const roles = decideRoles(await columnStatsOnEngine(ch, from, columns, 'train, column counts'), cfg);
    const features = featureColumns(roles, cfg, where);
    const text = features.find((f) => kinds.get(f.name) === 'string');
    if (text) {
      throw new ConfigError(
        `${where}: feature "${text.name}" is text (${text.role}); the ClickHouse engine fits numeric features only`,
        `list it in "exclude" in config.json, or use the DuckDB engine for text features`,
      );
    }
    if (cfg.task === 'classification' && cfg.positive_label !== null && cfg.positive_label !== '1') {
      throw new ConfigError(`${cfg.file}: "positive_label" ${JSON.stringify(cfg.positive_label)}: on the ClickHouse engine class 1 is the label 1`, 'remove positive_label, or recode the target so that 1 is the positive class');
    }
    const { sha256: dataSha } = await fingerprint(ch, from, columns, 'train');
    const spec = { from, target: cfg.target, features: features.map((f) => f.name), step: 'train' };
    phase('train: read data', 'the engine computes the sums');
    const fit: EngineFit =
      cfg.model.type === 'logistic_regression'
        ? await fitLogisticOnEngine(ch, spec, { C: cfg.model.C, maxIter: cfg.model.max_iter })
        : await fitLinearOnEngine(ch, spec, { alpha: cfg.model.alpha });
    if (cfg.model.type === 'logistic_regression' && !fit.converged) {
      throw new ModelError(
        `${where}: the solver did not converge in ${fit.iterations} iterations (max |gradient| ${fit.gradientMaxNorm.toExponential(2)})`,
        'raise "model": {"max_iter": ...} in config.json or check the features for extreme values',
      );
    }
    phase('train: fit', cfg.model.type === 'logistic_regression' ? `fitted in ${fit.iterations} Newton iterations (${fit.queries} queries)` : 'fitted by least squares');
    const inputs: InputSpec[] = features.map((f, j) =>
      f.role === 'boolean' ? { name: f.name, kind: 'boolean', fill: fit.featureMeans[j]!, text: false } : { name: f.name, kind: 'numeric', fill: fit.featureMeans[j]! },
    );
    const [total] = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${from}`, 'train, rows');
    const importances = await importancesOnEngine(ch, from, cfg.target, inputs, fit.coefficients, 'train, importances');
    const logistic = cfg.model.type === 'logistic_regression';
    const settings = logistic ? { C: cfg.model.C, max_iter: cfg.model.max_iter } : { alpha: cfg.model.alpha };
    const model: ModelFile = {
      format: MODEL_FORMAT,
      type: cfg.model.type,
      task: cfg.task,
      target: cfg.target,
      labels: cfg.task === 'classification' ? { negative: 0, positive: 1 } : null,
      threshold: cfg.model.threshold,
      features: inputs.map((i) => i.name),
      inputs,
      id_columns: roles.filter((r) => r.role === 'identifier').map((r) => r.name),
      linear: { intercept: fit.intercept, terms: linearTerms(inputs, cfg.model.type === 'linear_regression' && cfg.model.alpha === 0), coefficients: fit.coefficients },
      trees: null,
      importances,
      settings: { ...settings, max_levels: cfg.model.max_levels },
      iterations: logistic ? fit.iterations : 1,
      converged: true,
      gradient_max_norm: logistic ? fit.gradientMaxNorm : null,
      trained_at: new Date().toISOString(),
      training_rows: fit.rows,
      data_sha256: dataSha,
    };
    return { model, heldOut: 0, unlabelled: Number(total?.n ?? 0) - fit.rows };
  });
}

/**
 * Each input's share of |coefficient| x the standard deviation (population) of its imputed
 * column over the labelled rows, as fitModel computes them in Node. One query.
 */
async function importancesOnEngine(ch: Parameters<typeof aggregate>[0], from: string, target: string, inputs: readonly InputSpec[], coefficients: readonly number[], step: string): Promise<number[]> {
  const aggs: Record<string, Aggregate> = { n: ['sum', 'count()'] };
  inputs.forEach((s, j) => {
    const fill = chFloat(s.kind === 'categorical' ? 0 : s.fill);
    aggs[`v${j}`] = ['sum', `sumKahan(if(isNull(${chIdent(s.name)}), 0, (toFloat64(${chIdent(s.name)}) - ${fill}) * (toFloat64(${chIdent(s.name)}) - ${fill})))`];
  });
  const row = await aggregate(ch, from, aggs, step, { where: `isNotNull(${chIdent(target)})` });
  const n = row.n || 1;
  const imp = inputs.map((_, j) => Math.abs(coefficients[j]!) * Math.sqrt((row[`v${j}`] ?? 0) / n));
  const sum = imp.reduce((a, b) => a + b, 0);
  return imp.map((v) => (sum > 0 ? v / sum : 0));
}
