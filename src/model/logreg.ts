/**
 * Binary logistic regression fitted exactly like scikit-learn's LogisticRegression() defaults
 * (L2 penalty, C = 1, intercept not penalised, raw features), by Newton's method (IRLS) with a
 * backtracking line search:
 *
 *   minimise  f(b, w) = 0.5 * ||w||^2 + C * sum_i [ log(1 + exp(z_i)) - y_i * z_i ],  z_i = b + x_i . w
 *
 * The objective is strictly convex in w and the penalty keeps it bounded, so the optimum exists
 * even for separable data and Newton converges to it quadratically. Each Newton system is solved
 * with a Jacobi-scaled Cholesky factorisation, so features on wildly different scales (counts
 * up to 1e5 next to 0/1 flags) do not hurt the solve. It stops after a full Newton step that
 * moved no coefficient by more than 1e-10 * (1 + |coefficient|) (FitOptions.tol), which bounds
 * the error in the coefficients themselves: on ill-conditioned data (sklearn's digits, C = 0.01)
 * a rule on the gradient or the objective stops with coefficients 2e-4 (relative) off. Cost: O(n d^2) per
 * iteration, typically 8-15 iterations, 4 on large data after the warm start.
 */

export interface FitOptions {
  C: number;
  maxIter: number;
  /**
   * Stop after a full Newton step whose largest entry, relative to its coefficient, is
   * max_j |step_j| / (1 + |beta_j|) <= tol (default 1e-10). Newton converges quadratically, so
   * the coefficients then sit well within tol of the optimum, which a rule on the gradient or
   * the objective cannot promise on ill-conditioned data.
   */
  tol?: number;
  /** Starting point [intercept, ...coefficients]; default: a warm start or the intercept-only fit. */
  start?: readonly number[];
}

/** Rows of the subsample used for a warm start on large data. */
export const WARM_START_ROWS = 50_000;

export interface FitResult {
  intercept: number;
  coefficients: number[];
  iterations: number;
  /** max |gradient| at the returned coefficients. */
  gradientMaxNorm: number;
  objective: number;
  /** The stopping rule of FitOptions.tol was met (or the steps hit a rounding floor below 1e-6). */
  converged: boolean;
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** z = b + sum_j w_j x_j for every row, column by column. */
function linear(X: readonly Float64Array[], n: number, beta: Float64Array, z: Float64Array): void {
  z.fill(beta[0]!);
  for (let j = 0; j < X.length; j++) {
    const w = beta[j + 1]!;
    const x = X[j]!;
    for (let i = 0; i < n; i++) z[i]! += w * x[i]!;
  }
}

/**
 * Objective at beta, and for every row the residual r = p - y and the IRLS weight p(1 - p),
 * from one exp and one log1p per row; z lives in r until it is replaced, so there are no n-sized
 * arrays beyond r and w (at ten million rows every such array is 80 MB).
 */
function evaluate(X: readonly Float64Array[], y: Float64Array, beta: Float64Array, C: number, r: Float64Array, w: Float64Array): number {
  const n = y.length;
  // z = X beta into r, column by column (tight loops), then r and w from z in one pass.
  linear(X, n, beta, r);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const zi = r[i]!;
    const e = Math.exp(-Math.abs(zi));
    const p = zi >= 0 ? 1 / (1 + e) : e / (1 + e);
    const yi = y[i]!;
    // log(1 + exp(z)) - y z, without overflow
    loss += (zi > 0 ? zi : 0) + Math.log1p(e) - yi * zi;
    r[i] = p - yi;
    w[i] = p * (1 - p);
  }
  let pen = 0;
  for (let j = 1; j < beta.length; j++) pen += beta[j]! * beta[j]!;
  return 0.5 * pen + C * loss;
}

/**
 * Solve A x = b for symmetric positive definite A (row-major, m x m) by Cholesky after scaling
 * A to unit diagonal. Returns null when A is not numerically positive definite.
 */
export function solveSpd(A: Float64Array, b: Float64Array, m: number): Float64Array | null {
  const s = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const d = A[i * m + i]!;
    if (!(d > 0)) return null;
    s[i] = 1 / Math.sqrt(d);
  }
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * m + j]! * s[i]! * s[j]!;
      for (let k = 0; k < j; k++) sum -= L[i * m + k]! * L[j * m + k]!;
      if (i === j) {
        if (!(sum > 1e-300)) return null;
        L[i * m + i] = Math.sqrt(sum);
      } else L[i * m + j] = sum / L[j * m + j]!;
    }
  }
  const u = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let sum = b[i]! * s[i]!;
    for (let k = 0; k < i; k++) sum -= L[i * m + k]! * u[k]!;
    u[i] = sum / L[i * m + i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let sum = u[i]!;
    for (let k = i + 1; k < m; k++) sum -= L[k * m + i]! * x[k]!;
    x[i] = sum / L[i * m + i]!;
  }
  for (let i = 0; i < m; i++) x[i]! *= s[i]!;
  return x;
}

/**
 * Gradient at beta from the residuals r of `evaluate`, column by column. Returns max |gradient|.
 * Cost: O(n d).
 */
function gradient(X: readonly Float64Array[], beta: Float64Array, C: number, g: Float64Array, r: Float64Array): number {
  const n = r.length;
  let g0 = 0;
  for (let i = 0; i < n; i++) g0 += r[i]!;
  g[0] = C * g0;
  for (let j = 1; j < beta.length; j++) {
    const xj = X[j - 1]!;
    let gs = 0;
    for (let i = 0; i < n; i++) gs += xj[i]! * r[i]!;
    g[j] = C * gs + beta[j]!;
  }
  let max = 0;
  for (let j = 0; j < beta.length; j++) max = Math.max(max, Math.abs(g[j]!));
  return max;
}

/**
 * Hessian C * X1' diag(w) X1 + diag(0, 1, ..., 1) (X1 = [1, X]) from the weights w of
 * `evaluate`, column by column (tight loops over typed arrays). Cost: O(n d^2).
 */
function hessian(X: readonly Float64Array[], C: number, H: Float64Array, w: Float64Array): void {
  const n = w.length;
  const m = X.length + 1;
  let h00 = 0;
  for (let i = 0; i < n; i++) h00 += w[i]!;
  H[0] = C * h00;
  for (let j = 1; j < m; j++) {
    const xj = X[j - 1]!;
    let h0 = 0;
    for (let i = 0; i < n; i++) h0 += xj[i]! * w[i]!;
    H[j * m] = H[j] = C * h0;
    for (let k = 1; k <= j; k++) {
      const xk = X[k - 1]!;
      let hs = 0;
      for (let i = 0; i < n; i++) hs += w[i]! * xj[i]! * xk[i]!;
      const v = C * hs + (j === k ? 1 : 0);
      H[j * m + k] = v;
      H[k * m + j] = v;
    }
  }
}

/**
 * Fit on columns X (each a Float64Array of n finite values) and labels y in {0, 1}.
 * The caller has dropped unlabelled rows and imputed missing features.
 *
 * A constant column (all zero or any other single value) has coefficient exactly 0 at the
 * optimum: its gradient entry is value * (the intercept's) + w_j, and the intercept's is 0 there.
 * Such columns are left out of the Newton system, where a large constant next to the
 * intercept would make the Hessian nearly singular.
 */
export function fitLogistic(X: readonly Float64Array[], y: Float64Array, opts: FitOptions): FitResult {
  const varying = X.flatMap((col, j) => (col.some((v) => v !== col[0]) ? [j] : []));
  if (varying.length === X.length) return newton(X, y, opts);
  let start: number[] | undefined;
  if (opts.start) {
    // The same model without the constant columns: the intercept absorbs value * coefficient.
    const s = opts.start;
    let b = s[0]!;
    X.forEach((col, j) => {
      if (!varying.includes(j)) b += (col[0] ?? 0) * s[j + 1]!;
    });
    start = [b, ...varying.map((j) => s[j + 1]!)];
  }
  const fit = newton(
    varying.map((j) => X[j]!),
    y,
    { ...opts, start },
  );
  const coefficients = new Array<number>(X.length).fill(0);
  varying.forEach((j, k) => (coefficients[j] = fit.coefficients[k]!));
  return { ...fit, coefficients };
}

/** Newton's method on columns that all vary; see fitLogistic. */
function newton(X: readonly Float64Array[], y: Float64Array, opts: FitOptions): FitResult {
  const n = y.length;
  const m = X.length + 1;
  const tol = opts.tol ?? 1e-10;
  const C = opts.C;
  let beta = new Float64Array(m);
  if (opts.start) beta.set(opts.start);
  else if (n >= 4 * WARM_START_ROWS) {
    // Warm start from a fit on every k-th row (with C scaled so the sample's loss weighs as much
    // as the full data's): Newton then needs 2-3 full-data iterations instead of 7-9. The
    // sample's optimum is only within sampling noise of the full data's, so a loose tolerance.
    const k = Math.floor(n / WARM_START_ROWS);
    const pick = (col: Float64Array) => {
      const out = new Float64Array(Math.floor(n / k));
      for (let i = 0; i < out.length; i++) out[i] = col[i * k]!;
      return out;
    };
    const sub = fitLogistic(X.map(pick), pick(y), { C: C * k, maxIter: opts.maxIter, tol: 1e-3 });
    beta.set([sub.intercept, ...sub.coefficients]);
  } else {
    // Start at the intercept-only optimum: log-odds of the positive share.
    let pos = 0;
    for (let i = 0; i < n; i++) pos += y[i]!;
    const share = Math.min(Math.max(pos / n, 1e-12), 1 - 1e-12);
    beta[0] = Math.log(share / (1 - share));
  }

  const r = new Float64Array(n);
  const w = new Float64Array(n);
  const g = new Float64Array(m);
  const H = new Float64Array(m * m);
  let f = evaluate(X, y, beta, C, r, w);
  let converged = false;
  let lastFull = Infinity; // size of the previous full Newton step
  let iter = 0;
  while (iter < opts.maxIter) {
    gradient(X, beta, C, g, r);
    hessian(X, C, H, w);
    iter++;
    const negG = g.map((v) => -v);
    let step = solveSpd(H, negG, m);
    if (!step) {
      // Not numerically positive definite (cannot happen in exact arithmetic): fall back to a
      // diagonally loaded system, which is still a descent direction.
      const Hl = H.slice();
      for (let j = 0; j < m; j++) Hl[j * m + j]! *= 1 + 1e-6;
      step = solveSpd(Hl, negG, m);
      if (!step) break;
    }
    let size = 0;
    for (let j = 0; j < m; j++) size = Math.max(size, Math.abs(step[j]!) / (1 + Math.abs(beta[j]!)));
    // Backtracking (Armijo) line search on the objective; the full Newton step is almost
    // always accepted, so this costs one evaluation per iteration. Near the optimum the
    // predicted decrease (the Newton decrement, -slope) falls below what the objective can
    // resolve in floating point; there Newton converges quadratically and the full step is
    // taken without the test, which would otherwise only compare rounding noise.
    let slope = 0;
    for (let j = 0; j < m; j++) slope += g[j]! * step[j]!;
    const pureNewton = -slope <= 1e-10 * (Math.abs(f) + 1);
    let t = 1;
    let accepted = false;
    const next = new Float64Array(m);
    for (let k = 0; k < 60; k++) {
      for (let j = 0; j < m; j++) next[j] = beta[j]! + t * step[j]!;
      const fTry = evaluate(X, y, next, C, r, w);
      if (pureNewton || fTry <= f + 1e-4 * t * slope) {
        accepted = true;
        f = fTry;
        beta = next;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      evaluate(X, y, beta, C, r, w); // r and w hold a rejected trial: restore them
      break; // no further progress possible in floating point
    }
    if (t < 1) continue;
    // A full Newton step of relative size s leaves an error of order s^2 (quadratic
    // convergence): once s <= tol the coefficients are far closer than tol to the optimum.
    if (size <= tol) {
      converged = true;
      break;
    }
    // Small full steps that stop shrinking have reached the rounding floor of this problem
    // (the gradient's rounding error times the condition number): stop there, converged as
    // far as floating point allows.
    if (size <= 1e-6 && size >= lastFull) {
      converged = true;
      break;
    }
    lastFull = size;
  }
  return {
    intercept: beta[0]!,
    coefficients: Array.from(beta.subarray(1)),
    iterations: iter,
    gradientMaxNorm: gradient(X, beta, C, g, r),
    objective: f,
    converged,
  };
}

/** Probabilities of class 1 for the given columns. */
export function predictProba(X: readonly Float64Array[], intercept: number, coefficients: readonly number[]): Float64Array {
  const n = X[0]?.length ?? 0;
  const z = new Float64Array(n);
  linear(X, n, Float64Array.from([intercept, ...coefficients]), z);
  for (let i = 0; i < n; i++) z[i] = sigmoid(z[i]!);
  return z;
}
