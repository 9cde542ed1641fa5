/** mlops predict: predictions and probabilities of a model for any file with its feature columns. */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataError } from '../errors.js';
import { outputLabel, predictEncoded } from '../model/family.js';
import { readForModel } from './modeldata.js';
import type { Config } from '../store/config.js';
import { loadModelFrom, type ModelChoice } from './modelchoice.js';

export interface PredictOptions {
  config: Config;
  input: string;
  model?: ModelChoice;
}

export interface PredictResult {
  input: string;
  model: string;
  /** In the original label values (classification) or the predicted values (regression). */
  predictions: (number | string)[];
  /** Classification: P(positive class); regression: null. */
  probabilities: number[] | null;
  /** Id columns of the input, carried through. */
  ids: Record<string, (string | null)[]>;
  /** Values of categorical inputs not among the model's levels (scored as "other"). */
  unseen: Record<string, number>;
}

export async function predict(opts: PredictOptions): Promise<PredictResult> {
  const { model, path } = await loadModelFrom(opts.config, opts.model ?? 'production');
  const st = await stat(opts.input).catch(() => null);
  if (!st?.isFile()) throw new DataError(`${opts.input}: no such file`, 'pass --input PATH to a CSV file');
  const file = { path: opts.input, name: basename(opts.input), size: st.size };
  if (opts.config.engine.type === 'clickhouse') {
    const { predictionsOf, predictOnClickHouse } = await import('../engine/clickhouse/ops/score.js');
    const r = await predictOnClickHouse(opts.config, model, file);
    return { input: opts.input, model: path, ...predictionsOf(model, r.values), ids: r.ids, unseen: {} };
  }
  const ds = await readForModel(model, [file], { name: 'predict', target: false, ids: true });
  const out = Array.from(predictEncoded(model, ds.X));
  return {
    input: opts.input,
    model: path,
    predictions: out.map((p) => outputLabel(model, p)),
    probabilities: model.task === 'classification' ? out : null,
    ids: ds.ids,
    unseen: ds.unseen,
  };
}
