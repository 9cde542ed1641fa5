/**
 * The production folder: every release kept, one current, switched atomically.
 *
 *   prod/releases/v0001/  trainedmodel.json latestscore.txt ingestedfiles.txt manifest.json ...
 *   prod/current          symlink -> releases/v000N      (switched by rename(2): atomic)
 *   prod/trainedmodel.json, latestscore.txt, ingestedfiles.txt
 *                         symlinks -> current/<name>      (so they all flip together)
 *
 * A release folder is filled under a hidden staging name and renamed into releases/ only when
 * complete (manifest last), so a crash leaves either no new release or a whole one; `current`
 * moves only after that. Readers resolve `current` once and read every file from that folder,
 * so they never mix a new model with an old score.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, realpath, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { versionName as releaseName } from './names.js';
import { readRecord, shape } from './statefile.js';

export const RELEASE_FILES = ['trainedmodel.json', 'latestscore.txt', 'ingestedfiles.txt'] as const;

/** The copy of the training data kept with each release (the data drift reference). */
export const TRAINING_DATA = 'trainingdata.csv';

export interface ReleaseManifest {
  version: number;
  name: string;
  timestamp: string;
  files: Record<string, { sha256: string; size: number }>;
  score: number;
  metrics: Record<string, number | null>;
  model: { trained_at: string; features: string[]; target: string; data_sha256: string; training_rows: number };
  /** The ingestion that produced the training data: every input file with its hash. */
  ingestion: { timestamp: string; input_folder: string; files: { name: string; size: number; sha256: string; rows: number }[] } | null;
  /** Registry version this release serves (absent in releases made before the registry). */
  model_version?: number;
  model_content_sha256?: string;
  /** The evaluation `score` and `metrics` come from: always the reference test set. */
  evaluation?: { role: 'test'; data_sha256: string; timestamp: string; rows: number; data_files: string[] };
  /** Whether the promotion overrode a failed gate. */
  forced?: boolean;
}

/** A release folder is named by its release number (manifest `version`; `model_version` is the registry version it serves). */
export { releaseName };
const releasesDir = (prod: string) => join(prod, 'releases');

export const MANIFEST = shape<ReleaseManifest>('release manifest', { version: 'integer', name: 'string', files: 'object', score: 'number', metrics: 'object', model: 'object' });

/** The manifest of a release folder, checked; a damaged one is a StateError naming it. */
export async function readManifest(dir: string): Promise<ReleaseManifest | null> {
  return readRecord(join(dir, 'manifest.json'), MANIFEST, 'the release is damaged: make another release current (`mlops deploy --rollback` or `mlops promote V`)');
}

/**
 * The production folder's own entries must be what mlops made: `releases` a folder, `current`
 * a link to a folder. Anything else (a hand edit, a copy that followed the links) is named.
 */
async function checkLayout(prod: string): Promise<void> {
  const rel = await lstat(releasesDir(prod)).catch(() => null);
  if (rel && !rel.isDirectory()) {
    throw new StateError(`${releasesDir(prod)}: is not a folder`, 'move it away: mlops keeps every release in that folder');
  }
  const cur = await lstat(join(prod, 'current')).catch(() => null);
  if (cur && !cur.isSymbolicLink()) {
    throw new StateError(`${join(prod, 'current')}: is not a link to a release`, 'move it away and make a release current with `mlops promote V`');
  }
}

/** Versions of complete releases (those with a manifest), ascending. */
export async function listReleases(prod: string): Promise<number[]> {
  await checkLayout(prod);
  const entries = await readdir(releasesDir(prod)).catch(() => [] as string[]);
  const out: number[] = [];
  for (const e of entries) {
    const m = /^v(\d+)$/.exec(e);
    if (!m) continue;
    const ok = await lstat(join(releasesDir(prod), e, 'manifest.json')).catch(() => null);
    if (ok) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/** Absolute folder of the current release, or null when nothing is deployed. */
export async function currentReleaseDir(prod: string): Promise<string | null> {
  await checkLayout(prod);
  let dir: string;
  try {
    dir = await realpath(join(prod, 'current'));
  } catch {
    return null; // no link, or a link to a release that is gone: nothing is deployed
  }
  const st = await lstat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new StateError(`${join(prod, 'current')}: points at ${dir}, which is not a release folder`, 'make a release current with `mlops promote V`');
  return dir;
}

export async function currentManifest(prod: string): Promise<ReleaseManifest | null> {
  const dir = await currentReleaseDir(prod);
  if (!dir) return null;
  const m = await readManifest(dir);
  if (!m) throw new StateError(`${dir}: the current release has no manifest.json`, 'make another release current (`mlops deploy --rollback` or `mlops promote V`)');
  return m;
}

/** Path of a file of the current release; StateError when nothing is deployed. */
export async function currentReleaseFile(prod: string, name: string): Promise<string> {
  const dir = await currentReleaseDir(prod);
  if (!dir) throw new StateError(`${prod}: no model is deployed yet`, 'run `mlops deploy` (or `mlops run`) first');
  return join(dir, name);
}

/** A fresh hidden folder inside releases/ to fill before publishing. */
export async function stagingDir(prod: string): Promise<string> {
  const dir = join(releasesDir(prod), `.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Move a complete staging folder to the next version number; returns the version. */
export async function publishRelease(prod: string, staging: string, version: number): Promise<string> {
  const dir = join(releasesDir(prod), releaseName(version));
  await rename(staging, dir);
  return dir;
}

/** Atomically replace `link` by a symlink to `target` (create beside, then rename over). */
async function swapSymlink(target: string, link: string): Promise<void> {
  const tmp = `${link}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await symlink(target, tmp);
  try {
    await rename(tmp, link);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Point `current` at a release and make sure the top-level names follow `current`. */
export async function activateRelease(prod: string, version: number): Promise<void> {
  await swapSymlink(join('releases', releaseName(version)), join(prod, 'current'));
  await ensureTopLevelLinks(prod);
}

/**
 * The top-level trainedmodel.json, latestscore.txt and ingestedfiles.txt are links through
 * `current`; a kill between switching `current` and making them leaves them missing, and the
 * next command that changes production (or a run) makes them. Returns the names it fixed.
 */
export async function ensureTopLevelLinks(prod: string): Promise<string[]> {
  const fixed: string[] = [];
  if (!(await lstat(join(prod, 'current')).catch(() => null))) return fixed;
  for (const name of RELEASE_FILES) {
    const link = join(prod, name);
    const want = join('current', name);
    const existing = await readlink(link).catch(() => null);
    if (existing !== want) {
      await swapSymlink(want, link);
      fixed.push(name);
    }
  }
  return fixed;
}

/** Remove staging folders left by a crashed deploy; returns how many. */
export async function removeStaleStaging(prod: string): Promise<number> {
  const entries = await readdir(releasesDir(prod)).catch(() => [] as string[]);
  let n = 0;
  for (const e of entries) {
    if (!e.startsWith('.staging-')) continue;
    const pid = Number(e.split('-')[1]);
    if (pid !== process.pid && !isAlive(pid)) {
      await rm(join(releasesDir(prod), e), { recursive: true, force: true });
      n++;
    }
  }
  return n;
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function currentVersion(prod: string): Promise<number | null> {
  const dir = await currentReleaseDir(prod);
  const m = dir ? /v(\d+)$/.exec(dir) : null;
  return m ? Number(m[1]) : null;
}
