/**
 * Request counters and latency histograms in the Prometheus text exposition format: per
 * endpoint, per stage of a prediction (parse, predict, log), predictions and an output histogram
 * per model version, unseen categorical levels, event-loop lag and the process's memory and CPU.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Output buckets: the probability of the positive class (classification). */
const OUTPUT_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}
const histogram = (n: number): Histogram => ({ counts: new Array<number>(n).fill(0), sum: 0, count: 0 });
function add(h: Histogram, buckets: readonly number[], v: number): void {
  for (let i = 0; i < buckets.length; i++) if (v <= buckets[i]!) h.counts[i]!++;
  h.sum += v;
  h.count++;
}
function renderHistogram(out: string[], name: string, labels: string, buckets: readonly number[], h: Histogram): void {
  const sep = labels ? `${labels},` : '';
  buckets.forEach((b, i) => out.push(`${name}_bucket{${sep}le="${b}"} ${h.counts[i]}`));
  out.push(`${name}_bucket{${sep}le="+Inf"} ${h.count}`, `${name}_sum${labels ? `{${labels}}` : ''} ${h.sum}`, `${name}_count${labels ? `{${labels}}` : ''} ${h.count}`);
}

export class ServerMetrics {
  private requests = new Map<string, number>();
  private latency = new Map<string, Histogram>();
  private stages = new Map<string, Histogram>();
  /** version -> outputs (probabilities for classification, values for regression) */
  private outputs = new Map<string, { h: Histogram; probability: boolean }>();
  private readonly lag: IntervalHistogram;
  constructor() {
    this.lag = monitorEventLoopDelay({ resolution: 10 });
    this.lag.enable();
  }
  predictions = 0;
  reloads = 0;
  /** Per categorical feature: request values not among the model's levels (predicted as "other"). */
  unseen: Record<string, number> = Object.create(null) as Record<string, number>;

  observe(endpoint: string, status: number, seconds: number): void {
    const key = `${endpoint}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.latency.get(endpoint);
    if (!h) this.latency.set(endpoint, (h = histogram(BUCKETS.length)));
    add(h, BUCKETS, seconds);
  }

  /** Time spent in one stage of a prediction request. */
  stage(name: 'parse' | 'predict' | 'log', seconds: number): void {
    let h = this.stages.get(name);
    if (!h) this.stages.set(name, (h = histogram(BUCKETS.length)));
    add(h, BUCKETS, seconds);
  }

  /** The outputs of one request of a model version. */
  output(version: string, values: readonly number[], probability: boolean): void {
    let o = this.outputs.get(version);
    if (!o) this.outputs.set(version, (o = { h: histogram(OUTPUT_BUCKETS.length), probability }));
    for (const v of values) {
      if (probability) add(o.h, OUTPUT_BUCKETS, v);
      else {
        o.h.sum += v;
        o.h.count++;
      }
    }
  }

  close(): void {
    this.lag.disable();
  }

  render(modelVersion: string | null): string {
    const out: string[] = [
      '# HELP mlops_requests_total HTTP requests by endpoint and status.',
      '# TYPE mlops_requests_total counter',
    ];
    for (const [key, n] of this.requests) {
      const [endpoint, status] = key.split('\u0000');
      out.push(`mlops_requests_total{endpoint="${endpoint}",status="${status}"} ${n}`);
    }
    out.push('# HELP mlops_request_duration_seconds Request latency.', '# TYPE mlops_request_duration_seconds histogram');
    for (const [endpoint, h] of this.latency) renderHistogram(out, 'mlops_request_duration_seconds', `endpoint="${endpoint}"`, BUCKETS, h);
    out.push('# HELP mlops_stage_duration_seconds Time per stage of a prediction request.', '# TYPE mlops_stage_duration_seconds histogram');
    for (const [stage, h] of this.stages) renderHistogram(out, 'mlops_stage_duration_seconds', `stage="${stage}"`, BUCKETS, h);
    out.push('# HELP mlops_prediction_output Outputs per model version: P(positive class) for classifiers (histogram), the sum and count of values for regressors.', '# TYPE mlops_prediction_output histogram');
    for (const [version, o] of this.outputs) {
      if (o.probability) renderHistogram(out, 'mlops_prediction_output', `version="${version}"`, OUTPUT_BUCKETS, o.h);
      else out.push(`mlops_prediction_output_sum{version="${version}"} ${o.h.sum}`, `mlops_prediction_output_count{version="${version}"} ${o.h.count}`);
    }
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    out.push(
      '# HELP mlops_event_loop_lag_seconds Event-loop delay (mean and p99 since start).',
      '# TYPE mlops_event_loop_lag_seconds gauge',
      `mlops_event_loop_lag_seconds{quantile="mean"} ${(Number.isFinite(this.lag.mean) ? this.lag.mean : 0) / 1e9}`,
      `mlops_event_loop_lag_seconds{quantile="0.99"} ${this.lag.percentile(99) / 1e9}`,
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${mem.rss}`,
      '# HELP nodejs_heap_used_bytes V8 heap in use.',
      '# TYPE nodejs_heap_used_bytes gauge',
      `nodejs_heap_used_bytes ${mem.heapUsed}`,
      '# HELP process_cpu_seconds_total User and system CPU time.',
      '# TYPE process_cpu_seconds_total counter',
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
      '# HELP process_uptime_seconds Seconds since the process started.',
      '# TYPE process_uptime_seconds gauge',
      `process_uptime_seconds ${process.uptime()}`,
    );
    out.push(
      '# HELP mlops_predictions_total Rows predicted.',
      '# TYPE mlops_predictions_total counter',
      `mlops_predictions_total ${this.predictions}`,
      '# HELP mlops_model_reloads_total Releases loaded while running.',
      '# TYPE mlops_model_reloads_total counter',
      `mlops_model_reloads_total ${this.reloads}`,
      '# HELP mlops_unseen_levels_total Categorical values not seen in training, predicted as "other".',
      '# TYPE mlops_unseen_levels_total counter',
      ...Object.entries(this.unseen).map(([f, n]) => `mlops_unseen_levels_total{feature=${JSON.stringify(f)}} ${n}`),
      '# HELP mlops_model_info The model version being served.',
      '# TYPE mlops_model_info gauge',
      `mlops_model_info{version="${modelVersion ?? 'none'}"} 1`,
    );
    return out.join('\n') + '\n';
  }
}
