/**
 * The records the toolkit keeps beside its outputs: where they live and what they hold.
 * All are JSON lines, appended one record per event, read back by later verbs.
 */
import { join } from 'node:path';
import type { Config } from './config.js';
import { shape } from './statefile.js';

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

/**
 * An evaluation's metrics: the classification ones (f1, precision, recall, accuracy, roc_auc,
 * log_loss) or the regression ones (r2, sse, rmse, mae, mape), by the model's task.
 */
export type Metrics = Record<string, number | null>;

/**
 * What an evaluation's data is: `test` the reference test set (latestscore.txt, deploy and the
 * gate), `holdout` rows held out of training, `new-data` newly ingested data, `live` labelled
 * live traffic, `adhoc` anything else (`score --data`): printed and recorded, never a verdict.
 */
export type EvaluationRole = 'test' | 'holdout' | 'new-data' | 'live' | 'adhoc';
export const EVALUATION_ROLES: readonly EvaluationRole[] = ['test', 'holdout', 'new-data', 'live', 'adhoc'];

/** One evaluation of one model on one data set (a line of score_history.jsonl). */
export interface ScoreRecord {
  timestamp: string;
  /** How the model was chosen ("trained", "champion", a version name or a file path). */
  model: string;
  model_sha256: string;
  /** Registry version of the model, or null for a file outside the registry. */
  version?: number | null;
  role?: EvaluationRole;
  /** Hash of the data: of every file's name and SHA-256 (dataHash). */
  data_sha256?: string;
  data_files: { name: string; sha256: string; rows: number }[];
  rows: number;
  metrics: Metrics;
  seconds: number;
}

/** What a line of each log must look like (the one reader, statefile.ts, checks them). */
export const SCORE_RECORD = shape<ScoreRecord>('score record', { timestamp: 'string', model_sha256: 'string', metrics: 'object', rows: 'number', data_files: 'array' });
export const INGESTION_RECORD = shape<IngestionRecord>('ingestion record', { timestamp: 'string', input_folder: 'string', files: 'array', output_sha256: 'string', seconds: 'number' });
export const TRAINING_RECORD = shape<TrainingRecord>('training record', { timestamp: 'string', model_sha256: 'string', seconds: 'number' });

export const paths = (cfg: Config) => ({
  finalData: join(cfg.output_folder_path, FILES.finalData),
  ingestedFiles: join(cfg.output_folder_path, FILES.ingestedFiles),
  ingestionLog: join(cfg.output_folder_path, FILES.ingestionLog),
  model: join(cfg.output_model_path, FILES.model),
  trainLog: join(cfg.output_model_path, FILES.trainLog),
  latestScore: join(cfg.output_model_path, FILES.latestScore),
  scoreHistory: join(cfg.output_model_path, FILES.scoreHistory),
});
