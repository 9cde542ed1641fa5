/**
 * mlops promote: move an alias to a version. For `champion` that is a deployment: the version
 * passes the promotion gate (or is forced, and recorded as forced), its release is published
 * (or an earlier release of the same version reused: never a byte-identical duplicate) and
 * production's `current` is switched atomically; then the event is recorded. Everything that
 * changes production or the aliases runs under the registry mutex, so two promotions, a deploy
 * and a run never interleave.
 */
import { copyFile, link, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, EXIT_CODES, StateError, MlopsError } from '../errors.js';
import { sha256Text, syncTree } from '../store/atomic.js';
import { copyPathFor, csvSha256 } from '../data/columnar.js';
import { readLog } from '../store/statefile.js';
import { currentChampion, releaseVersion, syncRegistry, type Champion } from '../store/champion.js';
import type { Config } from '../store/config.js';
import { latestOn, readEvaluations, testDataHash, type Evaluation } from '../store/evaluations.js';
import { pausePoint } from '../store/pause.js';
import { INGESTION_RECORD, paths, type IngestionRecord } from '../store/records.js';
import {
  appendEvent,
  championStack,
  getVersion,
  readEvents,
  versionModelPath,
  versionName,
  withRegistryLock,
  writeAlias,
  type VersionRecord,
} from '../store/registry.js';
import {
  activateRelease,
  currentVersion,
  listReleases,
  publishRelease,
  releaseName,
  removeStaleStaging,
  stagingDir,
  readManifest as readReleaseManifest,
  TRAINING_DATA,
  type ReleaseManifest,
} from '../store/releases.js';
import { warn } from '../warnings.js';
import { runGate, type GateResult } from './gate.js';

/** The candidate failed the promotion gate: exit 4, like a run whose candidate was rejected. */
export class GateRejectedError extends MlopsError {
  override readonly exitCode = EXIT_CODES.drift;
}

export interface PromoteOptions {
  config: Config;
  version: number;
  /** Default `champion`. */
  alias?: string;
  /** Promote to champion even when the gate fails (recorded as forced). */
  force?: boolean;
  /** A gate the caller already ran (the loop), instead of running it here. */
  gate?: GateResult | null;
  reason?: string;
}

export interface PromoteResult {
  version: number;
  name: string;
  alias: string;
  previous: number | null;
  /** False when the alias already pointed at the version. */
  changed: boolean;
  forced: boolean;
  gate: GateResult | null;
  /** Champion only: the production release that serves it, and the one before. */
  release: ReleaseManifest | null;
  previousRelease: number | null;
}

const ALIAS = /^[A-Za-z][\w-]{0,63}$/;

export async function promote(opts: PromoteOptions): Promise<PromoteResult> {
  const cfg = opts.config;
  const alias = opts.alias ?? 'champion';
  if (!ALIAS.test(alias) || alias === 'production' || alias === 'trained') {
    throw new StateError(`alias ${JSON.stringify(alias.slice(0, 64))}: not a usable alias name`, 'use letters, digits, - and _, starting with a letter (not "production" or "trained")');
  }
  await syncRegistry(cfg);
  const rec = await getVersion(cfg, opts.version);
  if (alias !== 'champion') {
    return withRegistryLock(cfg, async () => {
      const previous = await writeAlias(cfg, alias, rec.version);
      if (previous !== rec.version) {
        await appendEvent(cfg, { kind: 'alias_set', version: rec.version, alias, previous, reason: opts.reason ?? `${alias} set by hand` });
      }
      return { version: rec.version, name: rec.name, alias, previous, changed: previous !== rec.version, forced: false, gate: null, release: null, previousRelease: null };
    });
  }
  const unchanged = (champ: Champion): PromoteResult =>
    ({ version: rec.version, name: rec.name, alias, previous: rec.version, changed: false, forced: false, gate: null, release: champ.manifest, previousRelease: null });
  const judged = async (champion: number | null, given: GateResult | null | undefined): Promise<GateResult> => {
    const gate = given ?? (await runGate({ config: cfg, candidate: rec.version, champion }));
    if (!gate.passed && !opts.force) {
      await appendEvent(cfg, { kind: 'rejected', version: rec.version, alias, previous: champion, reason: gate.summary, details: { gate } });
      throw new GateRejectedError(`${rec.name} failed the promotion gate: ${gate.summary}`, 'improve the model, change "promotion" in config.json, or pass --force');
    }
    return gate;
  };
  const champ = await currentChampion(cfg);
  if (champ?.version === rec.version) return unchanged(champ);
  // The gate is judged before taking the mutex (scoring can take a while) and again inside it
  // when the champion changed meanwhile (another promote, deploy or run won the race).
  let gate = await judged(champ?.version ?? null, opts.gate?.champion_version === (champ?.version ?? null) ? opts.gate : null);
  const evals = await readEvaluations(cfg);
  const testEval = latestOn(evals, rec.version, await testDataHash(cfg));
  if (!testEval) throw new StateError(`${rec.name} has no score on the reference test set`, 'run `mlops score --model ' + rec.name + '`');
  return withRegistryLock(cfg, async () => {
    const prod = cfg.prod_deployment_path;
    const previousRelease = await currentVersion(prod);
    const before = await currentChampion(cfg);
    if (before?.version === rec.version) return unchanged(before);
    if ((before?.version ?? null) !== gate.champion_version) gate = await judged(before?.version ?? null, null);
    const forced = !gate.passed;
    const manifest = await releaseFor(cfg, rec, testEval, forced);
    await pausePoint('promote:published');
    await activateRelease(prod, manifest.version);
    await pausePoint('promote:activated');
    await appendEvent(cfg, {
      kind: 'promoted',
      version: rec.version,
      alias,
      previous: before?.version ?? null,
      forced,
      reason: opts.reason ?? (forced ? `forced past the gate: ${gate.summary}` : `passed the gate: ${gate.summary}`),
      details: { release: manifest.name, gate },
    });
    return { version: rec.version, name: rec.name, alias, previous: before?.version ?? null, changed: true, forced, gate, release: manifest, previousRelease };
  });
}

/** A complete release serving the version: an existing one, or a new one published now. */
async function releaseFor(cfg: Config, rec: VersionRecord, testEval: Evaluation, forced: boolean): Promise<ReleaseManifest> {
  const prod = cfg.prod_deployment_path;
  const existing = await findRelease(cfg, rec.version);
  if (existing) return existing;
  const releases = await listReleases(prod);
  await removeStaleStaging(prod);
  const staging = await stagingDir(prod);
  const files: ReleaseManifest['files'] = {};
  const put = async (name: string, text: string) => {
    await writeFile(join(staging, name), text);
    files[name] = { sha256: sha256Text(text), size: Buffer.byteLength(text) };
  };
  const modelText = await readFile(versionModelPath(cfg, rec.version), 'utf8');
  const ingestion = await ingestionOf(cfg, rec);
  await put('trainedmodel.json', modelText);
  await put('latestscore.txt', `${testEval.metrics.f1}\n`);
  await put('ingestedfiles.txt', ingestion ? ingestion.files.map((f) => `${f.name}\n`).join('') : '');
  // The training data goes with the release (the data drift reference): a hard link to
  // finaldata.csv or to an earlier release's copy when either is that data (files are only
  // ever replaced by rename, never edited in place, so a link is safe), a copy where the file
  // system has no links.
  const source = await trainingDataSource(cfg, rec.training_data.sha256, releases);
  if (source) {
    await linkOrCopy(source, join(staging, TRAINING_DATA));
    files[TRAINING_DATA] = { sha256: rec.training_data.sha256, size: (await stat(source)).size };
  }
  const version = (releases.at(-1) ?? 0) + 1;
  const model = JSON.parse(modelText) as { trained_at?: string };
  const manifest: ReleaseManifest = {
    version,
    name: releaseName(version),
    timestamp: new Date().toISOString(),
    files,
    score: primaryScore(cfg, testEval.metrics),
    metrics: { ...testEval.metrics },
    model: {
      trained_at: model.trained_at ?? rec.created,
      features: rec.features,
      target: rec.target,
      data_sha256: rec.training_data.sha256,
      training_rows: rec.training_data.rows,
    },
    ingestion: ingestion ? { timestamp: ingestion.timestamp, input_folder: ingestion.input_folder, files: ingestion.files } : null,
    model_version: rec.version,
    model_content_sha256: rec.content_sha256,
    evaluation: {
      role: 'test',
      data_sha256: testEval.data_sha256,
      timestamp: testEval.timestamp,
      rows: testEval.rows,
      data_files: testEval.data_files.map((f) => f.name),
    },
    forced,
  };
  // The manifest is written last: a release folder without one is incomplete and ignored.
  await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  await syncTree(staging);
  // The training data's columnar copy (data/columnar.ts), for data drift: a cache, outside the
  // manifest and not synced (ingest does not sync it either); a copy that did not reach the disk
  // fails its checks and the CSV is read.
  if (source) await linkOrCopy(copyPathFor(source)!, join(staging, copyPathFor(TRAINING_DATA)!)).catch(() => undefined);
  await pausePoint('deploy:staged');
  await publishRelease(prod, staging, version);
  await pausePoint('deploy:published');
  return manifest;
}

/** A release's manifest, or null (with a warning) when it is damaged: such a release is skipped. */
async function readManifest(dir: string): Promise<ReleaseManifest | null> {
  try {
    return await readReleaseManifest(dir);
  } catch (err) {
    if (!(err instanceof StateError)) throw err;
    warn(`${err.message}; that release is skipped`);
    return null;
  }
}

/** The ingestion record that produced a version's training data. */
async function ingestionOf(cfg: Config, rec: VersionRecord): Promise<IngestionRecord | null> {
  const log = await readLog(paths(cfg).ingestionLog, INGESTION_RECORD);
  return log.filter((r) => r.output_sha256 === rec.training_data.sha256).at(-1) ?? null;
}

/** A hard link to a file, or a copy of it where the file system cannot link. */
const linkOrCopy = (from: string, to: string) => link(from, to).catch(() => copyFile(from, to));

async function trainingDataSource(cfg: Config, sha: string, releases: number[]): Promise<string | null> {
  const final = paths(cfg).finalData;
  // the hash ingest recorded while finaldata.csv is unchanged since (data/columnar.ts)
  if ((await csvSha256(final).catch(() => null)) === sha) return final;
  for (const r of [...releases].reverse()) {
    const dir = join(cfg.prod_deployment_path, 'releases', releaseName(r));
    const m = await readManifest(dir);
    if (m?.files[TRAINING_DATA]?.sha256 === sha) return join(dir, TRAINING_DATA);
  }
  return null;
}

export interface RollbackResult {
  /** Release numbers, from and to. */
  from: number;
  to: number;
  from_version: number;
  to_version: number;
}

/** Make the previous champion champion again (repeatable: each rollback steps back one more). */
export async function rollback(opts: { config: Config }): Promise<RollbackResult> {
  const cfg = opts.config;
  const prod = cfg.prod_deployment_path;
  await syncRegistry(cfg);
  return withRegistryLock(cfg, async () => {
    const cur = await currentChampion(cfg);
    if (!cur) throw new StateError(`${prod}: nothing is deployed`, 'there is no release to roll back');
    const stack = championStack(await readEvents(cfg, true));
    const to = stack.at(-2);
    if (to === undefined) {
      throw new StateError(`${prod}: ${cur.release} (${versionName(cur.version)}) is the first release`, 'there is no earlier champion to roll back to');
    }
    const rec = await getVersion(cfg, to);
    const evals = await readEvaluations(cfg);
    const testEval = latestOn(evals, to, await testDataHash(cfg)) ?? evals.filter((e) => e.version === to && e.role === 'test').at(-1);
    let manifest: ReleaseManifest;
    if (testEval) manifest = await releaseFor(cfg, rec, testEval, false);
    else {
      // An old champion never scored under the registry: its earlier release is reused as it is.
      const found = await findRelease(cfg, to);
      if (!found) throw new StateError(`${versionName(to)} has no release and no test score`, `run \`mlops score --model ${versionName(to)}\` first`);
      manifest = found;
    }
    await activateRelease(prod, manifest.version);
    await appendEvent(cfg, { kind: 'rolled_back', version: to, alias: 'champion', previous: cur.version, reason: `rolled back from ${versionName(cur.version)}` });
    return { from: cur.manifest.version, to: manifest.version, from_version: cur.version, to_version: to };
  });
}

/** The newest complete release that serves a version, or null. */
async function findRelease(cfg: Config, version: number): Promise<ReleaseManifest | null> {
  for (const r of (await listReleases(cfg.prod_deployment_path)).reverse()) {
    const dir = join(cfg.prod_deployment_path, 'releases', releaseName(r));
    const m = await readManifest(dir);
    if (m && (await releaseVersion(cfg, m, dir)) === version) return m;
  }
  return null;
}

/** The primary metric of a release's test evaluation (latestscore.txt); it must be a number. */
function primaryScore(cfg: Config, metrics: Record<string, number | null>): number {
  const v = metrics[cfg.metric];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new DataError(`${cfg.test_data_path}: the primary metric "${cfg.metric}" has no value on the test set (${v})`, 'choose another "metric" in config.json (MAPE needs targets other than zero)');
  }
  return v;
}
