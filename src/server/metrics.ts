/** Request counters and a latency histogram in the Prometheus text exposition format. */

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ServerMetrics {
  private requests = new Map<string, number>();
  private latency = new Map<string, { counts: number[]; sum: number; count: number }>();
  predictions = 0;
  reloads = 0;
  /** Per categorical feature: request values not among the model's levels (predicted as "other"). */
  unseen: Record<string, number> = Object.create(null) as Record<string, number>;

  observe(endpoint: string, status: number, seconds: number): void {
    const key = `${endpoint}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.latency.get(endpoint);
    if (!h) this.latency.set(endpoint, (h = { counts: new Array<number>(BUCKETS.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
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
    for (const [endpoint, h] of this.latency) {
      BUCKETS.forEach((b, i) => out.push(`mlops_request_duration_seconds_bucket{endpoint="${endpoint}",le="${b}"} ${h.counts[i]}`));
      out.push(`mlops_request_duration_seconds_bucket{endpoint="${endpoint}",le="+Inf"} ${h.count}`);
      out.push(`mlops_request_duration_seconds_sum{endpoint="${endpoint}"} ${h.sum}`);
      out.push(`mlops_request_duration_seconds_count{endpoint="${endpoint}"} ${h.count}`);
    }
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
