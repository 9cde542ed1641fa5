/**
 * Data drift of one feature between a reference sample and a current one. A feature counts as
 * drifted only when the difference is statistically significant AND large enough to matter:
 * with a million rows every tiny shift is "significant" (the failure of p-value-only tools), and
 * with a handful of rows nothing can be told apart, so below `minRows` the verdict is
 * "too few rows".
 */
import { chiSquareHomogeneity, ksTwoSampleSorted, type TestResult } from './hypothesis.js';
import { psiFromShares, psiSorted, wassersteinSorted } from './distance.js';

export interface DataDriftSettings {
  pValue: number;
  psi: number;
  wasserstein: number;
  minRows: number;
  maxCategories: number;
}

export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  refRows: number;
  curRows: number;
  /** KS for numeric features, chi-square for categorical ones. */
  test: 'ks' | 'chi-square';
  statistic: number | null;
  pValue: number | null;
  psi: number | null;
  /** Wasserstein-1 distance divided by the reference standard deviation. */
  wassersteinNorm: number | null;
  verdict: 'drift' | 'no drift' | 'too few rows';
  reason: string;
}

const dropNaN = (x: Float64Array) => {
  let k = 0;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) if (x[i] === x[i]) out[k++] = x[i]!;
  return out.subarray(0, k).sort();
};

function sdOf(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  const m = s / x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i]! - m) ** 2;
  return Math.sqrt(v / Math.max(1, x.length - 1));
}

/** Distinct values of two sorted arrays, or null when there are more than `max`. */
function categories(a: Float64Array, b: Float64Array, max: number): number[] | null {
  const set = new Set<number>();
  for (const x of [a, b]) {
    for (let i = 0; i < x.length; i++) {
      if (i > 0 && x[i] === x[i - 1]) continue;
      set.add(x[i]!);
      if (set.size > max) return null;
    }
  }
  return [...set].sort((p, q) => p - q);
}

const countsOf = (x: Float64Array, cats: number[]) => {
  const idx = new Map(cats.map((c, i) => [c, i]));
  const counts = new Array<number>(cats.length).fill(0);
  for (let i = 0; i < x.length; i++) counts[idx.get(x[i]!)!]!++;
  return counts;
};

/**
 * Drift of one feature. `categorical`: the values are category codes (a categorical feature's
 * levels), compared by chi-square and PSI over the categories whatever their number.
 */
export function featureDrift(feature: string, reference: Float64Array, current: Float64Array, s: DataDriftSettings, categorical = false): FeatureDrift {
  const ref = dropNaN(reference);
  const cur = dropNaN(current);
  const cats = ref.length && cur.length ? categories(ref, cur, categorical ? Infinity : s.maxCategories) : null;
  const kind = cats || categorical ? 'categorical' : 'numeric';
  const base = { feature, kind, refRows: ref.length, curRows: cur.length } as const;
  if (ref.length < s.minRows || cur.length < s.minRows) return tooFewRows(base, s);
  const sd = sdOf(ref);
  const w = wassersteinSorted(ref, cur);
  const wassersteinNorm = w === 0 ? 0 : w / (sd > 0 ? sd : Number.MIN_VALUE);
  let test: TestResult;
  let psi: number;
  if (cats) {
    const rc = countsOf(ref, cats);
    const cc = countsOf(cur, cats);
    test = chiSquareHomogeneity(rc, cc);
    psi = psiFromShares(
      rc.map((c) => c / ref.length),
      cc.map((c) => c / cur.length),
    );
  } else {
    test = ksTwoSampleSorted(ref, cur);
    psi = psiSorted(ref, cur, 10);
  }
  return judgeFeature(base, cats !== null, test, psi, wassersteinNorm, s);
}

type DriftBase = Pick<FeatureDrift, 'feature' | 'kind' | 'refRows' | 'curRows'>;

/** The verdict when either side has fewer than minRows values. */
export function tooFewRows(base: DriftBase, s: DataDriftSettings): FeatureDrift {
  return {
    ...base,
    test: base.kind === 'categorical' ? 'chi-square' : 'ks',
    statistic: null,
    pValue: null,
    psi: null,
    wassersteinNorm: null,
    verdict: 'too few rows',
    reason: `needs at least ${s.minRows} non-missing values on each side`,
  };
}

/**
 * The verdict from a test and the effect sizes: drift when significant and large (PSI, or for
 * numeric features the normalised Wasserstein distance). Every engine's drift goes through here,
 * so verdicts and reasons are word for word the same.
 */
export function judgeFeature(base: DriftBase, categories: boolean, test: TestResult, psi: number, wassersteinNorm: number, s: DataDriftSettings): FeatureDrift {
  const significant = test.pValue < s.pValue;
  const large = psi >= s.psi || (!categories && wassersteinNorm >= s.wasserstein);
  const drift = significant && large;
  const effect = categories ? `PSI ${psi.toFixed(3)}` : `PSI ${psi.toFixed(3)}, W/sd ${wassersteinNorm.toFixed(3)}`;
  const reason = drift
    ? `significant (p ${fmtP(test.pValue)} < ${s.pValue}) and large (${effect})`
    : !significant
      ? `not significant (p ${fmtP(test.pValue)} >= ${s.pValue})`
      : `significant but small (${effect} below ${categories ? `PSI ${s.psi}` : `PSI ${s.psi} and W/sd ${s.wasserstein}`})`;
  return {
    ...base,
    test: categories ? 'chi-square' : 'ks',
    statistic: test.statistic,
    pValue: test.pValue,
    psi,
    wassersteinNorm,
    verdict: drift ? 'drift' : 'no drift',
    reason,
  };
}

/** The test settings from config.json's `drift` keys. */
export function dataDriftSettings(d: { p_value: number; psi: number; wasserstein: number; min_rows: number; max_categories: number }): DataDriftSettings {
  return { pValue: d.p_value, psi: d.psi, wasserstein: d.wasserstein, minRows: d.min_rows, maxCategories: d.max_categories };
}

export interface DatasetDrift {
  features: FeatureDrift[];
  drifted: number;
  /** Drifted features over all features (0 when none could be judged). */
  share: number;
  threshold: number;
  datasetDrift: boolean;
}

/** The dataset's verdict: drift when at least `threshold` of the features drift (and some could be judged). */
export function judgeDataset(features: FeatureDrift[], threshold: number): DatasetDrift {
  const drifted = features.filter((f) => f.verdict === 'drift').length;
  const judged = features.filter((f) => f.verdict !== 'too few rows').length;
  const share = judged === 0 ? 0 : drifted / features.length;
  return { features, drifted, share, threshold, datasetDrift: judged > 0 && share >= threshold };
}

const fmtP = (p: number) => (p < 1e-4 ? p.toExponential(2) : p.toFixed(4));
