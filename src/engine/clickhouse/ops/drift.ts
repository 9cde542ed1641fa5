/**
 * `mlops drift`'s data drift on a ClickHouse engine: the deployed model's training data (the
 * engine's table while it still holds that data, else the copy ingest kept when it replaced the
 * table) against the current data (the table; local files, uploaded for the command; or the
 * logged live inputs), feature by feature from value counts the engine groups
 * (../stats.ts featureDriftOnEngine), with the verdicts of stats/datadrift.ts.
 */
import { join } from 'node:path';
import { StateError } from '../../../errors.js';
import { csvFilesAt } from '../../../data/csvfiles.js';
import { liveInputs, predictionsDir } from '../../../live/predlog.js';
import { loadModel, type ModelFile } from '../../../model/modelfile.js';
import type { DataDriftOptions, DataDriftResult } from '../../../ops/drift.js';
import type { Config } from '../../../store/config.js';
import { currentManifest, currentReleaseDir } from '../../../store/releases.js';
import { dataDriftSettings, judgeDataset, type FeatureDrift } from '../../../stats/datadrift.js';
import type { ClickHouseEngine } from '../../config.js';
import type { ClickHouse } from '../client.js';
import { chTable } from '../sql.js';
import { featureDriftFromCounts, featureDriftOnEngine, valueCountsOf, valueCountsOnEngine } from '../stats.js';
import { checkModelColumns, dataLabel, dataTable, dataTableName, fingerprint, referenceTableName, tableExists, withClickHouse, withUploaded } from './project.js';

/** Whether the engine's table holds exactly the deployed model's training data (nothing to compare). */
export async function currentIsTrainingDataOnClickHouse(cfg: Config, current: string | undefined): Promise<boolean> {
  if (current !== undefined) return false;
  const sha = (await currentManifest(cfg.prod_deployment_path))?.model.data_sha256;
  if (!sha) return false;
  return withClickHouse(cfg, async (ch, engine) => {
    const { from, columns } = await dataTable(ch, engine, 'drift');
    return (await fingerprint(ch, from, columns, 'drift')).sha256 === sha;
  });
}

/** The table holding the training data of a model: the data table while it is that data, else the kept copy. */
async function referenceTable(ch: ClickHouse, engine: ClickHouseEngine, model: ModelFile): Promise<{ from: string; name: string }> {
  const { table, from, columns } = await dataTable(ch, engine, 'drift, reference');
  if ((await fingerprint(ch, from, columns, 'drift, reference')).sha256 === model.data_sha256) return { from, name: `${engine.database}.${table}` };
  const kept = referenceTableName(engine, model.data_sha256);
  // the kept table's name carries the data's hash (ingest names it so)
  if (!engine.source_table && (await tableExists(ch, kept, 'drift, reference'))) return { from: chTable(ch.database, kept), name: `${engine.database}.${kept}` };
  throw new StateError(
    `clickhouse ${ch.url}: the deployed model's training data (${model.data_sha256.slice(0, 12)}) is no longer in ${engine.database}.${dataTableName(engine)}`,
    engine.source_table
      ? 'with source_table mlops keeps no copy of the training data: retrain and deploy on the table as it is now, or drift against a file with --current'
      : 'redeploy with `mlops run` (ingest keeps the table of a deployed release when it replaces it)',
  );
}

export async function dataDriftOnClickHouse(opts: DataDriftOptions): Promise<DataDriftResult> {
  const cfg = opts.config;
  const release = await currentReleaseDir(cfg.prod_deployment_path);
  if (!release) throw new StateError(`${cfg.prod_deployment_path}: nothing is deployed, so there is no reference data`, 'run `mlops deploy` first');
  const { model } = await loadModel(join(release, 'trainedmodel.json'));
  const settings = dataDriftSettings(cfg.drift);
  const categorical = (j: number) => model.inputs[j]!.kind === 'categorical';
  return withClickHouse(cfg, async (ch, engine) => {
    const ref = await referenceTable(ch, engine, model);
    const versus = async (current: string, curFrom: string): Promise<DataDriftResult> => {
      const features: FeatureDrift[] = [];
      for (const [j, f] of model.features.entries()) {
        features.push(await featureDriftOnEngine(ch, f, { from: ref.from }, { from: curFrom }, settings, { categorical: categorical(j) }));
      }
      const [rows] = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${curFrom}`, 'drift, current rows');
      return { reference: ref.name, current, current_rows: Number(rows!.n), ...judgeDataset(features, cfg.drift.dataset_share) };
    };
    if (opts.current === 'live') {
      const cur = await liveInputs(predictionsDir(cfg), model.features, { since: opts.since });
      const features: FeatureDrift[] = [];
      for (const [j, f] of model.features.entries()) {
        const refCounts = await valueCountsOnEngine(ch, ref.from, f, { step: `drift, reference ${f}` });
        features.push(featureDriftFromCounts(f, refCounts, valueCountsOf(cur.X[j]!), settings, categorical(j)));
      }
      const current = `live traffic${opts.since ? ` since ${opts.since.toISOString()}` : ''}`;
      return { reference: ref.name, current, current_rows: cur.rows, ...judgeDataset(features, cfg.drift.dataset_share) };
    }
    if (opts.current === undefined) {
      const { from, columns } = await dataTable(ch, engine, 'drift, current');
      checkModelColumns(model, new Set(columns.map((c) => c.name)), dataLabel(engine), false);
      return versus(dataLabel(engine), from);
    }
    const files = await csvFilesAt(opts.current);
    return withUploaded(ch, engine, files, { numeric: model.features, labels: null, step: 'drift' }, async (up) => {
      checkModelColumns(model, new Set(up.columns.map((c) => c.name)), opts.current!, false);
      return versus(opts.current!, up.from);
    });
  });
}
