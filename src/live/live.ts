/**
 * The live side of `mlops serve` in one handle: the prediction log, the feedback store and the
 * running experiment, opened together and closed together. The server calls
 *
 *   const live = await openLive(cfg, cfg.live, log)    at start
 *   live.route(requestId, stickyValue)                  per request: who answers, who shadows
 *   live.log?.log({...})                                per row predicted
 *   await live.postFeedback(body)                       POST /feedback (HttpError 400 / 404)
 *   await live.experimentStatus()                       GET /experiment
 *   await live.close()                                  on SIGTERM (flushes the log)
 *
 * and config.ts parses the "live" key of config.json with parseLiveSettings.
 */
import { quote } from '../errors.js';
import { HttpError } from '../server/requests.js';
import type { Config } from '../store/config.js';
import { experimentPath, experimentStats, routeRequest, verdict, watchExperiment, type ExperimentState, type Route, type Verdict } from './experiment.js';
import { feedbackFromBody, feedbackPath, FeedbackStore, type FeedbackResult } from './feedback.js';
import { knownOnDisk, PredictionLog, predictionsDir } from './predlog.js';

export { DEFAULT_LIVE, parseLiveSettings, type LiveSettings } from './settings.js';
import type { LiveSettings } from './settings.js';
import { DEFAULT_LIVE } from './settings.js';

export interface ExperimentStatus {
  experiment: ExperimentState;
  verdict: Verdict;
}

export interface Live {
  /** Null when live.log is false. */
  log: PredictionLog | null;
  feedback: FeedbackStore;
  /** The experiment as last read (re-read every experiment_poll_ms). */
  experiment(): ExperimentState | null;
  /** Who answers a request, and whether the challenger scores it too. */
  route(requestId: string, key?: string | number | null): Route;
  /** POST /feedback: 200 with the counts; HttpError 400 for a bad body, 404 when no id is known. */
  postFeedback(body: unknown): Promise<FeedbackResult>;
  /** GET /experiment: the experiment and its verdict now; null when none was started. */
  experimentStatus(): Promise<ExperimentStatus | null>;
  close(): Promise<void>;
}

type LiveConfig = Pick<Config, 'output_folder_path' | 'output_model_path'>;

export async function openLive(cfg: LiveConfig, s: LiveSettings = DEFAULT_LIVE, say: (line: string) => void = () => undefined): Promise<Live> {
  const dir = predictionsDir(cfg);
  const log = s.log ? await PredictionLog.open(dir, s) : null;
  const feedback = await FeedbackStore.open(feedbackPath(cfg));
  const path = experimentPath(cfg);
  let lastError = '';
  const watch = watchExperiment(path, s.experiment_poll_ms, (err) => {
    if (err.message !== lastError) say(`experiment.json unreadable, keeping the last good state: ${err.message}`);
    lastError = err.message;
  });
  await watch.refresh();
  const known = (ids: string[]) => (log ? log.known(ids) : knownOnDisk(dir, new Set(ids)));
  return {
    log,
    feedback,
    experiment: () => watch.current,
    route: (id, key) => routeRequest(watch.current, id, key),
    async postFeedback(body) {
      const items = feedbackFromBody(body, (m) => new HttpError(400, m, 'send {"request_id": "...", "label": 0|1} or {"items": [...]}'));
      const r = await feedback.add(items, known);
      if (r.accepted === 0) {
        throw new HttpError(404, `no logged prediction has request id ${quote(r.unknown_ids[0])}${r.unknown > 1 ? ` (nor ${r.unknown - 1} more)` : ''}`, 'use the request_id a /prediction response returned');
      }
      return r;
    },
    async experimentStatus() {
      const exp = watch.current;
      if (!exp) return null;
      await log?.flush();
      const stats = await experimentStats(exp, { predictions: dir, feedback: feedbackPath(cfg) });
      return { experiment: exp, verdict: verdict(exp, stats) };
    },
    async close() {
      watch.stop();
      await log?.close();
      await feedback.close();
    },
  };
}

/** Prometheus lines for /metrics: the log's counters, feedback counts and the running experiment. */
export function renderLiveMetrics(live: Live): string {
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, lines: string[]) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  const s = live.log?.stats();
  if (s) {
    metric('mlops_prediction_log_records_total', 'counter', 'Predictions by what became of them in the prediction log.', [
      `mlops_prediction_log_records_total{state="logged"} ${s.logged}`,
      `mlops_prediction_log_records_total{state="written"} ${s.written}`,
      `mlops_prediction_log_records_total{state="dropped"} ${s.dropped}`,
    ]);
    metric('mlops_prediction_log_write_errors_total', 'counter', 'Failed writes of the prediction log.', [`mlops_prediction_log_write_errors_total ${s.write_errors}`]);
    metric('mlops_prediction_log_last_flush_seconds', 'gauge', 'Duration of the last flush.', [`mlops_prediction_log_last_flush_seconds ${s.last_flush_ms / 1000}`]);
  }
  const f = live.feedback.counts();
  metric('mlops_feedback_labels_total', 'counter', 'Labels received by this process, by outcome.', [
    `mlops_feedback_labels_total{result="accepted"} ${f.accepted}`,
    `mlops_feedback_labels_total{result="replaced"} ${f.replaced}`,
    `mlops_feedback_labels_total{result="unknown"} ${f.unknown}`,
  ]);
  metric('mlops_feedback_labelled_requests', 'gauge', 'Requests with a label.', [`mlops_feedback_labelled_requests ${f.labels}`]);
  const e = live.experiment();
  if (e?.status === 'running') {
    metric('mlops_experiment_info', 'gauge', 'The running experiment.', [`mlops_experiment_info{challenger="${e.challenger}",mode="${e.mode}",traffic="${e.traffic}"} 1`]);
  }
  return out.join('\n') + '\n';
}
