/**
 * Data profiles for charts and the UI: per feature a histogram (numeric) or level counts
 * (categorical, boolean), quantiles, missing values; and the data drift verdicts between the
 * deployed training data and the current finaldata.csv. Computed once per data file and stored
 * under <output_model_path>/ui-cache/, keyed by the file's SHA-256 (from the release manifest and
 * the ingestion log) and the model's encoding: a page view or a report reads a small JSON file,
 * never the data (1M rows: once, a few seconds; then milliseconds).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { csvFilesAt } from '../data/csvfiles.js';
import type { ModelFile } from '../model/modelfile.js';
import { loadModel } from '../model/modelfile.js';
import type { FeatureDrift } from '../stats/datadrift.js';
import { sha256File, sha256Text, writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { INGESTION_RECORD, paths, type IngestionRecord } from '../store/records.js';
import { currentManifest, currentReleaseDir, TRAINING_DATA } from '../store/releases.js';
import { readLog } from '../store/statefile.js';
import { judgeDataDrift } from './drift.js';
import { readForModel } from './modeldata.js';

export const HISTOGRAM_BINS = 30;

export interface FeatureProfile {
  feature: string;
  kind: 'numeric' | 'categorical';
  rows: number;
  missing: number;
  /** Numeric: equal-width bins over [min, max]. */
  bins: { start: number; end: number; count: number }[] | null;
  /** Numeric: the 0%, 1%, ..., 100% quantiles (linear interpolation). */
  quantiles: number[] | null;
  mean: number | null;
  /** Categorical and boolean: rows per level (the model's levels, then "(other)"). */
  levels: { value: string; count: number }[] | null;
}

export interface DataProfile {
  format: 'mlops-profile/1';
  sha256: string;
  created: string;
  rows: number;
  features: FeatureProfile[];
}

export interface DriftSnapshot {
  format: 'mlops-drift/2';
  created: string;
  reference_sha256: string;
  current_sha256: string;
  features: FeatureDrift[];
  drifted: number;
  share: number;
  threshold: number;
  datasetDrift: boolean;
  /** Numeric features: both sides counted on the same bins (tails clipped into the end bins). */
  shared_bins: SharedBins[];
}

export interface SharedBins {
  feature: string;
  bins: { start: number; end: number; reference: number; current: number }[];
}

/**
 * Reference and current counted on the same equal-width bins between the lower and upper 1%
 * quantiles of the two (values beyond go to the end bins), so one outlier cannot squash the
 * chart and the two sides are comparable bin by bin.
 */
export function sharedBins(feature: string, ref: Float64Array, cur: Float64Array, refQ: number[], curQ: number[], nb = HISTOGRAM_BINS): SharedBins {
  let lo = Math.min(refQ[1]!, curQ[1]!);
  let hi = Math.max(refQ[99]!, curQ[99]!);
  if (!(hi > lo)) {
    lo = Math.min(refQ[0]!, curQ[0]!);
    hi = Math.max(refQ[100]!, curQ[100]!);
  }
  if (!(hi > lo)) hi = lo + 1;
  const w = (hi - lo) / nb;
  const count = (x: Float64Array) => {
    const c = new Array<number>(nb).fill(0);
    for (let i = 0; i < x.length; i++) if (x[i] === x[i]) c[Math.min(nb - 1, Math.max(0, Math.floor((x[i]! - lo) / w)))]!++;
    return c;
  };
  const a = count(ref);
  const b = count(cur);
  return { feature, bins: a.map((r, k) => ({ start: lo + k * w, end: lo + (k + 1) * w, reference: r, current: b[k]! })) };
}

export interface ProfilePair {
  model: ModelFile;
  reference: { path: string; profile: DataProfile };
  current: { path: string; profile: DataProfile } | null;
  /** Null when the current data is the training data itself (nothing to compare). */
  drift: DriftSnapshot | null;
  /** Whether anything was computed now (false: all from the cache). */
  computed: boolean;
}

function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The profile of one encoded column (O(n log n) for the quantiles). */
export function profileColumn(model: ModelFile, j: number, x: Float64Array): FeatureProfile {
  const spec = model.inputs[j]!;
  const feature = model.features[j]!;
  let k = 0;
  const vals = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) if (x[i] === x[i]) vals[k++] = x[i]!;
  const v = vals.subarray(0, k);
  const base = { feature, rows: x.length, missing: x.length - k };
  if (spec.kind !== 'numeric') {
    const names = spec.kind === 'categorical' ? spec.levels : ['false', 'true'];
    const counts = new Array<number>(names.length + 1).fill(0);
    for (let i = 0; i < v.length; i++) counts[Math.min(names.length, Math.max(0, v[i]!))]!++;
    const levels = names.map((value, c) => ({ value, count: counts[c]! }));
    if (counts[names.length]) levels.push({ value: '(other)', count: counts[names.length]! });
    return { ...base, kind: 'categorical', bins: null, quantiles: null, mean: null, levels };
  }
  if (v.length === 0) return { ...base, kind: 'numeric', bins: [], quantiles: [], mean: null, levels: null };
  v.sort();
  const min = v[0]!;
  const max = v[v.length - 1]!;
  const nb = min === max ? 1 : HISTOGRAM_BINS;
  const width = min === max ? 1 : (max - min) / nb;
  const counts = new Array<number>(nb).fill(0);
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    sum += v[i]!;
    counts[Math.min(nb - 1, Math.floor((v[i]! - min) / width))]!++;
  }
  const lo = min === max ? min - 0.5 : min;
  const bins = counts.map((count, b) => ({ start: lo + b * width, end: lo + (b + 1) * width, count }));
  const quantiles = Array.from({ length: 101 }, (_, q) => quantile(v, q / 100));
  return { ...base, kind: 'numeric', bins, quantiles, mean: sum / v.length, levels: null };
}

export function profileColumns(model: ModelFile, X: readonly Float64Array[], sha256: string): DataProfile {
  return {
    format: 'mlops-profile/1',
    sha256,
    created: new Date().toISOString(),
    rows: X[0]?.length ?? 0,
    features: model.features.map((_, j) => profileColumn(model, j, X[j]!)),
  };
}

export const cacheDir = (cfg: Config) => join(cfg.output_model_path, 'ui-cache');

/** What a profile depends on besides the data: the model's inputs and their encoding. */
const encodingKey = (model: ModelFile) => sha256Text(JSON.stringify(model.inputs)).slice(0, 12);

/**
 * A cached file of `format` whose shape `valid` accepts, else null: missing, damaged or edited by
 * hand (valid JSON of another shape, e.g. "features": null, once gave a 500 'internal error'),
 * it is computed again and rewritten.
 */
async function readJson<T>(path: string, format: string, valid: (v: Record<string, unknown>) => boolean): Promise<T | null> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown> | null;
    return v && typeof v === 'object' && v.format === format && valid(v) ? (v as T) : null;
  } catch {
    return null;
  }
}

const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const numOrNull = (v: unknown) => v === null || num(v);
const listOf = (v: unknown, ok: (e: Record<string, unknown>) => boolean) => Array.isArray(v) && v.every((e) => e !== null && typeof e === 'object' && ok(e as Record<string, unknown>));

/** A profile of the model's features (in order) of the data with this SHA-256. */
const validProfile = (model: ModelFile, sha: string) => (p: Record<string, unknown>) =>
  p.sha256 === sha &&
  typeof p.created === 'string' &&
  num(p.rows) &&
  Array.isArray(p.features) &&
  p.features.length === model.features.length &&
  listOf(p.features, (f) =>
    (f.kind === 'numeric' || f.kind === 'categorical') &&
    num(f.rows) &&
    num(f.missing) &&
    numOrNull(f.mean) &&
    (f.bins === null || listOf(f.bins, (b) => num(b.start) && num(b.end) && num(b.count))) &&
    (f.quantiles === null || (Array.isArray(f.quantiles) && f.quantiles.every(num))) &&
    (f.levels === null || listOf(f.levels, (l) => typeof l.value === 'string' && num(l.count))),
  ) &&
  (p.features as { feature: unknown }[]).every((f, j) => f.feature === model.features[j]);

const validDrift = (d: Record<string, unknown>) =>
  typeof d.created === 'string' &&
  typeof d.reference_sha256 === 'string' &&
  typeof d.current_sha256 === 'string' &&
  num(d.drifted) &&
  num(d.share) &&
  num(d.threshold) &&
  typeof d.datasetDrift === 'boolean' &&
  listOf(d.features, (f) => typeof f.feature === 'string' && typeof f.verdict === 'string' && typeof f.reason === 'string' && numOrNull(f.statistic) && numOrNull(f.pValue) && numOrNull(f.psi) && numOrNull(f.wassersteinNorm)) &&
  listOf(d.shared_bins, (b) => typeof b.feature === 'string' && listOf(b.bins, (x) => num(x.start) && num(x.end) && num(x.reference) && num(x.current)));

/** The current data vanished since it was seen (null: no current data), or cannot be read. */
function unreadable(path: string, err: unknown): null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return null;
  if (typeof code === 'string') throw new StateError(`${path}: cannot be read (${code})`, 'run `mlops ingest` again');
  throw err;
}

/** SHA-256 of finaldata.csv: the latest ingestion record's, else hashed now. */
async function currentSha(cfg: Config, path: string): Promise<string> {
  if (path === paths(cfg).finalData) {
    const log = await readLog<IngestionRecord>(paths(cfg).ingestionLog, INGESTION_RECORD).catch(() => []);
    const last = log.at(-1);
    if (last?.output_sha256) return last.output_sha256;
  }
  return sha256File(path);
}

/**
 * The deployed training data's profile, the current data's, and the drift between them: read
 * from ui-cache when there, else computed (each file read once) and stored. `cachedOnly`: null
 * instead of reading the data.
 */
export function profilePair(cfg: Config, opts: { current?: string; cachedOnly?: boolean } = {}): Promise<ProfilePair | null> {
  if (opts.cachedOnly) return computePair(cfg, opts);
  // one computation per project and data at a time (a page view while the start-up warm runs)
  const key = `${cfg.root}\0${opts.current ?? ''}`;
  let p = inFlight.get(key);
  if (!p) {
    p = computePair(cfg, opts).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

const inFlight = new Map<string, Promise<ProfilePair | null>>();

async function computePair(cfg: Config, opts: { current?: string; cachedOnly?: boolean }): Promise<ProfilePair | null> {
  const release = await currentReleaseDir(cfg.prod_deployment_path);
  const manifest = await currentManifest(cfg.prod_deployment_path);
  if (!release || !manifest) throw new StateError(`${cfg.prod_deployment_path}: nothing is deployed, so there is no reference data`, 'run `mlops run` or `mlops deploy` first');
  const { model } = await loadModel(join(release, 'trainedmodel.json'));
  const refPath = join(release, TRAINING_DATA);
  const refSha = manifest.files[TRAINING_DATA]?.sha256 ?? (await sha256File(refPath).catch(() => null));
  if (!refSha) throw new StateError(`${refPath}: the deployed release has no copy of its training data`, 'redeploy with `mlops run` to record one');
  const curPath = opts.current ?? paths(cfg).finalData;
  const curSha = (await stat(curPath).catch(() => null)) ? await currentSha(cfg, curPath).catch((err: unknown) => unreadable(curPath, err)) : null;
  const key = encodingKey(model);
  const dir = cacheDir(cfg);
  const profileFile = (sha: string) => join(dir, `${sha}-${key}.json`);
  const driftKey = sha256Text(JSON.stringify(cfg.drift)).slice(0, 8);
  const driftFile = curSha && join(dir, `drift-${refSha.slice(0, 16)}-${curSha.slice(0, 16)}-${key}-${driftKey}.json`);
  let refProfile = await readJson<DataProfile>(profileFile(refSha), 'mlops-profile/1', validProfile(model, refSha));
  let curProfile = curSha ? await readJson<DataProfile>(profileFile(curSha), 'mlops-profile/1', validProfile(model, curSha)) : null;
  const same = curSha === refSha;
  let drift = driftFile && !same ? await readJson<DriftSnapshot>(driftFile, 'mlops-drift/2', validDrift) : null;
  const needCur = curSha !== null && !same && (!curProfile || !drift);
  let computed = false;
  if (!refProfile || needCur) {
    if (opts.cachedOnly) return null;
    computed = true;
    const ref = await readForModel(model, await csvFilesAt(refPath), { name: 'reference', target: false });
    if (!refProfile) {
      refProfile = profileColumns(model, ref.X, refSha);
      await writeFileAtomic(profileFile(refSha), JSON.stringify(refProfile));
    }
    if (needCur) {
      const cur = await readForModel(model, await csvFilesAt(curPath), { name: 'current', target: false });
      if (!curProfile) {
        curProfile = profileColumns(model, cur.X, curSha);
        await writeFileAtomic(profileFile(curSha), JSON.stringify(curProfile));
      }
      const shared = model.features.flatMap((f, j) => {
        const rq = refProfile!.features[j]!.quantiles;
        const cq = curProfile!.features[j]!.quantiles;
        return rq?.length && cq?.length ? [sharedBins(f, ref.X[j]!, cur.X[j]!, rq, cq)] : [];
      });
      drift = {
        format: 'mlops-drift/2',
        created: new Date().toISOString(),
        reference_sha256: refSha,
        current_sha256: curSha,
        ...judgeDataDrift(cfg, model, ref.X, cur.X),
        shared_bins: shared,
      };
      await writeFileAtomic(driftFile!, JSON.stringify(drift));
    }
  }
  if (same) curProfile = refProfile;
  return {
    model,
    reference: { path: refPath, profile: refProfile },
    current: curProfile && curSha ? { path: curPath, profile: curProfile } : null,
    drift: same ? null : drift,
    computed,
  };
}

/** Every drift snapshot computed so far (the cache's record of drift over time), oldest first. */
export async function driftHistory(cfg: Config): Promise<{ time: string; reference: string; current: string; share: number; drifted: number; features: number; datasetDrift: boolean }[]> {
  const dir = cacheDir(cfg);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('drift-') && n.endsWith('.json'));
  const out = [];
  for (const n of names.slice(-500)) {
    const d = await readJson<DriftSnapshot>(join(dir, n), 'mlops-drift/2', validDrift);
    if (d) out.push({ time: d.created, reference: d.reference_sha256.slice(0, 12), current: d.current_sha256.slice(0, 12), share: d.share, drifted: d.drifted, features: d.features.length, datasetDrift: d.datasetDrift });
  }
  return out.sort((a, b) => a.time.localeCompare(b.time));
}
