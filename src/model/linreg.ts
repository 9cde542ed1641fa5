/**
 * Least squares with an optional ridge penalty, as scikit-learn's LinearRegression() (alpha 0)
 * and Ridge(alpha):
 *
 *   minimise  ||y - b - X w||^2 + alpha * ||w||^2        (the intercept b is not penalised)
 *
 * Solved on centred data (which removes b exactly: b = mean(y) - mean(x) . w) by the normal
 * equations with a Jacobi-scaled Cholesky factorisation, then two steps of iterative refinement
 * on the residual computed from the data itself: that recovers the digits the normal equations
 * lose to the squared condition number, so the result agrees with an SVD least-squares solve to
 * about 1e-10 relative on well-posed data. Cost: O(n d^2) for X'X plus O(n d) per refinement.
 * Collinear columns without a penalty (a singular X'X) are refused by the caller's message.
 */
import { solveSpd } from './logreg.js';

export interface LinearFit {
  intercept: number;
  coefficients: number[];
  /** Refinement steps taken (0-2). */
  refinements: number;
}

/** Means of each column and of y. */
function centres(X: readonly Float64Array[], y: Float64Array): { mx: Float64Array; my: number } {
  const n = y.length;
  const mx = new Float64Array(X.length);
  X.forEach((col, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += col[i]!;
    // a second pass removes the first one's rounding (as numpy's mean does not, but it is cheap)
    let c = 0;
    const m = s / n;
    for (let i = 0; i < n; i++) c += col[i]! - m;
    mx[j] = m + c / n;
  });
  let s = 0;
  for (let i = 0; i < n; i++) s += y[i]!;
  let c = 0;
  for (let i = 0; i < n; i++) c += y[i]! - s / n;
  return { mx, my: s / n + c / n };
}

/** Fit; returns null when X'X + alpha I is not positive definite (collinear columns, alpha 0). */
export function fitLinear(X: readonly Float64Array[], y: Float64Array, alpha: number): LinearFit | null {
  const n = y.length;
  const d = X.length;
  const { mx, my } = centres(X, y);
  const Xc = X.map((col, j) => {
    const out = new Float64Array(n);
    const m = mx[j]!;
    for (let i = 0; i < n; i++) out[i] = col[i]! - m;
    return out;
  });
  const yc = new Float64Array(n);
  for (let i = 0; i < n; i++) yc[i] = y[i]! - my;
  const A = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    const xa = Xc[a]!;
    for (let b = 0; b <= a; b++) {
      const xb = Xc[b]!;
      let s = 0;
      for (let i = 0; i < n; i++) s += xa[i]! * xb[i]!;
      A[a * d + b] = s;
      A[b * d + a] = s;
    }
    A[a * d + a]! += alpha;
  }
  // g = Xc'(yc - Xc w) - alpha w: the gradient (up to a factor -2), zero at the optimum
  const w = new Float64Array(d);
  const r = new Float64Array(n);
  const gradient = (): Float64Array => {
    r.set(yc);
    for (let j = 0; j < d; j++) {
      const xj = Xc[j]!;
      const wj = w[j]!;
      if (wj !== 0) for (let i = 0; i < n; i++) r[i]! -= wj * xj[i]!;
    }
    const g = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      const xj = Xc[j]!;
      let s = 0;
      for (let i = 0; i < n; i++) s += xj[i]! * r[i]!;
      g[j] = s - alpha * w[j]!;
    }
    return g;
  };
  let refinements = 0;
  for (let step = 0; step < 3; step++) {
    const delta = solveSpd(A, gradient(), d);
    if (!delta) return null;
    let moved = 0;
    for (let j = 0; j < d; j++) {
      w[j]! += delta[j]!;
      moved = Math.max(moved, Math.abs(delta[j]!) / (1 + Math.abs(w[j]!)));
    }
    if (step > 0) refinements++;
    if (moved <= 1e-15) break;
  }
  let b = my;
  for (let j = 0; j < d; j++) b -= mx[j]! * w[j]!;
  return { intercept: b, coefficients: Array.from(w), refinements };
}

/** b + X w for every row. */
export function predictLinear(X: readonly Float64Array[], intercept: number, coefficients: readonly number[]): Float64Array {
  const n = X[0]?.length ?? 0;
  const z = new Float64Array(n).fill(intercept);
  coefficients.forEach((w, j) => {
    const x = X[j]!;
    for (let i = 0; i < n; i++) z[i]! += w * x[i]!;
  });
  return z;
}
