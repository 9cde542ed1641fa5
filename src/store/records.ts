/**
 * The records the toolkit keeps beside its outputs: where they live and what they hold.
 * All are JSON lines, appended one record per event, read back by later verbs.
 */
import { join } from 'node:path';
import type { Config } from './config.js';

export const FILES = {
  finalData: 'finaldata.csv',
  ingestedFiles: 'ingestedfiles.txt',
  ingestionLog: 'ingestion_log.jsonl',
  model: 'trainedmodel.json',
  trainLog: 'training_log.jsonl',
  latestScore: 'latestscore.txt',
  scoreHistory: 'score_history.jsonl',
  runsLog: 'runs.jsonl',
  runLock: '.mlops-run.lock',
} as const;

export interface IngestedFileRecord {
  name: string;
  size: number;
  sha256: string;
  rows: number;
}

export interface ColumnSummary {
  name: string;
  kind: 'integer' | 'float' | 'string';
  /** Missing (empty, NA, NaN, null, ...) cells. */
  missing: number;
  /** Numeric columns: mean, sample standard deviation (n-1), min and max of the values read. */
  mean?: number | null;
  std?: number | null;
  min?: number | null;
  max?: number | null;
}

export interface IngestionRecord {
  timestamp: string;
  input_folder: string;
  files: IngestedFileRecord[];
  rows_read: number;
  duplicates_dropped: number;
  rows_written: number;
  columns: ColumnSummary[];
  output_sha256: string;
  seconds: number;
}

export interface TrainingRecord {
  timestamp: string;
  model_sha256: string;
  data_sha256: string;
  training_rows: number;
  iterations: number;
  seconds: number;
}

export interface Metrics {
  f1: number;
  precision: number;
  recall: number;
  accuracy: number;
  roc_auc: number | null;
  log_loss: number;
}

export interface ScoreRecord {
  timestamp: string;
  model: string;
  model_sha256: string;
  data_files: { name: string; sha256: string; rows: number }[];
  rows: number;
  metrics: Metrics;
  seconds: number;
}

export const paths = (cfg: Config) => ({
  finalData: join(cfg.output_folder_path, FILES.finalData),
  ingestedFiles: join(cfg.output_folder_path, FILES.ingestedFiles),
  ingestionLog: join(cfg.output_folder_path, FILES.ingestionLog),
  model: join(cfg.output_model_path, FILES.model),
  trainLog: join(cfg.output_model_path, FILES.trainLog),
  latestScore: join(cfg.output_model_path, FILES.latestScore),
  scoreHistory: join(cfg.output_model_path, FILES.scoreHistory),
});
