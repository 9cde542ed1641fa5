/**
 * The classic model drift tests: is a new score worse than the history of earlier scores?
 * "Worse" follows the metric's direction (higherIsBetter). Each test reports its threshold, the
 * new score and a verdict; with no usable history the verdict is "no history", never drift.
 */
import { finite, mean, quantile, std } from './describe.js';
import { welchTTest } from './hypothesis.js';

export type Verdict = 'drift' | 'no drift' | 'no history';

export { SCORE_TESTS, type ScoreTestName } from './scoretests.js';

export interface ScoreTestResult {
  test: 'raw' | 'parametric' | 'nonparametric' | 'welch';
  newScore: number;
  threshold: number | null;
  verdict: Verdict;
  detail: string;
  pValue?: number | null;
}

const worse = (a: number, b: number, higherBetter: boolean) => (higherBetter ? a < b : a > b);

/**
 * The shape the three history tests share: ignore NaN scores, say "no history" when nothing is
 * left, else compare the new score with the threshold `rule` derives from the previous scores.
 */
function thresholdTest(
  test: 'raw' | 'parametric' | 'nonparametric',
  previous: readonly number[],
  newScore: number,
  higherBetter: boolean,
  rule: (prev: number[]) => { threshold: number; detail: string },
): ScoreTestResult {
  const prev = finite(previous);
  if (prev.length === 0 || !Number.isFinite(newScore)) return none(test, newScore);
  const { threshold, detail } = rule(prev);
  return { test, newScore, threshold, verdict: worse(newScore, threshold, higherBetter) ? 'drift' : 'no drift', detail };
}

/** Raw comparison: drift when the new score is worse than every previous score. */
export function rawTest(previous: readonly number[], newScore: number, higherBetter: boolean): ScoreTestResult {
  return thresholdTest('raw', previous, newScore, higherBetter, (prev) => {
    const threshold = higherBetter ? Math.min(...prev) : Math.max(...prev);
    return { threshold, detail: `new ${fmt(newScore)} vs ${higherBetter ? 'lowest' : 'highest'} of ${prev.length} previous ${fmt(threshold)}` };
  });
}

/** Parametric: drift when the new score is more than `sigmas` population std worse than the mean. */
export function parametricTest(previous: readonly number[], newScore: number, higherBetter: boolean, sigmas = 2): ScoreTestResult {
  return thresholdTest('parametric', previous, newScore, higherBetter, (prev) => {
    const m = mean(prev);
    const s = std(prev, 0);
    return {
      threshold: higherBetter ? m - sigmas * s : m + sigmas * s,
      detail: `mean ${fmt(m)} ${higherBetter ? '-' : '+'} ${sigmas} x std ${fmt(s)} (ddof 0) of ${prev.length} previous`,
    };
  });
}

/** Non-parametric: drift when the new score is beyond the bad-side quartile by k IQR. */
export function nonparametricTest(previous: readonly number[], newScore: number, higherBetter: boolean, k = 1.5): ScoreTestResult {
  return thresholdTest('nonparametric', previous, newScore, higherBetter, (prev) => {
    const q25 = quantile(prev, 0.25);
    const q75 = quantile(prev, 0.75);
    const iqr = q75 - q25;
    return {
      threshold: higherBetter ? q25 - k * iqr : q75 + k * iqr,
      detail: `${higherBetter ? `q25 ${fmt(q25)} - ${k}` : `q75 ${fmt(q75)} + ${k}`} x IQR ${fmt(iqr)} of ${prev.length} previous`,
    };
  });
}

/**
 * Two-model comparison: Welch's t-test between the scores of the new model and those of the
 * previous model; drift when the difference is significant and the new model is worse.
 */
export function welchScoreTest(
  previousModel: readonly number[],
  newModel: readonly number[],
  higherBetter: boolean,
  alpha = 0.05,
): ScoreTestResult {
  const a = finite(newModel);
  const b = finite(previousModel);
  const newScore = mean(a);
  const r = welchTTest(a, b);
  if (Number.isNaN(r.pValue)) {
    return {
      ...none('welch', newScore),
      detail: `needs >= 2 scores of each model with some spread (have ${a.length} new, ${b.length} previous)`,
      pValue: null,
    };
  }
  const drift = r.pValue < alpha && worse(mean(a), mean(b), higherBetter);
  return {
    test: 'welch',
    newScore,
    threshold: alpha,
    verdict: drift ? 'drift' : 'no drift',
    detail: `t ${fmt(r.statistic)}, df ${fmt(r.df)}, p ${fmt(r.pValue)}: mean ${fmt(mean(a))} (${a.length} scores) vs ${fmt(mean(b))} (${b.length})`,
    pValue: r.pValue,
  };
}

function none(test: ScoreTestResult['test'], newScore: number): ScoreTestResult {
  return {
    test,
    newScore,
    threshold: null,
    verdict: 'no history',
    detail: Number.isFinite(newScore) ? 'no previous scores to compare with' : 'the new score is not a number',
  };
}

const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));
