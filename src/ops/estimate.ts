/**
 * mlops estimate --data FILE: the model's performance on data without labels (CBPE, see
 * live/cbpe.ts), fitted on the reference test set, per chunk of rows, with the alert bands. When
 * the data has a label for every row, the realized metrics are shown beside the estimates.
 */
import { DataError } from '../errors.js';
import { csvFilesAt, readCsvHeader } from '../data/csvfiles.js';
import { predictEncoded } from '../model/family.js';
import { readForModel } from './modeldata.js';
import type { Config } from '../store/config.js';
import { estimateChunks, fitCbpe, type CbpeModel, type ChunkResult } from '../live/cbpe.js';
import { loadModelFrom, type ModelChoice } from './modelchoice.js';

export interface EstimateOptions {
  config: Config;
  /** File or folder of CSV files to estimate on. */
  data: string;
  /** Default the champion. */
  model?: ModelChoice;
  /** Rows per chunk (default: a tenth of the reference test set, at least 10). */
  chunkSize?: number;
}

export interface EstimateResult {
  model: string;
  version: number | null;
  rows: number;
  labelled: boolean;
  cbpe: CbpeModel;
  chunks: ChunkResult[];
}

export async function estimate(o: EstimateOptions): Promise<EstimateResult> {
  const cfg = o.config;
  const choice = o.model ?? 'champion';
  const { model, version } = await loadModelFrom(cfg, choice);
  if (model.task !== 'classification') throw new DataError(`${choice}: performance estimation (CBPE) is for classifiers; this model is a ${model.type}`, 'estimate a classification model');
  const ref = await readForModel(model, await csvFilesAt(cfg.test_data_path), { name: 'reference', target: true });
  const chunkSize = o.chunkSize ?? Math.max(10, Math.floor(ref.rows / 10));
  const cbpe = fitCbpe(predictEncoded(model, ref.X), ref.y!, { threshold: model.threshold, chunk_size: chunkSize });
  const files = await csvFilesAt(o.data);
  const ds = await readForModel(model, files, { name: 'analysis', target: false });
  if (ds.rows === 0) throw new DataError(`${o.data}: no rows`, 'estimate on a file with rows');
  let labels: Float64Array | null = null;
  const headers = await Promise.all(files.map((f) => readCsvHeader(f.path)));
  if (headers.every((h) => h.includes(model.target))) {
    const labelled = await readForModel(model, files, { name: 'labelled', target: true });
    if (labelled.unlabelled === 0) labels = labelled.y;
  }
  return { model: choice, version, rows: ds.rows, labelled: labels !== null, cbpe, chunks: estimateChunks(cbpe, predictEncoded(model, ds.X), labels) };
}
