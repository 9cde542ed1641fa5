/**
 * fitGbt: histogram-based gradient boosting, the algorithm and defaults of scikit-learn's
 * HistGradientBoostingClassifier (binary, log loss) and HistGradientBoostingRegressor (squared
 * error). Each iteration fits one tree to the gradients and hessians of the loss at the current
 * raw scores, with Newton leaf values -G / (H + l2) shrunk by learning_rate. Early stopping
 * holds out validation_fraction of the rows (stratified for classification) and stops once none
 * of the last n_iter_no_change iterations improved the validation loss by more than tol on the
 * one before them; every tree grown is kept, as in scikit-learn.
 *
 * Cost: O(rows x features) to bin, then per iteration O(rows x (features + depth)).
 */
import { ConfigError, DataError } from '../../errors.js';
import { rng } from '../../tools/gendata.js';
import { BIN_SUBSAMPLE, binCategorical, binNumericFeature } from './binning.js';
import { Grower, type GrownTree } from './grower.js';
import { holdoutCut, scoreRows, type Holdout, type TreeRoute } from './holdout.js';
import { baselineOf, meanLoss } from './loss.js';
import type { BinJob } from './protocol.js';
import { defaultThreads, Team } from './threads.js';
import type { GbtModel, GbtOptions, GbtSettings, GbtTree } from './types.js';

/** Rows above which early_stopping 'auto' turns on. */
const AUTO_EARLY_STOPPING_ROWS = 10_000;
/** Training rows the per-iteration training loss is measured on. */
const TRAIN_LOSS_ROWS = 10_000;
/** The threshold of a split that sends every non-missing value left (scikit-learn's +inf). */
const ALL_LEFT = Number.MAX_VALUE;
/** Training rows from which fitGbt starts worker threads. */
const PARALLEL_MIN_TRAIN_ROWS = 50_000;

export function fitGbt(X: readonly Float64Array[], y: Float64Array, opts: GbtOptions): GbtModel {
  const settings = resolveSettings(opts);
  const nFeatures = X.length;
  const n = y.length;
  checkData(X, y, settings);
  const categorical = X.map((_, f) => opts.categorical?.[f] ?? false);
  if (opts.categorical && opts.categorical.length !== nFeatures) {
    throw new ConfigError(`gbt: categorical has ${opts.categorical.length} entries for ${nFeatures} features`, 'Give one flag per feature.');
  }
  const known = X.map((x, f) => (categorical[f] ? knownCategories(x, f, settings.max_bins) : null));
  const random = rng(settings.seed);

  const early = settings.early_stopping === 'auto' ? n > AUTO_EARLY_STOPPING_ROWS : settings.early_stopping;
  const { train, validation } = early ? splitRows(y, settings, random) : { train: null, validation: null };
  const nTrain = train ? train.length : n;
  const yTrain = train ? pick(y, train) : y;
  const yVal = validation ? pick(y, validation) : null;

  // Worker threads only pay off on many rows; the model is the same either way.
  const threads = opts.threads ?? defaultThreads();
  const team = nTrain >= PARALLEL_MIN_TRAIN_ROWS ? Team.open(Math.min(threads, 2)) : null;
  try {
    return boost();
  } finally {
    team?.close();
  }

  function boost(): GbtModel {
    // Bins: thresholds from a subsample of the training rows. With a worker, it bins every
    // other numeric feature (the same function on shared copies of the columns).
    const missingBin = settings.max_bins;
    const sample = nTrain > BIN_SUBSAMPLE ? sampleRows(nTrain, BIN_SUBSAMPLE, random) : null;
    const binsTrain: Uint8Array[] = [];
    const binsVal: Uint8Array[] = [];
    const thresholds: (Float64Array | null)[] = [];
    const nBinsNonMissing = new Int32Array(nFeatures);
    const hasMissing = new Uint8Array(nFeatures);
    const nVal = validation ? validation.length : 0;
    // The worker's features first (every other numeric one), posted before the main thread
    // bins its own, so both bin at once.
    const jobOf: (BinJob | null)[] = new Array<BinJob | null>(nFeatures).fill(null);
    if (team) {
      for (let f = 0, numeric = 0; f < nFeatures; f++) {
        if (known[f] || numeric++ % 2 === 0) continue;
        jobOf[f] = {
          source: pickInto(X[f]!, train, shared64(nTrain)),
          sample,
          val: validation ? pickInto(X[f]!, validation, shared64(nVal)) : null,
          out: new Uint8Array(new SharedArrayBuffer(nTrain)),
          valOut: validation ? new Uint8Array(new SharedArrayBuffer(nVal)) : null,
          thresholds: shared64(settings.max_bins),
          count: new Int32Array(new SharedArrayBuffer(4)),
        };
      }
    }
    const jobs = jobOf.filter((j): j is BinJob => j !== null);
    if (jobs.length > 0) team!.message(1, { op: 'bin', jobs, maxBins: settings.max_bins, missingBin });
    for (let f = 0; f < nFeatures; f++) {
      const x = X[f]!;
      const cats = known[f];
      const job = jobOf[f];
      if (job) {
        thresholds[f] = null;
        binsTrain[f] = job.out;
        if (validation) binsVal[f] = job.valOut!;
      } else if (cats) {
        thresholds[f] = null;
        nBinsNonMissing[f] = cats.length;
        binsTrain[f] = binCategorical(x, train, cats, missingBin);
        if (validation) binsVal[f] = binCategorical(x, validation, cats, missingBin);
      } else {
        const source = train ? pick(x, train) : x;
        const out = new Uint8Array(nTrain);
        const valOut = validation ? new Uint8Array(nVal) : null;
        thresholds[f] = binNumericFeature(source, sample, validation ? pick(x, validation) : null, settings.max_bins, missingBin, out, valOut);
        binsTrain[f] = out;
        if (valOut) binsVal[f] = valOut;
      }
    }
    if (jobs.length > 0) team!.waitAll();
    for (let f = 0; f < nFeatures; f++) {
      const job = jobOf[f];
      if (job) thresholds[f] = job.thresholds.slice(0, job.count[0]!);
      if (!known[f]) nBinsNonMissing[f] = thresholds[f]!.length + 1;
      hasMissing[f] = binsTrain[f]!.includes(missingBin) ? 1 : 0;
    }

    const task = settings.task;
    const baseline = baselineOf(task, yTrain);
    const lossRows = nTrain > TRAIN_LOSS_ROWS ? sampleRows(nTrain, TRAIN_LOSS_ROWS, random) : null;

    const grower = new Grower(
      {
        nBins: settings.max_bins + 1,
        missingBin,
        nBinsNonMissing,
        hasMissing,
        isCategorical: Uint8Array.from(categorical, (c) => (c ? 1 : 0)),
        constHessian: task === 'regression',
        minSamplesLeaf: settings.min_samples_leaf,
        l2: settings.l2_regularization,
        maxLeafNodes: settings.max_leaf_nodes,
        maxDepth: settings.max_depth,
      },
      binsTrain,
      yTrain,
      baseline,
      team,
    );
    // The training loss is tracked on the sample as on the validation rows: from their bins.
    const nBins = settings.max_bins + 1;
    const yLoss = lossRows ? pick(yTrain, lossRows) : yTrain;
    const lossRowsBinned: Holdout = {
      task,
      nFeatures,
      nBins,
      bins: rowMajor(lossRows ? binsTrain.map((c) => pickBins(c, lossRows)) : binsTrain, false),
      y: yLoss,
      raw: new Float64Array(yLoss.length).fill(baseline),
    };
    binsTrain.length = 0;
    const trainLoss = [meanLoss(task, yLoss, lossRowsBinned.raw)];
    // The validation rows: with a team, on shared memory, the worker scoring the second half.
    const shared = team !== null;
    const holdout: Holdout | null = yVal
      ? { task, nFeatures, nBins, bins: rowMajor(binsVal, shared), y: copyOf(yVal, shared), raw: alloc64(nVal, shared).fill(baseline) }
      : null;
    const valLoss = holdout ? [meanLoss(task, holdout.y, holdout.raw)] : [];
    const cut = holdoutCut(nVal);
    const secondHalf = new Float64Array(shared ? new SharedArrayBuffer(8) : new ArrayBuffer(8));
    if (holdout && team) team.message(1, { op: 'holdout', holdout, result: secondHalf.buffer as SharedArrayBuffer });
    const trees: GbtTree[] = [];
    const gains = new Float64Array(nFeatures);
    const lr = settings.learning_rate;
    let prev: GrownTree | null = null;
    for (let iter = 0; iter < settings.max_iter; iter++) {
      const tree: GrownTree = grower.grow(prev, lr);
      prev = tree;
      for (let i = 0; i < tree.isLeaf.length; i++) if (!tree.isLeaf[i]) gains[tree.feature[i]!]! += tree.gain[i]!;
      trees.push(toModelTree(tree, lr, thresholds, known, nBinsNonMissing));
      const route: TreeRoute = { feature: tree.feature, left: tree.left, right: tree.right, isLeaf: tree.isLeaf, value: tree.value, goesLeft: tree.goesLeft };
      if (holdout && team) team.message(1, { op: 'score', tree: route, lr, from: cut, to: nVal });
      trainLoss.push(scoreRows(lossRowsBinned, route, lr, 0, yLoss.length) / yLoss.length);
      if (holdout) {
        const first = scoreRows(holdout, route, lr, 0, cut);
        if (team) team.waitAll();
        else secondHalf[0] = scoreRows(holdout, route, lr, cut, nVal);
        valLoss.push((first + secondHalf[0]!) / nVal);
        if (shouldStop(valLoss, settings)) break;
      }
    }

    const total = gains.reduce((a, b) => a + b, 0);
    return {
      kind: 'gbt',
      task,
      n_features: nFeatures,
      categorical,
      known_categories: known,
      baseline,
      n_iter: trees.length,
      trees,
      feature_importances: Array.from(gains, (v) => (total > 0 ? v / total : 0)),
      settings,
      train_loss: trainLoss,
      validation_loss: valLoss,
      n_train: nTrain,
      n_validation: validation ? validation.length : 0,
    };
  }
}

/** scikit-learn's rule: stop when none of the last k losses beat the one k + 1 back by tol. */
function shouldStop(losses: readonly number[], s: GbtSettings): boolean {
  const k = s.n_iter_no_change;
  if (losses.length < k + 1) return false;
  const reference = losses[losses.length - k - 1]! - s.tol;
  for (let i = losses.length - k; i < losses.length; i++) if (losses[i]! < reference) return false;
  return true;
}

function resolveSettings(o: GbtOptions): GbtSettings {
  const s: GbtSettings = {
    task: o.task,
    learning_rate: o.learning_rate ?? 0.1,
    max_iter: o.max_iter ?? 100,
    max_leaf_nodes: o.max_leaf_nodes === undefined ? 31 : o.max_leaf_nodes,
    max_depth: o.max_depth ?? null,
    min_samples_leaf: o.min_samples_leaf ?? 20,
    l2_regularization: o.l2_regularization ?? 0,
    max_bins: o.max_bins ?? 255,
    early_stopping: o.early_stopping ?? 'auto',
    validation_fraction: o.validation_fraction ?? 0.1,
    n_iter_no_change: o.n_iter_no_change ?? 10,
    tol: o.tol ?? 1e-7,
    seed: o.seed ?? 0,
  };
  const bad = (name: string, want: string) => new ConfigError(`gbt: ${name} must be ${want}`, `Got ${JSON.stringify((s as unknown as Record<string, unknown>)[name])}.`);
  const int = (v: number | null, min: number) => v === null || (Number.isInteger(v) && v >= min);
  if (s.task !== 'classification' && s.task !== 'regression') throw bad('task', "'classification' or 'regression'");
  if (!(s.learning_rate > 0)) throw bad('learning_rate', 'a positive number');
  if (!int(s.max_iter, 1)) throw bad('max_iter', 'an integer >= 1');
  if (!int(s.max_leaf_nodes, 2)) throw bad('max_leaf_nodes', 'an integer >= 2 or null');
  if (!int(s.max_depth, 1)) throw bad('max_depth', 'an integer >= 1 or null');
  if (!int(s.min_samples_leaf, 1)) throw bad('min_samples_leaf', 'an integer >= 1');
  if (!(s.l2_regularization >= 0)) throw bad('l2_regularization', 'a number >= 0');
  if (!int(s.max_bins, 2) || s.max_bins > 255) throw bad('max_bins', 'an integer in 2..255');
  if (!(s.validation_fraction > 0 && s.validation_fraction < 1)) throw bad('validation_fraction', 'in (0, 1)');
  if (!int(s.n_iter_no_change, 1)) throw bad('n_iter_no_change', 'an integer >= 1');
  if (!(s.tol >= 0)) throw bad('tol', 'a number >= 0');
  if (!Number.isInteger(s.seed)) throw bad('seed', 'an integer');
  return s;
}

function checkData(X: readonly Float64Array[], y: Float64Array, s: GbtSettings): void {
  if (X.length === 0) throw new DataError('gbt needs at least one feature');
  if (y.length < 2) throw new DataError('gbt needs at least two rows');
  X.forEach((x, f) => {
    if (x.length !== y.length) throw new DataError(`gbt: feature ${f} has ${x.length} rows, the target ${y.length}`);
  });
  let ones = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (s.task === 'classification' ? v !== 0 && v !== 1 : !Number.isFinite(v)) {
      throw new DataError(`gbt: target value ${v} at row ${i}`, s.task === 'classification' ? 'Classification labels must be 0 or 1.' : 'Regression targets must be finite.');
    }
    ones += v;
  }
  if (s.task === 'classification' && (ones === 0 || ones === y.length)) {
    throw new DataError('gbt classification needs both classes in the target');
  }
}

/** The sorted distinct codes of a categorical column; they must be integers in 0..maxBins-1. */
function knownCategories(x: Float64Array, f: number, maxBins: number): number[] {
  const seen = new Uint8Array(maxBins);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v !== v) continue;
    if (!Number.isInteger(v) || v < 0 || v >= maxBins) {
      throw new DataError(`gbt: categorical feature ${f} has the value ${v} at row ${i}`, `Encode categories as integers 0..${maxBins - 1}.`);
    }
    seen[v] = 1;
  }
  const out: number[] = [];
  seen.forEach((c, v) => c && out.push(v));
  return out;
}

/** Hold out ceil(fraction x n) rows, stratified by label for classification; both sorted. */
function splitRows(y: Float64Array, s: GbtSettings, random: () => number): { train: Uint32Array; validation: Uint32Array } {
  const n = y.length;
  const nVal = Math.ceil(s.validation_fraction * n);
  const isVal = new Uint8Array(n);
  const groups = rowsByLabel(y, s.task === 'classification');
  let left = nVal;
  groups.forEach((group, gi) => {
    const take = gi === groups.length - 1 ? left : Math.round((nVal * group.length) / n);
    left -= take;
    const picked = sampleRows(group.length, Math.min(take, group.length), random);
    for (const k of picked) isVal[group[k]!] = 1;
  });
  const validation = new Uint32Array(nVal);
  const train = new Uint32Array(n - nVal);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (isVal[i]) validation[a++] = i;
    else train[b++] = i;
  }
  return { train, validation };
}

/** The row numbers of each label, in order (0 and 1 for classification; one group otherwise). */
function rowsByLabel(y: Float64Array, byLabel: boolean): Uint32Array[] {
  const n = y.length;
  if (!byLabel) {
    const all = new Uint32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return [all];
  }
  let ones = 0;
  for (let i = 0; i < n; i++) ones += y[i]!;
  const groups = [new Uint32Array(n - ones), new Uint32Array(ones)];
  const next = [0, 0];
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    groups[c]![next[c]!++] = i;
  }
  return groups;
}

/** k distinct indices of 0..n-1, uniformly at random (partial Fisher-Yates). */
function sampleRows(n: number, k: number, random: () => number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, k);
}

/** Columns of bin codes as one row-major matrix (on shared memory if shared). */
function rowMajor(columns: readonly Uint8Array[], shared: boolean): Uint8Array {
  const nf = columns.length;
  const n = columns[0]!.length;
  const out = new Uint8Array(shared ? new SharedArrayBuffer(n * nf) : new ArrayBuffer(n * nf));
  columns.forEach((c, f) => {
    for (let i = 0; i < n; i++) out[i * nf + f] = c[i]!;
  });
  return out;
}

/** A Float64Array on a SharedArrayBuffer. */
function shared64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * 8));
}

function alloc64(n: number, shared: boolean): Float64Array {
  return shared ? shared64(n) : new Float64Array(n);
}

function copyOf(x: Float64Array, shared: boolean): Float64Array {
  const out = alloc64(x.length, shared);
  out.set(x);
  return out;
}

/** x at the given rows (all when null), into out. */
function pickInto(x: Float64Array, rows: Uint32Array | null, out: Float64Array): Float64Array {
  if (!rows) out.set(x);
  else for (let k = 0; k < rows.length; k++) out[k] = x[rows[k]!]!;
  return out;
}

function pickBins(x: Uint8Array, rows: Uint32Array): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = x[rows[k]!]!;
  return out;
}

function pick(x: Float64Array, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = x[rows[k]!]!;
  return out;
}

/** The model's form of a grown tree: raw thresholds, category codes, shrunk leaf values. */
function toModelTree(
  t: GrownTree,
  lr: number,
  thresholds: readonly (Float64Array | null)[],
  known: readonly (number[] | null)[],
  nBinsNonMissing: Int32Array,
): GbtTree {
  const m = t.isLeaf.length;
  const out: GbtTree = {
    feature: Array.from(t.feature),
    threshold: new Array<number>(m).fill(0),
    left: Array.from(t.left),
    right: Array.from(t.right),
    missing_left: Array.from(t.missingLeft),
    is_leaf: Array.from(t.isLeaf),
    value: Array.from(t.value, (v) => lr * v),
    cat_offset: new Array<number>(m).fill(-1),
    cat_count: new Array<number>(m).fill(0),
    categories: [],
  };
  for (let i = 0; i < m; i++) {
    if (t.isLeaf[i]) continue;
    const f = t.feature[i]!;
    const leftBins = t.leftBins[i];
    if (leftBins) {
      out.cat_offset[i] = out.categories.length;
      out.cat_count[i] = leftBins.length;
      for (const b of leftBins) out.categories.push(known[f]![b]!);
    } else {
      const b = t.bin[i]!;
      out.threshold[i] = b === nBinsNonMissing[f]! - 1 ? ALL_LEFT : thresholds[f]![b]!;
    }
  }
  return out;
}
