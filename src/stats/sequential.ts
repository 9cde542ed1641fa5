/**
 * Always-valid inference for experiments looked at as often as one likes: the verdict may be
 * read after every request and stopped at the first "significant", and the chance of ever
 * declaring a difference that is not there stays at most alpha.
 *
 * Both tests are normal mixtures: an estimate thetaHat ~ N(theta, v) with v known or estimated,
 * H0: theta = 0, and the likelihood ratio averaged over theta ~ N(0, tau^2),
 *
 *   Lambda = sqrt(v / (v + tau^2)) * exp(tau^2 thetaHat^2 / (2 v (v + tau^2))),
 *
 * a martingale under H0, so P(ever Lambda >= 1/alpha) <= alpha (Ville's inequality). The
 * always-valid p-value is min over looks of 1/Lambda; the confidence sequence is every theta
 * the test would not reject.
 *
 * - msprtBernoulli: two outcome rates (canary arms), Johari, Pekelis and Walsh, "Always Valid
 *   Inference: Continuous Monitoring of A/B Tests" (2017/2022), with v = pA(1-pA)/nA + pB(1-pB)/nB.
 * - pairedConfidenceSequence: the mean of paired differences (shadow: per-request loss of the
 *   champion minus the challenger), the asymptotic confidence sequence of Waudby-Smith, Arbour,
 *   Sinha, Kennedy and Ramdas, "Time-uniform central limit theory and asymptotic confidence
 *   sequences" (2024), eq. (2.5): mean +- sd sqrt(2 (n rho^2 + 1) / (n^2 rho^2) log(sqrt(n rho^2 + 1) / alpha)),
 *   the same mixture with v = sd^2 / n and tau = rho sd.
 */
import { probit } from 'simple-statistics';

export type Direction = 'continue' | 'greater' | 'less';

export interface SequentialResult {
  n: number;
  /** The estimated difference (B - A, or the mean of the differences). */
  estimate: number;
  /** Always-valid (1 - alpha) interval for the difference. */
  interval: [number, number];
  /** Always-valid p-value: the running minimum of 1 / Lambda (pass the last one as `previous_p`). */
  p_value: number;
  /** 'greater': the difference is above 0 (the interval excludes it), 'less': below. */
  decision: Direction;
}

/**
 * log Lambda of the normal mixture for an estimate with variance `v`, mixing variance `tau2`.
 * 0 (no evidence) when v is 0 or not finite. Cost: O(1).
 */
export function normalMixtureLogLR(estimate: number, v: number, tau2: number): number {
  if (!(v > 0) || !Number.isFinite(v) || !(tau2 > 0)) return 0;
  return 0.5 * Math.log(v / (v + tau2)) + (tau2 * estimate * estimate) / (2 * v * (v + tau2));
}

/** Half-width of the always-valid interval: the thetas with Lambda(thetaHat - theta) < 1/alpha. */
export function normalMixtureHalfWidth(v: number, tau2: number, alpha: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return Number.POSITIVE_INFINITY;
  return Math.sqrt(((v * (v + tau2)) / tau2) * (2 * Math.log(1 / alpha) + Math.log((v + tau2) / v)));
}

function result(n: number, estimate: number, v: number, tau2: number, alpha: number, previousP: number, ready: boolean): SequentialResult {
  if (!ready) return { n, estimate, interval: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY], p_value: previousP, decision: 'continue' };
  const p = Math.min(previousP, Math.exp(-normalMixtureLogLR(estimate, v, tau2)), 1);
  const h = normalMixtureHalfWidth(v, tau2, alpha);
  const decision: Direction = p > alpha ? 'continue' : estimate > 0 ? 'greater' : 'less';
  return { n, estimate, interval: [estimate - h, estimate + h], p_value: p, decision };
}

export interface Counts {
  n: number;
  /** Outcomes that count (e.g. correct predictions). */
  successes: number;
}

export interface MsprtOptions {
  alpha?: number;
  /** Mixing standard deviation of the difference of rates, in the rates' units (default 0.02). */
  tau?: number;
  /** Fewer requests than this in either arm: no verdict yet (the plug-in variance is too rough). */
  min_n?: number;
  previous_p?: number;
}

/**
 * mSPRT for the difference of two Bernoulli rates, rate(B) - rate(A), H0: equal. Cost: O(1);
 * look as often as you like, passing the last p-value back as `previous_p`.
 * msprtBernoulli({n: 5000, successes: 500}, {n: 5000, successes: 600}).decision === 'greater'
 */
export function msprtBernoulli(a: Counts, b: Counts, o: MsprtOptions = {}): SequentialResult {
  const alpha = o.alpha ?? 0.05;
  const tau = o.tau ?? 0.02;
  const minN = o.min_n ?? 100;
  // rates kept off 0 and 1 so that the variance of an arm without a single failure is not 0
  const rate = (c: Counts) => (c.successes + 0.5) / (c.n + 1);
  const ra = rate(a);
  const rb = rate(b);
  const v = (ra * (1 - ra)) / Math.max(a.n, 1) + (rb * (1 - rb)) / Math.max(b.n, 1);
  const est = b.n && a.n ? b.successes / b.n - a.successes / a.n : 0;
  return result(a.n + b.n, est, v, tau * tau, alpha, o.previous_p ?? 1, a.n >= minN && b.n >= minN);
}

/** Running count, mean and sum of squared deviations (Welford): the state of a paired test. */
export interface RunningMoments {
  n: number;
  mean: number;
  m2: number;
}

export const emptyMoments = (): RunningMoments => ({ n: 0, mean: 0, m2: 0 });

/** Add one value (in place). Cost: O(1). */
export function pushMoment(m: RunningMoments, x: number): RunningMoments {
  m.n++;
  const d = x - m.mean;
  m.mean += d / m.n;
  m.m2 += d * (x - m.mean);
  return m;
}

export interface CsOptions {
  alpha?: number;
  /**
   * Mixing parameter rho (the mixture's sd in units of the differences' sd); default: the rho
   * that makes the interval narrowest at `t_star` requests.
   */
  rho?: number;
  /** Where the default rho is tuned (default 10,000). */
  t_star?: number;
  /** Fewer pairs than this: no verdict yet (default 100). */
  min_n?: number;
  previous_p?: number;
}

/**
 * The rho that minimises the confidence sequence's width at n = tStar (Waudby-Smith et al.,
 * section 2.3): rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / tStar.
 */
export function csRho(tStar: number, alpha = 0.05): number {
  const l = -2 * Math.log(alpha);
  return Math.sqrt((l + Math.log(l + 1)) / tStar);
}

/**
 * Anytime-valid confidence sequence (and p-value) for the mean of paired differences, from
 * their running moments. Asymptotically valid: the variance is estimated. Cost: O(1).
 */
export function pairedConfidenceSequence(m: RunningMoments, o: CsOptions = {}): SequentialResult {
  const alpha = o.alpha ?? 0.05;
  const rho = o.rho ?? csRho(o.t_star ?? 10_000, alpha);
  const varX = m.n > 1 ? m.m2 / (m.n - 1) : 0;
  return result(m.n, m.mean, varX / Math.max(m.n, 1), rho * rho * varX, alpha, o.previous_p ?? 1, m.n >= (o.min_n ?? 100) && varX > 0);
}

/**
 * Requests (of one unit of `sd`: pairs, or requests of both arms together) after which a true
 * difference `effect` is declared with probability about `power`: the smallest n where the
 * estimate's distribution puts `power` beyond the boundary at n, effect - h(n) >= z_power sd / sqrt(n),
 * for the always-valid half-width h(n). (Conservative: a crossing at an earlier look counts too.)
 */
export function sequentialSampleSize(effect: number, sd: number, halfWidth: (n: number) => number, power = 0.8): number {
  const z = probit(power);
  const ok = (n: number) => Math.abs(effect) - halfWidth(n) >= (z * sd) / Math.sqrt(n);
  let hi = 16;
  while (!ok(hi)) {
    hi *= 2;
    if (hi > 1e12) return Number.POSITIVE_INFINITY;
  }
  let lo = hi / 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Planned requests (both arms) for msprtBernoulli to find rate(B) = p + effect against rate(A)
 * = p, with a share `share` of the requests in arm B.
 */
export function msprtSampleSize(p: number, effect: number, o: MsprtOptions & { power?: number; share?: number } = {}): number {
  const share = o.share ?? 0.5;
  const q = p + effect;
  // per-request variance of the estimate: v(n) = unit / n
  const unit = (p * (1 - p)) / (1 - share) + (q * (1 - q)) / share;
  const tau = o.tau ?? 0.02;
  return sequentialSampleSize(effect, Math.sqrt(unit), (n) => normalMixtureHalfWidth(unit / n, tau * tau, o.alpha ?? 0.05), o.power);
}

/** Planned pairs for pairedConfidenceSequence to find a mean difference `effect` of differences with sd `sd`. */
export function csSampleSize(effect: number, sd: number, o: CsOptions & { power?: number } = {}): number {
  const alpha = o.alpha ?? 0.05;
  const rho = o.rho ?? csRho(o.t_star ?? 10_000, alpha);
  return sequentialSampleSize(effect, sd, (n) => normalMixtureHalfWidth((sd * sd) / n, rho * rho * sd * sd, alpha), o.power);
}
