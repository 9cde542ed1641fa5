/**
 * mlops score: metrics of a model on some data, recorded as an evaluation tied to the model
 * version, the data's hash and the data's role. Only an evaluation of the trained model on the
 * reference test set writes latestscore.txt; `--data X` is an ad-hoc look that is printed and
 * recorded and changes nothing else.
 */
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { ConfigError, DataError } from '../errors.js';
import { csvFilesAt } from '../data/csvfiles.js';
import { predictEncoded } from '../model/family.js';
import { classificationMetrics, regressionMetrics, type Confusion } from '../model/metrics.js';
import { readForModel } from './modeldata.js';
import { appendJsonLine, sha256Text, writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { dataHash } from '../store/evaluations.js';
import { appendEvent } from '../store/registry.js';
import { paths, type EvaluationRole, type ScoreRecord } from '../store/records.js';
import { loadModelFrom, type ModelChoice } from './modelchoice.js';
import type { ModelFile } from '../model/modelfile.js';

export interface ScoreOptions {
  config: Config;
  /** Which model (see ModelChoice); default the trained one. */
  model?: ModelChoice;
  /** Score on this file or folder instead of test_data_path. */
  dataFolder?: string;
  /** Role of the data; default `test` for test_data_path, `adhoc` for any other data. */
  role?: EvaluationRole;
  /** Record nothing (the report's look at the champion). */
  dryRun?: boolean;
}

export interface ScoreResult extends ScoreRecord {
  version: number | null;
  role: EvaluationRole;
  data_sha256: string;
  /** Classification only. */
  confusion: Confusion | null;
  /** The primary metric (config "metric") and its value. */
  metric: string;
  value: number | null;
  /** Where latestscore.txt was written, or null when it was not. */
  latestScore: string | null;
}

export async function score(opts: ScoreOptions): Promise<ScoreResult> {
  const t0 = performance.now();
  const cfg = opts.config;
  const choice = opts.model ?? 'trained';
  const { model, text, version } = await loadModelFrom(cfg, choice);
  const folder = opts.dataFolder ?? cfg.test_data_path;
  const role: EvaluationRole = opts.role ?? (opts.dataFolder === undefined ? 'test' : 'adhoc');
  if (role === 'test' && resolve(folder) !== resolve(cfg.test_data_path)) {
    throw new ConfigError(`${folder}: the role "test" is the reference test set (${cfg.test_data_path}) only`, 'use --role new-data, holdout or adhoc for other data');
  }
  const ev = cfg.engine.type === 'clickhouse' ? await (await import('../engine/clickhouse/ops/score.js')).evaluateOnClickHouse(cfg, model, folder) : await evaluateFiles(model, folder);
  const { metrics, confusion } = ev;
  const metric = Object.hasOwn(metrics, cfg.metric) ? cfg.metric : model.task === 'regression' ? 'r2' : 'f1';
  const value = metrics[metric] ?? null;
  const record: ScoreRecord = {
    timestamp: new Date().toISOString(),
    model: choice,
    model_sha256: sha256Text(text),
    version,
    role,
    data_sha256: ev.data_sha256,
    data_files: ev.dataFiles,
    rows: ev.rows,
    metrics,
    seconds: Math.round((performance.now() - t0) * 10) / 1e4,
  };
  const p = paths(cfg);
  let latestScore: string | null = null;
  if (!opts.dryRun) {
    // latestscore.txt: the trained model (the one `mlops deploy` promotes) on the reference test set.
    if (choice === 'trained' && role === 'test') {
      await writeFileAtomic(p.latestScore, `${value}\n`);
      latestScore = p.latestScore;
    }
    await appendJsonLine(p.scoreHistory, record);
    if (version !== null) {
      await appendEvent(cfg, {
        kind: 'evaluated',
        version,
        reason: `${role} data (${ev.rows} rows, ${record.data_sha256!.slice(0, 12)}): ${metric} ${value}`,
        details: { role, data_sha256: record.data_sha256, rows: ev.rows, metrics },
      });
    }
  }
  return { ...record, version, role, data_sha256: record.data_sha256!, confusion, metric, value, latestScore };
}

/** A model's metrics on some data, and which data it was. */
export interface Evaluated {
  rows: number;
  metrics: Record<string, number | null>;
  /** Classification only. */
  confusion: Confusion | null;
  dataFiles: { name: string; sha256: string; rows: number }[];
  data_sha256: string;
}

/** The metrics of a model on the labelled rows of data files, read and predicted in Node. */
async function evaluateFiles(model: ModelFile, folder: string): Promise<Evaluated> {
  const csv = await csvFilesAt(folder);
  const ds = await readForModel(model, csv, { name: 'test', target: true });
  if (ds.rows === 0) throw new DataError(`${folder}: no test rows with a label in "${model.target}"`, 'add labelled rows');
  const pred = predictEncoded(model, ds.X);
  let confusion: Confusion | null = null;
  let metrics: Record<string, number | null>;
  if (model.task === 'classification') {
    const { confusion: c, ...m } = classificationMetrics(ds.y!, pred, model.threshold);
    confusion = c;
    metrics = m;
  } else metrics = regressionMetrics(ds.y!, pred);
  const dataFiles = ds.table.files.map((f) => ({ name: f.name, sha256: f.sha256, rows: f.rows }));
  return { rows: ds.rows, metrics, confusion, dataFiles, data_sha256: dataHash(dataFiles) };
}
