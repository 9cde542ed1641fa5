/** mlops score: metrics of a model on the test data; latestscore.txt and the score history. */
import { performance } from 'node:perf_hooks';
import { DataError } from '../errors.js';
import { csvFilesAt } from '../data/csvfiles.js';
import { readDataset } from '../data/dataset.js';
import { classificationMetrics, type Confusion } from '../model/metrics.js';
import { modelProba } from '../model/modelfile.js';
import { appendJsonLine, sha256Text, writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { paths, type ScoreRecord } from '../store/records.js';
import { loadModelFrom, type ModelChoice } from './modelchoice.js';

export interface ScoreOptions {
  config: Config;
  /** Which model: the trained one (default), the production one, or a file path. */
  model?: ModelChoice;
  /** Score on this file or folder instead of test_data_path. */
  dataFolder?: string;
  /** Do not write latestscore.txt or the history (used for gates and drift checks). */
  dryRun?: boolean;
}

export interface ScoreResult extends ScoreRecord {
  confusion: Confusion;
  /** Where latestscore.txt was written, or null when it was not. */
  latestScore: string | null;
}

export async function score(opts: ScoreOptions): Promise<ScoreResult> {
  const t0 = performance.now();
  const cfg = opts.config;
  const choice = opts.model ?? 'trained';
  const { model, text, path: modelPath } = await loadModelFrom(cfg, choice);
  const folder = opts.dataFolder ?? cfg.test_data_path;
  const csv = await csvFilesAt(folder);
  const ds = await readDataset(csv, { target: model.target, features: model.features, name: 'test' });
  if (ds.rows === 0) throw new DataError(`${folder}: no test rows with a label in "${model.target}"`, 'add labelled rows');
  const proba = modelProba(model, ds.X);
  const { confusion, ...metrics } = classificationMetrics(ds.y!, proba, model.threshold);
  const record: ScoreRecord = {
    timestamp: new Date().toISOString(),
    model: choice === 'trained' || choice === 'production' ? choice : modelPath,
    model_sha256: sha256Text(text),
    data_files: ds.table.files.map((f) => ({ name: f.name, sha256: f.sha256, rows: f.rows })),
    rows: ds.rows,
    metrics,
    seconds: Math.round((performance.now() - t0) * 10) / 1e4,
  };
  const p = paths(cfg);
  let latestScore: string | null = null;
  if (!opts.dryRun) {
    // latestscore.txt describes the trained model, the one `mlops deploy` promotes.
    if (choice === 'trained') {
      await writeFileAtomic(p.latestScore, `${metrics.f1}\n`);
      latestScore = p.latestScore;
    }
    await appendJsonLine(p.scoreHistory, record);
  }
  return { ...record, confusion, latestScore };
}
