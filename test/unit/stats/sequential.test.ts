import { describe, expect, it } from 'vitest';
import {
  csRho, csSampleSize, emptyMoments, msprtBernoulli, msprtSampleSize, normalMixtureHalfWidth, normalMixtureLogLR,
  pairedConfidenceSequence, pushMoment, type Counts, type RunningMoments,
} from '../../../src/stats/sequential.js';
import { rng } from '../../../src/tools/gendata.js';
import { normal, sigmoid } from '../simulation.js';

const ALPHA = 0.05;

/** Two-proportion z-test, two-sided at 5%: the naive test a dashboard would show. */
const naiveZ = (a: Counts, b: Counts) => {
  const pa = a.successes / a.n;
  const pb = b.successes / b.n;
  const p = (a.successes + b.successes) / (a.n + b.n);
  const se = Math.sqrt(p * (1 - p) * (1 / a.n + 1 / b.n));
  return se > 0 && Math.abs(pb - pa) / se > 1.959963984540054;
};

describe('normal mixture', () => {
  it('the likelihood ratio is the mixture integral, the half-width its 1/alpha level set', () => {
    // independent check: integrate N(est; theta, v) / N(est; 0, v) against N(theta; 0, tau^2) numerically
    const integral = (est: number, v: number, tau2: number) => {
      let s = 0;
      const h = Math.sqrt(tau2) / 200;
      for (let t = -12 * Math.sqrt(tau2); t <= 12 * Math.sqrt(tau2); t += h) {
        s += Math.exp((est ** 2 - (est - t) ** 2) / (2 * v)) * Math.exp(-(t * t) / (2 * tau2)) / Math.sqrt(2 * Math.PI * tau2) * h;
      }
      return Math.log(s);
    };
    for (const [est, v, tau2] of [[0.01, 1e-4, 4e-4], [-0.03, 2e-4, 1e-4], [0, 1e-3, 1e-2], [0.2, 0.01, 0.0025]] as const) {
      expect(normalMixtureLogLR(est, v, tau2)).toBeCloseTo(integral(est, v, tau2), 6);
      const hw = normalMixtureHalfWidth(v, tau2, ALPHA);
      expect(normalMixtureLogLR(hw, v, tau2)).toBeCloseTo(Math.log(1 / ALPHA), 10);
    }
  });

  it('the paired sequence is Waudby-Smith et al. eq. (2.5) with an estimated sd', () => {
    const m: RunningMoments = { n: 2500, mean: 0.004, m2: 0.09 * 2499 };
    const rho = csRho(10_000);
    const r = pairedConfidenceSequence(m, { rho });
    const sd = 0.3;
    const n = 2500;
    const h = sd * Math.sqrt(((2 * (n * rho * rho + 1)) / (n * n * rho * rho)) * Math.log(Math.sqrt(n * rho * rho + 1) / ALPHA));
    expect(r.interval[1] - r.estimate).toBeCloseTo(h, 12);
    expect(rho).toBeCloseTo(Math.sqrt((-2 * Math.log(0.05) + Math.log(-2 * Math.log(0.05) + 1)) / 10_000), 15);
    const w = pushMoment(pushMoment(pushMoment(emptyMoments(), 1), 2), 4);
    expect(w.n).toBe(3);
    expect(w.mean).toBeCloseTo(7 / 3, 14);
    expect(w.m2).toBeCloseTo(14 / 3, 14);
  });

  it('no verdict before min_n, and the p-value never rises', () => {
    expect(msprtBernoulli({ n: 50, successes: 0 }, { n: 50, successes: 50 }).decision).toBe('continue');
    const r = msprtBernoulli({ n: 5000, successes: 500 }, { n: 5000, successes: 600 });
    expect(r.decision).toBe('greater');
    expect(msprtBernoulli({ n: 5000, successes: 550 }, { n: 5000, successes: 550 }, { previous_p: r.p_value }).p_value).toBe(r.p_value);
  });
});

describe('mSPRT on two Bernoulli arms, by simulation', () => {
  // the planned experiment: an outcome rate of 0.10 against 0.12
  const P = 0.1;
  const EFFECT = 0.02;
  const TAU = 0.02;

  /** Run `runs` experiments of `total` requests, a share `share` in arm B, looked at every `batch`. */
  const simulate = (seed: number, runs: number, total: number, share: number, pb: number, batch: number, naiveLooks = 0) => {
    const rand = rng(seed);
    let declared = 0;
    let right = 0;
    let naive = 0;
    for (let e = 0; e < runs; e++) {
      const a = { n: 0, successes: 0 };
      const b = { n: 0, successes: 0 };
      let p = 1;
      let done = false;
      let naiveHit = false;
      const day = naiveLooks ? Math.floor(total / naiveLooks) : 0;
      for (let i = 1; i <= total; i++) {
        if (rand() < share) {
          b.n++;
          if (rand() < pb) b.successes++;
        } else {
          a.n++;
          if (rand() < P) a.successes++;
        }
        if (!done && i % batch === 0) {
          const r = msprtBernoulli(a, b, { alpha: ALPHA, tau: TAU, previous_p: p });
          p = r.p_value;
          if (r.decision !== 'continue') {
            done = true;
            declared++;
            if (r.decision === 'greater') right++;
            if (!naiveLooks) break;
          }
        }
        if (naiveLooks && !naiveHit && i % day === 0 && naiveZ(a, b)) naiveHit = true;
      }
      if (naiveHit) naive++;
    }
    return { declared: declared / runs, right: right / runs, naive: naive / runs };
  };

  const N = msprtSampleSize(P, EFFECT, { alpha: ALPHA, tau: TAU, power: 0.8 });

  it('plans a few times the fixed-horizon sample', () => {
    // fixed horizon, two-sided 5%, power 0.8: about 2 x 3,840 requests
    expect(N).toBeGreaterThan(7_700);
    expect(N).toBeLessThan(4 * 7_700);
  });

  it('1,000 A/A experiments looked at after every batch of 100 declare a winner at most alpha of the time; a daily z-test does not', () => {
    const r = simulate(1, 1000, N, 0.5, P, 100, 30);
    console.log(`mSPRT A/A (${N} requests, 1,000 runs, a look every 100): ${(100 * r.declared).toFixed(1)}% false winners; naive z-test peeked 30 times: ${(100 * r.naive).toFixed(1)}%`);
    expect(r.declared).toBeLessThanOrEqual(ALPHA);
    expect(r.naive).toBeGreaterThan(0.15);
  });

  it('a canary (10% of traffic to the challenger) holds alpha too', () => {
    const n = msprtSampleSize(P, EFFECT, { alpha: ALPHA, tau: TAU, share: 0.1 });
    const r = simulate(2, 500, n, 0.1, P, 250);
    console.log(`mSPRT A/A canary 10% (${n} requests, 500 runs): ${(100 * r.declared).toFixed(1)}% false winners`);
    expect(r.declared).toBeLessThanOrEqual(ALPHA);
  });

  it('an effect of the planned size is found with power >= 0.8 within the planned requests', () => {
    const r = simulate(3, 1000, N, 0.5, P + EFFECT, 100);
    console.log(`mSPRT power at +${EFFECT} within ${N} requests: ${(100 * r.declared).toFixed(1)}% (right direction ${(100 * r.right).toFixed(1)}%)`);
    expect(r.right).toBeGreaterThanOrEqual(0.8);
  });
});

describe('confidence sequence for paired loss differences, by simulation', () => {
  /**
   * Requests with a true probability q = sigmoid(z); each model predicts sigmoid(z + noise) with
   * its own noise sd; d = Brier loss of the champion (A) minus the challenger (B).
   */
  const simulate = (seed: number, runs: number, n: number, sdA: number, sdB: number, batch: number) => {
    const rand = rng(seed);
    const gauss = normal(rand);
    let declared = 0;
    let right = 0;
    const all = emptyMoments();
    for (let e = 0; e < runs; e++) {
      const m = emptyMoments();
      let p = 1;
      for (let i = 1; i <= n; i++) {
        const z = gauss() - 1;
        const y = rand() < sigmoid(z) ? 1 : 0;
        const pa = sigmoid(z + sdA * gauss());
        const pb = sigmoid(z + sdB * gauss());
        const d = (pa - y) ** 2 - (pb - y) ** 2;
        pushMoment(m, d);
        if (e < 20) pushMoment(all, d);
        if (i % batch === 0) {
          const r = pairedConfidenceSequence(m, { alpha: ALPHA, previous_p: p });
          p = r.p_value;
          if (r.decision !== 'continue') {
            declared++;
            if (r.decision === 'greater') right++;
            break;
          }
        }
      }
    }
    return { declared: declared / runs, right: right / runs, sd: Math.sqrt(all.m2 / (all.n - 1)), mean: all.mean };
  };

  it('1,000 A/A experiments (equal models) looked at after every batch of 50 declare a winner at most alpha of the time', () => {
    const r = simulate(4, 1000, 10_000, 1, 1, 50);
    console.log(`paired CS A/A (10,000 pairs, 1,000 runs, a look every 50): ${(100 * r.declared).toFixed(1)}% false winners`);
    expect(r.declared).toBeLessThanOrEqual(ALPHA);
  });

  it('a better challenger is found with power >= 0.8 within the planned pairs', () => {
    // a pilot gives the effect and the sd of the differences; the plan follows from them
    const pilot = simulate(5, 20, 20_000, 1, 0.8, 1e9);
    const n = csSampleSize(pilot.mean, pilot.sd, { alpha: ALPHA, power: 0.8 });
    const r = simulate(6, 1000, n, 1, 0.8, 50);
    console.log(`paired CS power (effect ${pilot.mean.toExponential(2)}, sd ${pilot.sd.toFixed(3)}): ${(100 * r.right).toFixed(1)}% within ${n} pairs`);
    expect(r.right).toBeGreaterThanOrEqual(0.8);
  });
});
