/**
 * The settings and the fitted state of histogram-based gradient-boosted trees. A GbtModel is
 * plain JSON-able data (numbers, arrays, strings, booleans): the trees hold raw thresholds and
 * category lists, so predicting needs neither the bin edges nor the training data.
 */

export type GbtTask = 'classification' | 'regression';

/** The knobs of fitGbt, named and defaulted like scikit-learn's HistGradientBoosting*. */
export interface GbtOptions {
  task: GbtTask;
  /** Per feature: true for a categorical feature given as integer codes 0..K-1 (K <= max_bins). */
  categorical?: boolean[];
  /** Shrinkage of every leaf value (default 0.1). */
  learning_rate?: number;
  /** Boosting iterations, one tree each (default 100). */
  max_iter?: number;
  /** Leaves per tree, grown best-first by gain; null = unlimited (default 31). */
  max_leaf_nodes?: number | null;
  /** Depth limit (root = depth 0); null = none (default). */
  max_depth?: number | null;
  /** Fewest training rows in a leaf (default 20). */
  min_samples_leaf?: number;
  /** L2 penalty on leaf values (default 0). */
  l2_regularization?: number;
  /** Bins for non-missing values, 2..255; one more bin holds the missing values (default 255). */
  max_bins?: number;
  /** 'auto' (default): on when there are more than 10,000 rows. */
  early_stopping?: 'auto' | boolean;
  /** Share of rows held out to score early stopping (default 0.1). */
  validation_fraction?: number;
  /** Stop when none of the last n_iter_no_change iterations beat the one before them by tol (default 10). */
  n_iter_no_change?: number;
  /** Least improvement of the validation loss that counts (default 1e-7). */
  tol?: number;
  /** Seeds the bin subsample, the validation split and the training-loss sample (default 0). */
  seed?: number;
  /**
   * Threads to fit with (default: the cores there are, at most 2; env MLOPS_GBT_THREADS
   * overrides). Only speed depends on it, never the model; not recorded in the settings.
   */
  threads?: number;
}

/** The options with every default filled in, as the model records them. */
export interface GbtSettings {
  task: GbtTask;
  learning_rate: number;
  max_iter: number;
  max_leaf_nodes: number | null;
  max_depth: number | null;
  min_samples_leaf: number;
  l2_regularization: number;
  max_bins: number;
  early_stopping: 'auto' | boolean;
  validation_fraction: number;
  n_iter_no_change: number;
  tol: number;
  seed: number;
}

/**
 * One tree as flat arrays indexed by node (node 0 is the root; children come after their parent,
 * the left subtree before the right one). An internal node sends a row left when
 *   numeric:     x <= threshold;
 *   categorical: x is one of categories[cat_offset .. cat_offset + cat_count);
 * and a missing x (NaN; for categorical features also a code not seen in training) goes left
 * exactly when missing_left is 1. Leaves have is_leaf 1 and their (shrunk) value in value.
 */
export interface GbtTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  missing_left: number[];
  is_leaf: number[];
  value: number[];
  /** Offset into categories of a categorical split's left codes; -1 on other nodes. */
  cat_offset: number[];
  cat_count: number[];
  /** The left category codes of all categorical splits of the tree, one run per split. */
  categories: number[];
}

export interface GbtModel {
  kind: 'gbt';
  task: GbtTask;
  n_features: number;
  categorical: boolean[];
  /** Per feature: the codes seen in training (sorted), or null for a numeric feature. */
  known_categories: (number[] | null)[];
  /** Raw score before any tree: log-odds of the mean label, or the mean target. */
  baseline: number;
  /** Trees kept (= iterations run). */
  n_iter: number;
  trees: GbtTree[];
  /** Total split gain per feature, normalised to sum 1 (all 0 when no tree split). */
  feature_importances: number[];
  settings: GbtSettings;
  /**
   * Mean loss (log loss, or half the squared error) at the baseline and after each iteration,
   * on the training rows (a fixed random sample of 10,000 of them when there are more).
   */
  train_loss: number[];
  /** The same on the validation rows; empty without early stopping. */
  validation_loss: number[];
  n_train: number;
  n_validation: number;
}

const TREE_ARRAYS = ['feature', 'threshold', 'left', 'right', 'missing_left', 'is_leaf', 'value', 'cat_offset', 'cat_count'] as const;

/**
 * What is wrong with the trees of a model of d features, or null: every node array of a tree as
 * long as the others and all finite numbers (JSON writes an overflowed leaf value as null),
 * children after their node and inside the tree, features in 0..d-1, a finite baseline.
 * treesProblem(fitted, 3) === 'tree 4: "value" holds a value that is not a finite number'.
 */
export function treesProblem(t: GbtModel, d: number): string | null {
  if (typeof t.baseline !== 'number' || !Number.isFinite(t.baseline)) return 'the baseline is not a finite number';
  for (let k = 0; k < t.trees.length; k++) {
    const tree = (t.trees[k] ?? {}) as unknown as Record<string, unknown>;
    const n = Array.isArray(tree.value) ? tree.value.length : 0;
    if (n === 0) return `tree ${k}: no nodes`;
    for (const key of [...TREE_ARRAYS, 'categories'] as const) {
      const a = tree[key];
      if (!Array.isArray(a) || (key !== 'categories' && a.length !== n)) return `tree ${k}: "${key}" is not an array of ${n} numbers`;
      if (!a.every((v) => typeof v === 'number' && Number.isFinite(v))) return `tree ${k}: "${key}" holds a value that is not a finite number`;
    }
    const g = tree as unknown as GbtTree;
    for (let i = 0; i < n; i++) {
      if (g.is_leaf[i]) continue;
      if (!(g.left[i]! > i && g.left[i]! < n && g.right[i]! > i && g.right[i]! < n)) return `tree ${k}: node ${i} has a child outside the tree`;
      if (!(Number.isInteger(g.feature[i]) && g.feature[i]! >= 0 && g.feature[i]! < d)) return `tree ${k}: node ${i} splits on a feature the model does not have`;
      if (g.cat_offset[i]! >= 0 && g.cat_offset[i]! + g.cat_count[i]! > g.categories.length) return `tree ${k}: node ${i} has categories outside the tree`;
    }
  }
  return null;
}
