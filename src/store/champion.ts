/**
 * The champion: the version production serves. Production's `current` release is the truth;
 * the event log follows it. Also brings projects made before the registry into it: their
 * releases become versions on first use, in release order, and each release that was deployed
 * becomes a promotion, so rollback keeps working.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { currentManifest, currentReleaseDir, listReleases, readManifest, releaseName, type ReleaseManifest } from './releases.js';
import type { Config } from './config.js';
import {
  appendEvent,
  championStack,
  findByContent,
  hasVersions,
  modelContentHash,
  readEvents,
  registerModel,
  withRegistryLock,
} from './registry.js';

export interface Champion {
  version: number;
  /** Release folder name (vNNNN of production/releases). */
  release: string;
  dir: string;
  manifest: ReleaseManifest;
}

/** The version a release serves: recorded in its manifest, or found by the model's content. */
export async function releaseVersion(cfg: Config, manifest: ReleaseManifest, dir: string): Promise<number | null> {
  if (Number.isInteger(manifest.model_version)) return manifest.model_version!;
  const text = await readFile(join(dir, 'trainedmodel.json'), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return (await findByContent(cfg, modelContentHash(text)))?.version ?? null;
  } catch {
    return null;
  }
}

export async function currentChampion(cfg: Config): Promise<Champion | null> {
  const dir = await currentReleaseDir(cfg.prod_deployment_path);
  if (!dir) return null;
  const manifest = await currentManifest(cfg.prod_deployment_path);
  if (!manifest) return null;
  const version = await releaseVersion(cfg, manifest, dir);
  if (version === null) return null;
  return { version, release: manifest.name, dir, manifest };
}

/**
 * Make the registry agree with production: register the releases of a project made before the
 * registry, and record a promotion that production shows but the log lacks (a promotion killed
 * between switching `current` and writing its event, or a hand-switched `current`).
 */
export async function syncRegistry(cfg: Config): Promise<void> {
  const prod = cfg.prod_deployment_path;
  const releases = await listReleases(prod);
  if (releases.length === 0) return;
  const dir = await currentReleaseDir(prod);
  const events = await readEvents(cfg, true);
  const needsMigration = !(await hasVersions(cfg));
  const cur = dir ? await currentManifest(prod).catch(() => null) : null;
  const curVersion = cur && dir && !needsMigration ? await releaseVersion(cfg, cur, dir) : null;
  if (!needsMigration && curVersion !== null && championStack(events).at(-1) === curVersion) return;
  await withRegistryLock(cfg, async () => {
    if (!(await hasVersions(cfg))) await migrateReleases(cfg, releases, cur?.version ?? null);
    const now = await currentChampion(cfg);
    if (!now) return;
    const stack = championStack(await readEvents(cfg, true));
    if (stack.at(-1) !== now.version) {
      await appendEvent(cfg, {
        kind: 'promoted',
        version: now.version,
        alias: 'champion',
        previous: stack.at(-1) ?? null,
        reason: `production serves release ${now.release}; its promotion had not been recorded (a promotion that stopped before recording it, or a hand edit)`,
      });
    }
  });
}

async function migrateReleases(cfg: Config, releases: number[], current: number | null): Promise<void> {
  const prod = cfg.prod_deployment_path;
  for (const r of releases) {
    const dir = join(prod, 'releases', releaseName(r));
    const text = await readFile(join(dir, 'trainedmodel.json'), 'utf8').catch(() => null);
    // a damaged release is not migrated (it is skipped everywhere else too)
    const manifest = await readManifest(dir).catch(() => null);
    if (text === null || !manifest) continue;
    let model: Record<string, unknown>;
    try {
      model = JSON.parse(text) as Record<string, unknown>;
    } catch {
      continue;
    }
    const { record, created } = await registerModel(
      cfg,
      {
        modelText: text,
        model_type: String(model.type ?? 'logistic_regression'),
        target: manifest.model?.target ?? String(model.target ?? ''),
        features: manifest.model?.features ?? [],
        settings: { C: model.C ?? null, threshold: model.threshold ?? 0.5 },
        training_data: { sha256: manifest.model?.data_sha256 ?? '', rows: manifest.model?.training_rows ?? 0 },
        ingestion: manifest.ingestion
          ? { timestamp: manifest.ingestion.timestamp, input_folder: manifest.ingestion.input_folder, output_sha256: manifest.model?.data_sha256 ?? '' }
          : null,
        replaces: null,
        source: `migrated release ${releaseName(r)}`,
        created: manifest.model?.trained_at || manifest.timestamp,
      },
      true,
    );
    if (created) {
      await appendEvent(cfg, { kind: 'registered', version: record.version, reason: `release ${releaseName(r)} of a project made before the registry` });
    }
    // Releases up to the current one were deployed in order: each was champion in its turn.
    if (current === null || r <= current) {
      await appendEvent(cfg, {
        kind: 'promoted',
        version: record.version,
        alias: 'champion',
        reason: `release ${releaseName(r)} deployed at ${manifest.timestamp} (before the registry)`,
      });
    }
  }
}
