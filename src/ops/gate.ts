/**
 * The promotion gate (config.json "promotion", like MLflow's MetricThreshold): a candidate
 * replaces the champion only when, on every data set both were scored on (the reference test
 * set, and the holdout when there is one), it reaches `min_value` and beats the champion by at
 * least `min_absolute_change` and `min_relative_change`. The metric's direction is respected.
 */
import { higherIsBetter } from '../model/metrics.js';
import type { Config } from '../store/config.js';
import { latestOn, metricValue, readEvaluations, testDataHash, type Evaluation } from '../store/evaluations.js';
import type { EvaluationRole } from '../store/records.js';

export interface GateComparison {
  role: EvaluationRole;
  data_sha256: string;
  rows: number;
  candidate: number;
  champion: number | null;
  /** candidate - champion, signed so that positive is better. */
  improvement: number | null;
  passed: boolean;
  why: string;
}

export interface GateResult {
  metric: string;
  /** The versions compared (champion null: nothing deployed). */
  candidate_version: number;
  champion_version: number | null;
  candidate: number;
  champion: number | null;
  passed: boolean;
  comparisons: GateComparison[];
  /** One line: what was compared and the outcome. */
  summary: string;
}

export const gateMetric = (cfg: Config) => cfg.promotion.metric ?? cfg.drift.metric;

const fmt = (x: number | null) => (x === null ? 'n/a' : Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));

/** Judge one comparison against the settings. */
export function judgeComparison(cfg: Config, metric: string, cand: number, champ: number | null): { passed: boolean; why: string; improvement: number | null } {
  const s = cfg.promotion;
  const higher = higherIsBetter(metric);
  const fails: string[] = [];
  if (!Number.isFinite(cand)) fails.push(`the candidate's ${metric} is not a number`);
  if (s.min_value !== null && (higher ? cand < s.min_value : cand > s.min_value)) {
    fails.push(`${metric} ${fmt(cand)} is ${higher ? 'below' : 'above'} min_value ${s.min_value}`);
  }
  let improvement: number | null = null;
  if (champ !== null && Number.isFinite(champ)) {
    improvement = higher ? cand - champ : champ - cand;
    if (improvement < s.min_absolute_change) {
      fails.push(
        s.min_absolute_change === 0
          ? `worse than the champion (${fmt(cand)} vs ${fmt(champ)})`
          : `improvement ${fmt(improvement)} < min_absolute_change ${s.min_absolute_change}`,
      );
    } else if (s.min_relative_change > 0 && champ !== 0 && improvement / Math.abs(champ) < s.min_relative_change) {
      fails.push(`relative improvement ${fmt(improvement / Math.abs(champ))} < min_relative_change ${s.min_relative_change}`);
    }
  }
  return {
    passed: fails.length === 0,
    why: fails.length ? fails.join('; ') : champ === null ? `${fmt(cand)} (no champion to beat)` : `${fmt(cand)} vs champion ${fmt(champ)}`,
    improvement,
  };
}

/** The latest recorded evaluation of a version on some data, or a new one. */
async function evaluation(cfg: Config, evals: Evaluation[], version: number, data: string, role: EvaluationRole, folder?: string): Promise<Evaluation> {
  const recorded = latestOn(evals, version, data);
  if (recorded) return recorded;
  // the scorer is loaded only when an evaluation is missing (a deploy after `mlops score` has them all)
  const { score } = await import('./score.js');
  const r = await score({ config: cfg, model: `v${version}`, dataFolder: folder, role });
  const e: Evaluation = { ...r };
  evals.push(e);
  return e;
}

export interface GateOptions {
  config: Config;
  candidate: number;
  champion: number | null;
  /** A holdout file both are scored on as well. */
  holdout?: { path: string; sha256: string } | null;
}

/** Score both models where needed (recorded evaluations are reused) and judge. */
export async function runGate(opts: GateOptions): Promise<GateResult> {
  const cfg = opts.config;
  const metric = gateMetric(cfg);
  const evals = await readEvaluations(cfg);
  const sets: { role: EvaluationRole; data: string; folder?: string }[] = [{ role: 'test', data: await testDataHash(cfg) }];
  if (opts.holdout) sets.push({ role: 'holdout', data: opts.holdout.sha256, folder: opts.holdout.path });
  const comparisons: GateComparison[] = [];
  for (const set of sets) {
    const cand = await evaluation(cfg, evals, opts.candidate, set.data, set.role, set.folder);
    const champ = opts.champion === null ? null : await evaluation(cfg, evals, opts.champion, set.data, set.role, set.folder);
    const c = metricValue(cand, metric);
    const b = champ ? metricValue(champ, metric) : null;
    const j = judgeComparison(cfg, metric, c, b);
    comparisons.push({ role: set.role, data_sha256: set.data, rows: cand.rows, candidate: c, champion: b, improvement: j.improvement, passed: j.passed, why: j.why });
  }
  const passed = comparisons.every((c) => c.passed);
  const test = comparisons[0]!;
  return {
    metric,
    candidate_version: opts.candidate,
    champion_version: opts.champion,
    candidate: test.candidate,
    champion: test.champion,
    passed,
    comparisons,
    summary: comparisons.map((c) => `${c.role} (${c.rows} rows): ${metric} ${c.why}`).join('; '),
  };
}
