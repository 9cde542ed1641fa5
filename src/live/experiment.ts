/**
 * A challenger experiment: one at a time, its state in <output_model_path>/experiment.json
 * (written atomically, read through the one state reader):
 *
 *   {"id": "exp-20261203T130000000Z", "challenger": "v0004", "champion": "v0003",
 *    "mode": "shadow", "traffic": 1, "sticky_key": null, "metric": "brier", "alpha": 0.05,
 *    "tau": null, "started_at": "...", "status": "running", "stopped_at": null,
 *    "stop_reason": null, "decision": null}
 *
 * Shadow: both models score every request, the champion answers; the verdict is a confidence
 * sequence on the paired per-request loss differences (champion - challenger). Canary: a share
 * `traffic` of requests is answered by the challenger, chosen by a hash of the sticky key's
 * value (or the request id) salted with the experiment id, so a key stays with one arm; the
 * verdict is an mSPRT on the arms' rates of correct predictions. Both are always valid: the
 * verdict is looked at after every label, and stays at most alpha wrong under no difference.
 */
import { join } from 'node:path';
import { ConfigError, StateError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import { readRecord, shape } from '../store/statefile.js';
import { msprtBernoulli, pairedConfidenceSequence, csRho, emptyMoments, pushMoment, type RunningMoments, type SequentialResult } from '../stats/sequential.js';
import { readFeedback } from './feedback.js';
import { readPredictions, type Arm, type LoggedOutput } from './predlog.js';

export type ExperimentMode = 'shadow' | 'canary';
export type LossMetric = 'brier' | 'log_loss';
export type Decision = 'continue' | 'challenger_better' | 'challenger_worse';

export interface ExperimentState {
  id: string;
  challenger: string;
  /** The champion when it started (the champion arm is whatever answers as champion). */
  champion: string | null;
  mode: ExperimentMode;
  /** Share of requests the challenger answers (canary); 1 for shadow (it scores all). */
  traffic: number;
  /** Request column whose value keeps a caller on one arm (canary); null: the request id. */
  sticky_key: string | null;
  /** Per-request loss of the shadow verdict. */
  metric: LossMetric;
  alpha: number;
  /** Mixing parameter: canary, the sd of the accuracy difference (default 0.02); shadow, rho in sd units (default csRho(10,000)). Null: the default. */
  tau: number | null;
  started_at: string;
  status: 'running' | 'stopped';
  stopped_at: string | null;
  stop_reason: string | null;
  /** The verdict when it stopped. */
  decision: Decision | null;
}

export const EXPERIMENT_RECORD = shape<ExperimentState>('experiment state', {
  id: 'string',
  challenger: 'string',
  mode: 'string',
  traffic: 'number',
  alpha: 'number',
  started_at: 'string',
  status: 'string',
});

export const experimentPath = (cfg: Pick<Config, 'output_model_path'>) => join(cfg.output_model_path, 'experiment.json');

const HINT = 'fix experiment.json, or delete it to forget the experiment (`mlops experiment stop` writes it again)';

/** The experiment (running or stopped), null when none was ever started. */
export async function readExperiment(path: string): Promise<ExperimentState | null> {
  const s = await readRecord(path, EXPERIMENT_RECORD, HINT);
  if (s && (!['shadow', 'canary'].includes(s.mode) || !['running', 'stopped'].includes(s.status))) {
    throw new StateError(`${path}: not an experiment state: mode ${JSON.stringify(s.mode)}, status ${JSON.stringify(s.status)}`, HINT);
  }
  return s;
}

export interface StartOptions {
  challenger: string;
  champion?: string | null;
  mode: ExperimentMode;
  traffic?: number;
  sticky_key?: string | null;
  metric?: LossMetric;
  alpha?: number;
  tau?: number | null;
}

/** Start an experiment; a running one must be stopped first (StateError). */
export async function startExperiment(path: string, o: StartOptions, now = Date.now()): Promise<ExperimentState> {
  const running = await readExperiment(path);
  if (running?.status === 'running') {
    throw new StateError(`an experiment is running (challenger ${running.challenger}, ${running.mode}, since ${running.started_at})`, 'stop it first: `mlops experiment stop`');
  }
  if (o.mode !== 'shadow' && o.mode !== 'canary') throw new ConfigError(`experiment mode must be shadow or canary, not ${JSON.stringify(o.mode)}`);
  const traffic = o.mode === 'shadow' ? 1 : (o.traffic ?? 0.1);
  if (!(traffic > 0 && traffic <= 1)) throw new ConfigError(`--traffic must be in (0, 1], not ${traffic}`, 'e.g. --traffic 0.1 sends 10% of requests to the challenger');
  const alpha = o.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new ConfigError(`alpha must be in (0, 1), not ${alpha}`);
  if (o.tau != null && !(o.tau > 0 && Number.isFinite(o.tau))) throw new ConfigError(`tau must be a positive number, not ${o.tau}`);
  const metric = o.metric ?? 'brier';
  if (metric !== 'brier' && metric !== 'log_loss') throw new ConfigError(`experiment metric must be brier or log_loss, not ${JSON.stringify(metric)}`);
  if (o.champion && o.challenger === o.champion) throw new StateError(`${o.challenger} is the champion already`, 'pick another version as challenger');
  const started = new Date(now).toISOString();
  const s: ExperimentState = {
    id: `exp-${started.replace(/[-:.]/g, '')}`,
    challenger: o.challenger,
    champion: o.champion ?? null,
    mode: o.mode,
    traffic,
    sticky_key: o.sticky_key ?? null,
    metric,
    alpha,
    tau: o.tau ?? null,
    started_at: started,
    status: 'running',
    stopped_at: null,
    stop_reason: null,
    decision: null,
  };
  await writeFileAtomic(path, JSON.stringify(s, null, 2) + '\n');
  return s;
}

/** Stop the running experiment (StateError when none runs), keeping its state for status. */
export async function stopExperiment(path: string, reason: string, decision: Decision | null = null, now = Date.now()): Promise<ExperimentState> {
  const s = await readExperiment(path);
  if (!s || s.status !== 'running') throw new StateError('no experiment is running', 'start one: `mlops experiment start --challenger V --mode shadow|canary`');
  const stopped: ExperimentState = { ...s, status: 'stopped', stopped_at: new Date(now).toISOString(), stop_reason: reason, decision };
  await writeFileAtomic(path, JSON.stringify(stopped, null, 2) + '\n');
  return stopped;
}

/** FNV-1a (32 bit) of a string, as a number in [0, 1). */
export function stickyHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 4294967296;
}

export interface Route {
  /** The arm whose answer is returned. */
  answer: Arm;
  /** Whether the challenger scores the request too without answering (shadow). */
  shadow: boolean;
}

const CHAMPION: Route = { answer: 'champion', shadow: false };
const SHADOW: Route = { answer: 'champion', shadow: true };
const CHALLENGER: Route = { answer: 'challenger', shadow: false };

/**
 * Which model answers a request. `key`: the sticky key column's value in the request (null or
 * undefined: the request id decides). No running experiment: the champion. Cost: O(key length).
 */
export function routeRequest(exp: ExperimentState | null, requestId: string, key?: string | number | null): Route {
  if (!exp || exp.status !== 'running') return CHAMPION;
  if (exp.mode === 'shadow') return SHADOW;
  const k = key === null || key === undefined ? requestId : String(key);
  return stickyHash(`${exp.id}\u0000${k}`) < exp.traffic ? CHALLENGER : CHAMPION;
}

/** Per-request loss of a probability for a label. */
export function requestLoss(metric: LossMetric, proba: number, label: number): number {
  if (metric === 'brier') return (proba - label) ** 2;
  const p = Math.min(Math.max(proba, Number.EPSILON), 1 - Number.EPSILON);
  return label === 1 ? -Math.log(p) : -Math.log(1 - p);
}

export interface ArmStats {
  /** Requests the arm scored (answered, or as shadow). */
  requests: number;
  labelled: number;
  /** Labelled requests predicted right. */
  correct: number;
  /** Loss on the labelled requests. */
  loss: RunningMoments;
}

/** What the verdict is computed from; built by addObservation, one label at a time. */
export interface ExperimentStats {
  champion: ArmStats;
  challenger: ArmStats;
  /** Shadow: champion loss - challenger loss per labelled request (positive: challenger better). */
  paired: RunningMoments;
  /** The always-valid p-value so far: the minimum over every look (a look after each label). */
  p_value: number;
}

const arm = (): ArmStats => ({ requests: 0, labelled: 0, correct: 0, loss: emptyMoments() });
export const emptyStats = (): ExperimentStats => ({ champion: arm(), challenger: arm(), paired: emptyMoments(), p_value: 1 });

/** A labelled request: the outputs of the arms that scored it. */
export interface Observation {
  label: number;
  champion?: LoggedOutput;
  challenger?: LoggedOutput;
}

function score(a: ArmStats, o: LoggedOutput, label: number, metric: LossMetric): number {
  const loss = requestLoss(metric, o.proba, label);
  a.labelled++;
  if (o.label === label) a.correct++;
  pushMoment(a.loss, loss);
  return loss;
}

/** Fold one labelled request into the statistics (in place) and look at the test. Cost: O(1). */
export function addObservation(exp: ExperimentState, s: ExperimentStats, ob: Observation): ExperimentStats {
  const lc = ob.champion ? score(s.champion, ob.champion, ob.label, exp.metric) : null;
  const lh = ob.challenger ? score(s.challenger, ob.challenger, ob.label, exp.metric) : null;
  if (lc !== null && lh !== null) pushMoment(s.paired, lc - lh);
  s.p_value = test(exp, s).p_value;
  return s;
}

function test(exp: ExperimentState, s: ExperimentStats): SequentialResult {
  if (exp.mode === 'canary') {
    const counts = (a: ArmStats) => ({ n: a.labelled, successes: a.correct });
    return msprtBernoulli(counts(s.champion), counts(s.challenger), { alpha: exp.alpha, tau: exp.tau ?? undefined, previous_p: s.p_value });
  }
  return pairedConfidenceSequence(s.paired, { alpha: exp.alpha, rho: exp.tau ?? undefined, previous_p: s.p_value });
}

export interface Verdict {
  decision: Decision;
  /** Canary: accuracy(challenger) - accuracy(champion); shadow: mean loss(champion) - loss(challenger). Positive: the challenger is better. */
  difference: number;
  interval: [number, number];
  p_value: number;
  /** Labelled requests the test used (pairs for shadow, both arms for canary). */
  n: number;
  /** What the difference is of. */
  statistic: string;
  alpha: number;
  tau: number;
  arms: Record<Arm, { requests: number; labelled: number; accuracy: number | null; mean_loss: number | null }>;
}

/** The verdict on the statistics so far. */
export function verdict(exp: ExperimentState, s: ExperimentStats): Verdict {
  const r = test(exp, s);
  const summary = (a: ArmStats) => ({
    requests: a.requests,
    labelled: a.labelled,
    accuracy: a.labelled ? a.correct / a.labelled : null,
    mean_loss: a.labelled ? a.loss.mean : null,
  });
  return {
    decision: r.decision === 'greater' ? 'challenger_better' : r.decision === 'less' ? 'challenger_worse' : 'continue',
    difference: r.estimate,
    interval: r.interval,
    p_value: r.p_value,
    n: r.n,
    statistic: exp.mode === 'canary' ? 'accuracy(challenger) - accuracy(champion), mSPRT' : `${exp.metric}(champion) - ${exp.metric}(challenger) per request, confidence sequence`,
    alpha: exp.alpha,
    tau: exp.tau ?? (exp.mode === 'canary' ? 0.02 : csRho(10_000, exp.alpha)),
    arms: { champion: summary(s.champion), challenger: summary(s.challenger) },
  };
}

/**
 * The statistics of an experiment from the prediction log and the feedback labels: requests
 * per arm since it started (until it stopped), and the labelled ones folded in in the order
 * their labels came, a look after each.
 */
export async function experimentStats(exp: ExperimentState, o: { predictions: string; feedback: string }): Promise<ExperimentStats> {
  const labels = await readFeedback(o.feedback);
  const s = emptyStats();
  const obs: { time: string; ob: Observation }[] = [];
  const until = exp.stopped_at === null ? undefined : new Date(exp.stopped_at);
  for await (const r of readPredictions(o.predictions, { since: new Date(exp.started_at), until })) {
    const challenger = r.version === exp.challenger ? r : r.shadow?.find((x) => x.version === exp.challenger);
    const champion = r.answered_by === 'champion' ? r : undefined;
    if (exp.mode === 'shadow' && (!champion || !challenger)) continue;
    if (exp.mode === 'canary' && !champion && !challenger) continue;
    if (champion) s.champion.requests++;
    if (challenger) s.challenger.requests++;
    const fb = labels.get(r.request_id);
    if (fb) obs.push({ time: fb.time, ob: { label: fb.label, champion, challenger: exp.mode === 'canary' && champion ? undefined : challenger } });
  }
  obs.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  for (const { ob } of obs) addObservation(exp, s, ob);
  return s;
}

/**
 * What `promotion.auto` does with a verdict: promote a better challenger (if the registry's gate
 * passes too), stop a canary that is worse (it hurts the callers it answers), else nothing.
 */
export function autoAction(exp: ExperimentState, v: Verdict): 'promote' | 'stop' | null {
  if (exp.status !== 'running') return null;
  if (v.decision === 'challenger_better') return 'promote';
  if (v.decision === 'challenger_worse' && exp.mode === 'canary') return 'stop';
  return null;
}

/**
 * The experiment as the server holds it: re-read every `pollMs` (the CLI starts and stops it),
 * so the hot path reads `current` synchronously. A damaged file keeps the last good state and
 * says so through `onError`.
 */
export function watchExperiment(path: string, pollMs = 1000, onError: (err: Error) => void = () => undefined) {
  const w = {
    current: null as ExperimentState | null,
    async refresh(): Promise<void> {
      try {
        w.current = await readExperiment(path);
      } catch (err) {
        onError(err as Error);
      }
    },
    stop(): void {
      clearInterval(timer);
    },
  };
  const timer = setInterval(() => void w.refresh(), pollMs);
  timer.unref();
  return w;
}
