/**
 * Quantile binning of the training columns into uint8 codes, as scikit-learn's _BinMapper:
 * thresholds from (a subsample of up to 200,000 rows of) the training data, a value x goes to
 * bin b when thresholds[b - 1] < x <= thresholds[b], and the last bin (index max_bins) holds the
 * missing values. A categorical feature has one bin per known category, in code order.
 */

/** Rows of the sample the thresholds are computed on (scikit-learn's subsample=2e5). */
export const BIN_SUBSAMPLE = 200_000;
/** Thresholds are clipped here; +inf only stands for "every non-missing value goes left". */
const ALMOST_INF = 1e300;

/**
 * The thresholds of one numeric column: midpoints of consecutive distinct values when there are
 * at most maxBins of them, else the max_bins - 1 inner percentiles (numpy's "midpoint" method).
 * NaN is ignored. Cost: O(m log m) for m sampled values (one sort).
 */
export function binThresholds(values: Float64Array, maxBins: number): Float64Array {
  let m = 0;
  const v = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) v[m++] = values[i]!;
  const all = v.subarray(0, m).sort();
  let distinct = 0;
  for (let i = 0; i < m && distinct <= maxBins; i++) if (i === 0 || all[i] !== all[i - 1]) distinct++;
  let t: Float64Array;
  if (distinct <= maxBins) {
    const d = new Float64Array(distinct);
    for (let i = 0, k = 0; i < m; i++) if (i === 0 || all[i] !== all[i - 1]) d[k++] = all[i]!;
    t = new Float64Array(Math.max(0, distinct - 1));
    for (let i = 0; i + 1 < distinct; i++) t[i] = (d[i]! + d[i + 1]!) * 0.5;
  } else {
    t = new Float64Array(maxBins - 1);
    const step = 100 / maxBins;
    for (let k = 1; k < maxBins; k++) {
      const index = ((k * step) / 100) * (m - 1);
      const lo = all[Math.floor(index)]!;
      const hi = all[Math.ceil(index)]!;
      // numpy's lerp at gamma 0.5 (hi - (hi - lo) * 0.5), or the value itself at a whole index.
      t[k - 1] = index % 1 === 0 ? lo : hi - (hi - lo) * 0.5;
    }
  }
  for (let i = 0; i < t.length; i++) if (t[i]! > ALMOST_INF) t[i] = ALMOST_INF;
  return t;
}

/**
 * One numeric feature: thresholds from the sampled rows of source (all when sample is null),
 * and the codes of source into out and of val (if any) into valOut. Returns the thresholds.
 */
export function binNumericFeature(
  source: Float64Array,
  sample: Uint32Array | null,
  val: Float64Array | null,
  maxBins: number,
  missingBin: number,
  out: Uint8Array,
  valOut: Uint8Array | null,
): Float64Array {
  let values = source;
  if (sample) {
    values = new Float64Array(sample.length);
    for (let k = 0; k < sample.length; k++) values[k] = source[sample[k]!]!;
  }
  const t = binThresholds(values, maxBins);
  binNumeric(source, null, t, missingBin, out);
  if (val) binNumeric(val, null, t, missingBin, valOut!);
  return t;
}

/**
 * Bin codes of the given rows of one numeric column (rows = null: all of them): the number of
 * thresholds below the value. A branch-free binary search over the thresholds padded to 256
 * with +inf (eight steps, each adding 2^s when the value is above the entry there): 6-7 ns a
 * value, where the branching search took 42-48 (its branches are coin flips).
 */
export function binNumeric(x: Float64Array, rows: Uint32Array | null, thresholds: Float64Array, missingBin: number, into?: Uint8Array): Uint8Array {
  const n = rows ? rows.length : x.length;
  const out = into ?? new Uint8Array(n);
  if (thresholds.length > 255) throw new Error(`gbt: ${thresholds.length} thresholds, at most 255`);
  const t = new Float64Array(256).fill(Infinity);
  t.set(thresholds);
  for (let k = 0; k < n; k++) {
    const v = x[rows ? rows[k]! : k]!;
    if (v !== v) {
      out[k] = missingBin;
      continue;
    }
    let lo = (v > t[127]!) ? 128 : 0;
    lo += +(v > t[lo + 63]!) << 6;
    lo += +(v > t[lo + 31]!) << 5;
    lo += +(v > t[lo + 15]!) << 4;
    lo += +(v > t[lo + 7]!) << 3;
    lo += +(v > t[lo + 3]!) << 2;
    lo += +(v > t[lo + 1]!) << 1;
    lo += +(v > t[lo]!);
    out[k] = lo;
  }
  return out;
}

/** Bin codes of a categorical column: the index of the code among the known ones, else missing. */
export function binCategorical(x: Float64Array, rows: Uint32Array | null, known: readonly number[], missingBin: number): Uint8Array {
  const index = new Int16Array(256).fill(-1);
  known.forEach((code, i) => (index[code] = i));
  const n = rows ? rows.length : x.length;
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const v = x[rows ? rows[k]! : k]!;
    const b = v >= 0 && v < 256 && Number.isInteger(v) ? index[v]! : -1;
    out[k] = b < 0 ? missingBin : b;
  }
  return out;
}
