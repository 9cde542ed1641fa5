/** mlops deploy: promote model + score + ingestion record to production as one atomic release. */
import { copyFile, link, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { parseModelText } from '../model/modelfile.js';
import { readJsonLines, sha256File, sha256Text, syncTree } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { pausePoint } from '../store/pause.js';
import { paths, type IngestionRecord, type ScoreRecord } from '../store/records.js';
import {
  activateRelease,
  currentVersion,
  listReleases,
  publishRelease,
  releaseName,
  removeStaleStaging,
  stagingDir,
  type ReleaseManifest,
} from '../store/releases.js';

export interface DeployOptions {
  config: Config;
}

export interface DeployResult {
  version: number;
  release: string;
  previous: number | null;
  score: number;
  manifest: ReleaseManifest;
}

/** The copy of the training data kept with each release (the data drift reference). */
export const TRAINING_DATA = 'trainingdata.csv';

export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const cfg = opts.config;
  const p = paths(cfg);
  const prod = cfg.prod_deployment_path;
  const modelText = await readFile(p.model, 'utf8').catch(() => {
    throw new StateError(`${p.model}: no trained model to deploy`, 'run `mlops train` and `mlops score` first');
  });
  const model = parseModelText(modelText, p.model);
  const modelSha = sha256Text(modelText);
  const scoreText = await readFile(p.latestScore, 'utf8').catch(() => {
    throw new StateError(`${p.latestScore}: no score for the trained model`, 'run `mlops score` first');
  });
  const ingestedText = await readFile(p.ingestedFiles, 'utf8').catch(() => {
    throw new StateError(`${p.ingestedFiles}: no ingestion record`, 'run `mlops ingest` first');
  });
  // The score must describe this model: the last trained-model score in the history must carry
  // this model's hash, and latestscore.txt must not be older than the model file.
  const history = await readJsonLines<ScoreRecord>(p.scoreHistory);
  const last = history.filter((r) => r.model === 'trained').at(-1);
  const [mst, sst] = await Promise.all([stat(p.model), stat(p.latestScore)]);
  if (!last || last.model_sha256 !== modelSha || sst.mtimeMs < mst.mtimeMs) {
    throw new StateError(
      `${p.latestScore}: is older than ${p.model} (the score was not recomputed after retraining)`,
      'run `mlops score`, then `mlops deploy`',
    );
  }
  const score = Number(scoreText.trim());
  const ingestions = await readJsonLines<IngestionRecord>(p.ingestionLog);
  const ingestion = ingestions.filter((r) => r.output_sha256 === model.data_sha256).at(-1) ?? null;

  await removeStaleStaging(prod);
  const staging = await stagingDir(prod);
  const files: ReleaseManifest['files'] = {};
  const put = async (name: string, text: string) => {
    await writeFile(join(staging, name), text);
    files[name] = { sha256: sha256Text(text), size: Buffer.byteLength(text) };
  };
  await put('trainedmodel.json', modelText);
  await put('latestscore.txt', scoreText);
  await put('ingestedfiles.txt', ingestedText);
  // Keep the training data with the release when it is the data the model was fitted on; a
  // hard link costs nothing because finaldata.csv is only ever replaced by rename, never edited.
  const dataSha = await sha256File(p.finalData).catch(() => null);
  if (dataSha === model.data_sha256) {
    await link(p.finalData, join(staging, TRAINING_DATA)).catch(() => copyFile(p.finalData, join(staging, TRAINING_DATA)));
    files[TRAINING_DATA] = { sha256: dataSha, size: (await stat(p.finalData)).size };
  }
  const previous = await currentVersion(prod);
  const version = ((await listReleases(prod)).at(-1) ?? 0) + 1;
  const manifest: ReleaseManifest = {
    version,
    name: releaseName(version),
    timestamp: new Date().toISOString(),
    files,
    score,
    metrics: { ...last.metrics },
    model: {
      trained_at: model.trained_at,
      features: model.features,
      target: model.target,
      data_sha256: model.data_sha256,
      training_rows: model.training_rows,
    },
    ingestion: ingestion
      ? { timestamp: ingestion.timestamp, input_folder: ingestion.input_folder, files: ingestion.files }
      : null,
  };
  // The manifest is written last: a release folder without one is incomplete and ignored.
  await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  await syncTree(staging);
  await pausePoint('deploy:staged');
  const release = await publishRelease(prod, staging, version);
  await pausePoint('deploy:published');
  await activateRelease(prod, version);
  return { version, release, previous, score, manifest };
}

export interface RollbackResult {
  from: number;
  to: number;
}

/** Make the release before the current one current again. */
export async function rollback(opts: DeployOptions): Promise<RollbackResult> {
  const prod = opts.config.prod_deployment_path;
  const cur = await currentVersion(prod);
  if (cur === null) throw new StateError(`${prod}: nothing is deployed`, 'there is no release to roll back');
  const earlier = (await listReleases(prod)).filter((v) => v < cur);
  const to = earlier.at(-1);
  if (to === undefined) {
    throw new StateError(`${prod}: ${releaseName(cur)} is the first release`, 'there is no earlier release to roll back to');
  }
  await activateRelease(prod, to);
  return { from: cur, to };
}
