/** mlops train: fit the configured model type on finaldata.csv, register it, write trainedmodel.json. */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataError, StateError } from '../errors.js';
import { phase } from '../progress.js';
import type { Frame } from '../data/frame.js';
import { decideLabels } from '../data/labels.js';
import { withFrame } from '../data/read.js';
import { buildInputs, encodeFrame, fitModel, setFills } from '../model/family.js';
import { MODEL_FORMAT, type ModelFile } from '../model/modelfile.js';
import { decideRoles, featureColumns } from '../model/roles.js';
import { appendJsonLine, sha256Text, writeFileAtomic } from '../store/atomic.js';
import { readLog } from '../store/statefile.js';
import { currentChampion } from '../store/champion.js';
import { textColumns, type Config } from '../store/config.js';
import { INGESTION_RECORD, paths, type TrainingRecord } from '../store/records.js';
import { appendEvent, registerModel, versionModelPath, versionName, type VersionSummary } from '../store/registry.js';

export interface TrainOptions {
  config: Config;
  /** Free text kept with the registered version. */
  note?: string | null;
  tags?: Record<string, string>;
  /** Rows to leave out of the fit (the loop's holdout): keys from holdoutKey. */
  exclude?: ReadonlySet<string> | null;
}

export interface TrainResult {
  model: ModelFile;
  output: string;
  modelSha256: string;
  /** Registry version, and whether this training created it (false: identical content existed). */
  version: number;
  created: boolean;
  /** Rows left out of the fit because they are in the holdout. */
  heldOut: number;
  unlabelledRows: number;
  seconds: number;
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const cfg = opts.config;
  const p = paths(cfg);
  const { model, heldOut, unlabelled } = cfg.engine.type === 'clickhouse' ? await (await import('../engine/clickhouse/ops/train.js')).fitOnClickHouse(cfg, opts) : await fitOnFinalData(cfg, opts);
  let text = JSON.stringify(model, null, 2) + '\n';
  const reg = await registerTrained(cfg, text, model, 'train', { note: opts.note ?? null, tags: opts.tags ?? {}, heldOut });
  // Identical content is the same version: the file keeps the registered bytes.
  text = await readFile(versionModelPath(cfg, reg.record.version), 'utf8');
  await writeFileAtomic(p.model, text);
  const seconds = Math.round((performance.now() - t0) * 10) / 1e4;
  const modelSha256 = sha256Text(text);
  const record: TrainingRecord = {
    timestamp: model.trained_at,
    model_sha256: modelSha256,
    data_sha256: model.data_sha256,
    training_rows: model.training_rows,
    iterations: model.iterations,
    seconds,
  };
  await appendJsonLine(p.trainLog, record);
  return {
    model: JSON.parse(text) as ModelFile,
    output: p.model,
    modelSha256,
    version: reg.record.version,
    created: reg.created,
    heldOut,
    unlabelledRows: unlabelled,
    seconds,
  };
}

/** The model fitted on finaldata.csv (the DuckDB engine). */
async function fitOnFinalData(cfg: Config, opts: TrainOptions): Promise<{ model: ModelFile; heldOut: number; unlabelled: number }> {
  const p = paths(cfg);
  const st = await stat(p.finalData).catch(() => null);
  if (!st) throw new StateError(`${p.finalData}: no ingested data`, 'run `mlops ingest` first');
  const file = { path: p.finalData, name: basename(p.finalData), size: st.size };

  const where = p.finalData;
  return withFrame(
    [file],
    { name: 'train', numeric: cfg.task === 'regression' ? [cfg.target] : [], text: textColumns(cfg), labels: cfg.task === 'classification' ? cfg.target : null },
    async (frame) => {
      const names = frame.table.columns.map((c) => c.name);
      if (!names.includes(cfg.target)) {
        throw new DataError(`${where}: no target column "${cfg.target}"`, `set "target" in config.json to the label column (columns: ${names.join(', ')})`);
      }
      const missing = (cfg.features ?? []).filter((f) => !names.includes(f));
      if (missing.length) {
        throw new DataError(`${where}: missing feature column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`, 'the data must hold every column the model was trained on');
      }
      const roles = decideRoles(await frame.stats(), cfg);
      const features = featureColumns(roles, cfg, where);
      const kinds = new Map(frame.table.columns.map((c) => [c.name, c.kind as string]));
      const maxLevels = cfg.model.type === 'gradient_boosting' ? cfg.model.max_bins - 1 : cfg.model.max_levels;
      const inputs = await buildInputs(features, frame, kinds, maxLevels);
      const labels = cfg.task === 'classification' ? decideLabels(await frame.distinct(cfg.target, 3), cfg.positive_label, cfg.target, where) : null;
      const yAll = labels ? await frame.labels(cfg.target, labels) : (await frame.numeric([cfg.target]))[0]!;
      let { X } = await encodeFrame(inputs, frame);
      phase(`read: ${file.name}`, `read ${frame.table.rows} rows`);
      // rows without a target, and the loop's holdout, are left out of the fit
      const keys = opts.exclude?.size ? await holdoutKeys(frame) : null;
      // (a 0/1 mark per row, not an array of a million row numbers, when every row is kept)
      const dropped = new Uint8Array(yAll.length);
      let unlabelledRows = 0;
      let held = 0;
      for (let i = 0; i < yAll.length; i++) {
        if (yAll[i] !== yAll[i]) unlabelledRows++;
        else if (keys && opts.exclude!.has(keys[i]!)) held++;
        else continue;
        dropped[i] = 1;
      }
      const kept = yAll.length - unlabelledRows - held;
      const pick = (col: Float64Array) => {
        if (kept === col.length) return col;
        const out = new Float64Array(kept);
        for (let i = 0, k = 0; i < col.length; i++) if (!dropped[i]) out[k++] = col[i]!;
        return out;
      };
      X = X.map(pick);
      const y = pick(yAll);
      if (y.length === 0) throw new DataError(`${where}: no rows with a label in "${cfg.target}"`, 'ingest data that has labels');
      if (labels) {
        let positives = 0;
        for (let i = 0; i < y.length; i++) positives += y[i]!;
        if (positives === 0 || positives === y.length) {
          throw new DataError(
            `${where}: target "${cfg.target}" has a single class (${JSON.stringify(positives === 0 ? labels.negative : labels.positive)}) in all ${y.length} rows`,
            'training needs examples of both classes',
          );
        }
      }
      setFills(inputs, X, where);
      const fit = await fitModel({ task: cfg.task, settings: cfg.model, inputs, X, y, where });
      phase('train: fit', cfg.model.type === 'gradient_boosting' ? `fitted ${fit.iterations} trees` : cfg.model.type === 'logistic_regression' ? `fitted in ${fit.iterations} Newton iterations` : 'fitted by least squares');
      const m: ModelFile = {
        format: MODEL_FORMAT,
        type: cfg.model.type,
        task: cfg.task,
        target: cfg.target,
        labels,
        threshold: cfg.model.threshold,
        features: inputs.map((i) => i.name),
        inputs,
        id_columns: roles.filter((r) => r.role === 'identifier').map((r) => r.name),
        ...fit,
        trained_at: new Date().toISOString(),
        training_rows: y.length,
        data_sha256: frame.table.files[0]!.sha256,
      };
      return { model: m, heldOut: held, unlabelled: unlabelledRows };
    },
  );
}

/** The key of a row for the holdout split: the text of its feature values and label. */
export function holdoutKey(values: readonly (string | null)[]): string {
  return values.map((v) => v ?? '').join('\u0001');
}

/** Every row's cells as text, in column-name order (numbers in JavaScript's form, so both readers agree). */
export async function rowCells(frame: Frame): Promise<{ columns: string[]; cells: (string | null)[][] }> {
  const columns = frame.table.columns.map((c) => c.name).sort();
  const cells = await Promise.all(
    columns.map(async (c) => {
      if (frame.table.columns.find((x) => x.name === c)!.kind === 'string') return frame.text(c);
      const [v] = await frame.numeric([c]);
      return Array.from(v!, (x) => (x === x ? String(x) : null));
    }),
  );
  return { columns, cells };
}

/** Every row's holdout key: the text of all its cells. */
export async function holdoutKeys(frame: Frame): Promise<string[]> {
  const { cells } = await rowCells(frame);
  return Array.from({ length: frame.table.rows }, (_, i) => holdoutKey(cells.map((c) => c[i]!)));
}

/**
 * Register a model file as a version (identical content: the existing version), with the
 * ingestion it came from and the champion it was trained to replace; records the event.
 */
export async function registerTrained(
  cfg: Config,
  text: string,
  model: ModelFile,
  source: 'train' | 'deploy',
  extra: { note?: string | null; tags?: Record<string, string>; heldOut?: number } = {},
): Promise<{ record: VersionSummary; created: boolean }> {
  const ingestion = (await readLog(paths(cfg).ingestionLog, INGESTION_RECORD)).filter((r) => r.output_sha256 === model.data_sha256).at(-1);
  const champion = await currentChampion(cfg).catch(() => null);
  const reg = await registerModel(cfg, {
    modelText: text,
    model_type: model.type,
    target: model.target,
    features: model.features,
    settings: { type: model.type, task: model.task, ...model.settings, threshold: model.threshold, held_out_rows: extra.heldOut ?? 0 },
    training_data: { sha256: model.data_sha256, rows: model.training_rows },
    ingestion: ingestion ? { timestamp: ingestion.timestamp, input_folder: ingestion.input_folder, output_sha256: ingestion.output_sha256 } : null,
    replaces: champion?.version ?? null,
    tags: extra.tags,
    note: extra.note,
    source,
  });
  if (reg.created) {
    await appendEvent(cfg, {
      kind: 'registered',
      version: reg.record.version,
      reason: `${source === 'train' ? 'trained' : 'registered on deploy'} on ${model.training_rows} rows${champion ? ` to replace ${versionName(champion.version)}` : ''}`,
      details: extra.note ? { note: extra.note } : undefined,
    });
  }
  return reg;
}
