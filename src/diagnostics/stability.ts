/**
 * Data integrity and stability: the latest ingestion compared with the one before it (rows,
 * duplicates, missing shares, column means), flagging the columns that moved the most.
 */
import type { IngestionRecord } from '../store/records.js';

export interface ColumnMove {
  column: string;
  mean_before: number | null;
  mean_after: number | null;
  /** Change of the mean in units of the previous standard deviation. */
  mean_change_sd: number | null;
  missing_before_pct: number;
  missing_after_pct: number;
  flagged: string | null;
}

export interface StabilityReport {
  previous: string | null;
  latest: string | null;
  rows_read: [number | null, number | null];
  duplicates_dropped: [number | null, number | null];
  rows_written: [number | null, number | null];
  columns: ColumnMove[];
}

export function compareIngestions(previous: IngestionRecord | undefined, latest: IngestionRecord | undefined): StabilityReport {
  const pair = (k: 'rows_read' | 'duplicates_dropped' | 'rows_written'): [number | null, number | null] => [
    previous?.[k] ?? null,
    latest?.[k] ?? null,
  ];
  const columns: ColumnMove[] = (latest?.columns ?? []).map((c) => {
    const p = previous?.columns.find((x) => x.name === c.name);
    const sd = p?.std ?? null;
    const change =
      p?.mean != null && c.mean != null ? (sd && sd > 0 ? (c.mean - p.mean) / sd : c.mean === p.mean ? 0 : Infinity) : null;
    return {
      column: c.name,
      mean_before: p?.mean ?? null,
      mean_after: c.mean ?? null,
      mean_change_sd: change,
      missing_before_pct: previous && p ? (100 * p.missing) / Math.max(1, previous.rows_read) : 0,
      missing_after_pct: (100 * c.missing) / Math.max(1, latest!.rows_read),
      flagged: null,
    };
  });
  if (previous) {
    const flag = (score: (m: ColumnMove) => number, label: string, min: number) => {
      const best = columns.reduce<ColumnMove | null>((b, m) => (score(m) > (b ? score(b) : min) ? m : b), null);
      if (best) best.flagged = best.flagged ? `${best.flagged}; ${label}` : label;
    };
    flag((m) => Math.abs(m.mean_change_sd ?? 0), 'mean moved the most', 0.05);
    flag((m) => Math.abs(m.missing_after_pct - m.missing_before_pct), 'missing share moved the most', 0.5);
  }
  return {
    previous: previous?.timestamp ?? null,
    latest: latest?.timestamp ?? null,
    rows_read: pair('rows_read'),
    duplicates_dropped: pair('duplicates_dropped'),
    rows_written: pair('rows_written'),
    columns,
  };
}
