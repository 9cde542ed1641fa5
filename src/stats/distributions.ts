/** Survival functions of the distributions behind the tests. */
import { betaIncomplete, gammaUpper } from './special.js';

/** Two-sided p-value of Student's t: P(|T| >= |t|) with df degrees of freedom. */
export function studentTTwoSided(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return betaIncomplete(df / 2, 0.5, df / (df + t * t));
}

/** P(X >= x) for a chi-square variable with k degrees of freedom. */
export function chiSquareSf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k > 0)) return Number.NaN;
  return gammaUpper(k / 2, x / 2);
}

/**
 * P(K > lambda) for the Kolmogorov distribution (the limit of sqrt(n) * D):
 * 2 * sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2). Equals scipy.stats.kstwobign.sf(lambda).
 */
export function kolmogorovSf(lambda: number): number {
  if (lambda <= 0) return 1;
  if (lambda < 0.2) return 1; // the series converges slowly here and the value is 1 to 1e-15
  let sum = 0;
  for (let j = 1; j <= 200; j++) {
    const term = Math.exp(-2 * j * j * lambda * lambda);
    sum += j % 2 === 1 ? term : -term;
    if (term < 1e-17) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
