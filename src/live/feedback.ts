/**
 * Feedback labels: the true outcome of a logged prediction, sent later by its request id
 * (POST /feedback, or a CSV file request_id,label). Kept in an append-only log,
 *
 *   <output_folder_path>/feedback/feedback.jsonl
 *   {"request_id":"9f0c...","label":1,"time":"2026-12-04T08:00:00.000Z"}
 *
 * one line per label received; the last line of an id wins (a repeated id replaces the label).
 * Appends are whole lines (lines.ts), so a crash tears at most the last line, which the reader
 * skips. A label for an id the prediction log does not know is refused and counted (the server
 * answers 404), never stored.
 *
 * labelledPredictions() joins the labels to the logged predictions: one row per model output
 * (the answering model's and every shadow model's) with its label and the label delay (label
 * time - prediction time); scoreLive() turns them into metrics per model version, the `live`
 * evaluations.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataError, quote } from '../errors.js';
import { parseCsvRecords } from '../data/csvfiles.js';
import { accuracyScore, confusion, f1Score, logLoss, precisionScore, recallScore, rocAucScore, type Confusion } from '../model/metrics.js';
import { sha256Text, writeFileAtomic } from '../store/atomic.js';
import type { Config } from '../store/config.js';
import type { Metrics } from '../store/records.js';
import { readLog, shape } from '../store/statefile.js';
import { quantile } from '../stats/describe.js';
import { LineFile } from './lines.js';
import { readPredictions, type Arm, type ReadOptions } from './predlog.js';

export interface FeedbackRecord {
  request_id: string;
  label: number;
  time: string;
}

export const FEEDBACK_RECORD = shape<FeedbackRecord>('feedback record', { request_id: 'string', label: 'integer', time: 'string' });

export const feedbackPath = (cfg: Pick<Config, 'output_folder_path'>) => join(cfg.output_folder_path, 'feedback', 'feedback.jsonl');

export interface FeedbackItem {
  request_id: string;
  label: number;
}

/** What one delivery of labels did. */
export interface FeedbackResult {
  /** Labels stored (new ones and replacements). */
  accepted: number;
  /** Of those, ids that had a label already (the new one replaces it). */
  replaced: number;
  /** Ids the prediction log does not know: not stored. */
  unknown: number;
  /** The first 20 unknown ids, for the answer. */
  unknown_ids: string[];
}

/** The problem with one item, or null. */
function itemProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'is not an object {"request_id", "label"}';
  const o = v as Record<string, unknown>;
  if (typeof o.request_id !== 'string' || o.request_id === '') return '"request_id" must be a non-empty string';
  if (o.label !== 0 && o.label !== 1) return `"label" must be 0 or 1, not ${quote(o.label)}`;
  return null;
}

/**
 * The items of a POST /feedback body: {"request_id", "label"} or {"items": [...]}. A bad body
 * throws `bad(message)` (the server passes one making a 400).
 */
export function feedbackFromBody(body: unknown, bad: (message: string) => Error): FeedbackItem[] {
  const items = typeof body === 'object' && body !== null && !Array.isArray(body) && 'items' in body ? (body as { items: unknown }).items : [body];
  if (!Array.isArray(items) || items.length === 0) throw bad('"items" must be a non-empty array of {"request_id", "label"}');
  items.forEach((it, i) => {
    const p = itemProblem(it);
    if (p) throw bad(`${Array.isArray((body as { items?: unknown }).items) ? `items[${i}]` : 'the body'} ${p}`);
  });
  return (items as FeedbackItem[]).map((it) => ({ request_id: it.request_id, label: it.label }));
}

/** The items of a CSV file with the header request_id,label (labels 0/1); DataError naming the line. */
export function feedbackFromCsv(text: string, path: string): FeedbackItem[] {
  const records = parseCsvRecords(text, path);
  const header = records[0]?.fields.map((h) => h.trim());
  const idCol = header?.indexOf('request_id') ?? -1;
  const labelCol = header?.indexOf('label') ?? -1;
  if (idCol < 0 || labelCol < 0) throw new DataError(`${path}: the header must name the columns request_id and label`, 'first line: request_id,label');
  return records.slice(1).map((r) => {
    const id = r.fields[idCol]?.trim() ?? '';
    const cell = r.fields[labelCol]?.trim();
    if (id === '') throw new DataError(`${path}: line ${r.line}: no request_id`, 'every line needs a request id and a label');
    if (cell !== '0' && cell !== '1') throw new DataError(`${path}: line ${r.line}: label ${quote(cell ?? '')} is not 0 or 1`, 'labels are 0 or 1');
    return { request_id: id, label: Number(cell) };
  });
}

/** Every label received, the last per id winning. */
export async function readFeedback(path: string): Promise<Map<string, FeedbackRecord>> {
  const out = new Map<string, FeedbackRecord>();
  for (const r of await readLog(path, FEEDBACK_RECORD)) out.set(r.request_id, r);
  return out;
}

/**
 * The feedback log held open by a writer (the server, or `mlops feedback` for one file): the
 * labels in memory (to count replacements) and appends.
 */
export class FeedbackStore {
  private totals = { accepted: 0, replaced: 0, unknown: 0 };

  private constructor(
    private readonly file: LineFile,
    private readonly labels: Map<string, FeedbackRecord>,
  ) {}

  static async open(path: string): Promise<FeedbackStore> {
    const labels = await readFeedback(path);
    await mkdir(dirname(path), { recursive: true });
    return new FeedbackStore(await LineFile.open(path), labels);
  }

  /**
   * Store labels of known predictions, in one append. `known` answers which ids the prediction
   * log holds (PredictionLog.known, or knownOnDisk for the CLI).
   */
  async add(items: readonly FeedbackItem[], known: (ids: string[]) => Promise<Set<string>>, now = Date.now()): Promise<FeedbackResult> {
    const have = await known(items.map((i) => i.request_id));
    const r: FeedbackResult = { accepted: 0, replaced: 0, unknown: 0, unknown_ids: [] };
    const time = new Date(now).toISOString();
    let text = '';
    for (const it of items) {
      if (!have.has(it.request_id)) {
        r.unknown++;
        if (r.unknown_ids.length < 20) r.unknown_ids.push(it.request_id);
        continue;
      }
      if (this.labels.has(it.request_id)) r.replaced++;
      const rec = { request_id: it.request_id, label: it.label, time };
      this.labels.set(it.request_id, rec);
      text += JSON.stringify(rec) + '\n';
      r.accepted++;
    }
    if (text) await this.file.append(text);
    this.totals.accepted += r.accepted;
    this.totals.replaced += r.replaced;
    this.totals.unknown += r.unknown;
    return r;
  }

  /** Labels held, and what this process received (for /metrics and status). */
  counts(): { labels: number; accepted: number; replaced: number; unknown: number } {
    return { labels: this.labels.size, ...this.totals };
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/** One model's prediction for a request, with the label that came for it. */
export interface LabelledRow {
  request_id: string;
  /** Prediction time. */
  time: string;
  version: string;
  /** Which arm answered the request (for a shadow row: the other model). */
  answered_by: Arm;
  /** Whether this output was the answer returned (false: a shadow model's). */
  answered: boolean;
  proba: number;
  predicted: number;
  label: number;
  label_delay_s: number;
  inputs: Record<string, number | null>;
}

/**
 * The logged predictions that have a label, one row per model output, oldest first. `version`
 * keeps only that model's outputs; `since`/`until` select by prediction time.
 */
export async function* labelledPredictions(o: { predictions: string; feedback: string } & ReadOptions): AsyncGenerator<LabelledRow> {
  const labels = await readFeedback(o.feedback);
  if (labels.size === 0) return;
  for await (const r of readPredictions(o.predictions, o)) {
    const fb = labels.get(r.request_id);
    if (!fb) continue;
    const delay = (Date.parse(fb.time) - Date.parse(r.time)) / 1000;
    const base = { request_id: r.request_id, time: r.time, answered_by: r.answered_by ?? 'champion', label: fb.label, label_delay_s: delay, inputs: r.inputs };
    if (o.version === undefined || r.version === o.version) yield { ...base, version: r.version, answered: true, proba: r.proba, predicted: r.label ?? Number.NaN };
    for (const s of r.shadow ?? []) {
      if (o.version === undefined || s.version === o.version) yield { ...base, version: s.version, answered: false, proba: s.proba, predicted: s.label ?? Number.NaN };
    }
  }
}

/** A model version's score on labelled live traffic: what a `live` evaluation records. */
export interface LiveScore {
  version: string;
  rows: number;
  metrics: Metrics;
  confusion: Confusion;
  /** Seconds from prediction to label. */
  label_delay_s: { median: number; p90: number; max: number };
  /** Prediction times covered. */
  first: string;
  last: string;
  /** SHA-256 of the labelled requests (id and label, in order): the same labels give the same hash. */
  data_sha256: string;
}

/** Metrics of labelled rows (one version's): scikit-learn's definitions, as `mlops score` reports them. */
export function scoreRows(version: string, rows: readonly LabelledRow[]): LiveScore {
  if (rows.length === 0) throw new DataError(`no labelled live predictions of ${version}`, 'post labels to /feedback first');
  const y = rows.map((r) => r.label);
  const c = confusion(y, rows.map((r) => r.predicted));
  const delays = rows.map((r) => r.label_delay_s);
  return {
    version,
    rows: rows.length,
    metrics: {
      f1: f1Score(c),
      precision: precisionScore(c),
      recall: recallScore(c),
      accuracy: accuracyScore(c),
      roc_auc: rocAucScore(y, rows.map((r) => r.proba)),
      log_loss: logLoss(y, rows.map((r) => r.proba)),
    },
    confusion: c,
    label_delay_s: { median: quantile(delays, 0.5), p90: quantile(delays, 0.9), max: delays.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY) },
    first: rows[0]!.time,
    last: rows[rows.length - 1]!.time,
    data_sha256: sha256Text(rows.map((r) => `${r.request_id}\t${r.label}\n`).join('')),
  };
}

/** The live score of every version with labelled predictions (or of `version`), by version name. */
export async function scoreLive(o: { predictions: string; feedback: string } & ReadOptions): Promise<LiveScore[]> {
  const byVersion = new Map<string, LabelledRow[]>();
  for await (const r of labelledPredictions(o)) {
    let rows = byVersion.get(r.version);
    if (!rows) byVersion.set(r.version, (rows = []));
    rows.push(r);
  }
  return [...byVersion].sort(([a], [b]) => (a < b ? -1 : 1)).map(([v, rows]) => scoreRows(v, rows));
}

/**
 * Labelled live traffic as a CSV file for training (`mlops ingest --from-feedback`): one row per
 * labelled request (its logged inputs, empty where missing, and the label as `target`), written
 * atomically to `path`. Returns the rows written.
 */
export async function writeLabelledCsv(
  o: { predictions: string; feedback: string; path: string; features: readonly string[]; target: string; columns?: readonly string[] } & Omit<ReadOptions, 'version'>,
): Promise<number> {
  const cell = (v: number | null | undefined) => (typeof v === 'number' ? String(v) : '');
  const seen = new Set<string>();
  // the input folder's columns (others, such as ids, left empty), else the features and target
  const columns = o.columns ?? [...o.features, o.target];
  let text = columns.map(csvField).join(',') + '\n';
  for await (const r of labelledPredictions(o)) {
    if (!r.answered || seen.has(r.request_id)) continue;
    seen.add(r.request_id);
    text += columns.map((c) => (c === o.target ? csvField(String(r.label)) : cell(r.inputs[c]))).join(',') + '\n';
  }
  await writeFileAtomic(o.path, text);
  return seen.size;
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
