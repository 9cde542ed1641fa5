/**
 * node dist/bench/clickhouse.js [--rows N] [--files K] [--repeat R] [--url URL]
 *
 * Training where the data lives: the same N generated rows (5% duplicates, 2% missing cells) in
 * one project on the embedded DuckDB engine and one on a ClickHouse server (a scratch
 * clickhouse-server on loopback ports, or --url), each verb run as a whole process, R times:
 * ingest, train, score. Prints median wall time and the Node process's peak RSS (GNU time), and
 * how far apart the two engines' coefficients are. On ClickHouse no row reaches Node in train,
 * so its RSS does not grow with N (the issue asks for < 200 MB at 10M rows).
 */
import { readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { generate } from '../tools/gendata.js';
import { startClickHouse } from '../tools/clickhouse-server.js';
import { measure, median, runIfMain, type Measure } from './measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const CONFIG = {
  input_folder_path: 'practicedata',
  output_folder_path: 'ingesteddata',
  test_data_path: 'testdata',
  output_model_path: 'practicemodels',
  prod_deployment_path: 'production_deployment',
};

/** The generated files once per size (kept for reruns), and the two projects on them. */
function prepare(dir: string, rows: number, files: number, url: string): { duck: string; ch: string } {
  const data = join(dir, 'data');
  if (!existsSync(join(dir, 'ready'))) {
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`generating ${rows} rows in ${files} files ...\n`);
    generate({ rows, files, out: join(data, 'practicedata'), dup: 0.05, missing: 0.02, seed: 1 });
    generate({ rows: 20_000, files: 1, out: join(data, 'testdata'), seed: 2, missing: 0.02, prefix: 'testdata.csv' });
    writeFileSync(join(dir, 'ready'), '');
  }
  const make = (name: string, extra: object) => {
    const p = join(dir, name);
    rmSync(p, { recursive: true, force: true });
    mkdirSync(p);
    writeFileSync(
      join(p, 'config.json'),
      JSON.stringify({ ...CONFIG, input_folder_path: join(data, 'practicedata'), test_data_path: join(data, 'testdata'), ...extra }),
    );
    return p;
  };
  return { duck: make('duckdb', {}), ch: make('clickhouse', { engine: { type: 'clickhouse', url, table: 'bench_rows' } }) };
}

interface Row {
  engine: string;
  verb: string;
  runs: number[];
  median_s: number;
  peak_rss_mb: number | null;
}

export async function main(argv: string[]): Promise<number> {
  const o = new Command('bench-clickhouse')
    .option('--rows <n>', 'rows', (v) => Number(v), 1_000_000)
    .option('--files <k>', 'files', (v) => Number(v), 8)
    .option('--repeat <r>', 'runs of train and score', (v) => Number(v), 3)
    .option('--url <url>', 'a running server instead of a scratch one')
    .parse(argv)
    .opts<{ rows: number; files: number; repeat: number; url?: string }>();
  const server = o.url ? null : await startClickHouse({ maxMemoryBytes: 8e9 });
  const url = o.url ?? server!.url;
  const load = [loadavg()[0]!];
  try {
    const { duck, ch } = prepare(join(ROOT, '.bench-data', `clickhouse-${o.rows}x${o.files}`), o.rows, o.files, url);
    const rows: Row[] = [];
    const record = (engine: string, verb: string, ms: Measure[]) => {
      const rss = ms.map((m) => m.rssMB).filter((x): x is number => x !== null);
      const r: Row = { engine, verb, runs: ms.map((m) => Math.round(m.seconds * 1000) / 1000), median_s: Math.round(median(ms.map((m) => m.seconds)) * 1000) / 1000, peak_rss_mb: rss.length ? Math.round(Math.max(...rss)) : null };
      rows.push(r);
      load.push(loadavg()[0]!);
      process.stderr.write(`${engine} ${verb}: median ${r.median_s} s (${r.runs.join(', ')}), peak RSS ${r.peak_rss_mb} MB\n`);
    };
    const times = (n: number, f: () => Measure) => Array.from({ length: n }, f);
    for (const [engine, dir] of [['DuckDB embedded', duck], ['ClickHouse', ch]] as const) {
      record(engine, 'ingest', [measure(dir, ['ingest'])]);
      record(engine, 'train', times(o.repeat, () => measure(dir, ['train'])));
      record(engine, 'score (20,000 test rows)', times(o.repeat, () => measure(dir, ['score'])));
    }
    const coef = (dir: string) => {
      const m = JSON.parse(readFileSync(join(dir, 'practicemodels', 'trainedmodel.json'), 'utf8')) as { linear: { intercept: number; coefficients: number[] } };
      return [m.linear.intercept, ...m.linear.coefficients];
    };
    const a = coef(duck);
    const b = coef(ch);
    const rel = Math.max(...a.map((x, j) => Math.abs(x - b[j]!) / Math.max(Math.abs(x), Math.abs(b[j]!), Number.MIN_VALUE)));
    const lines = [
      `mlops bench, ClickHouse engine: ${o.rows} rows in ${o.files} files (5% duplicates), ${o.repeat} runs of train and score, load average ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}, Node ${process.version}`,
      '',
      '| engine | verb | median s | runs | Node peak RSS MB |',
      '|---|---|---:|---|---:|',
      ...rows.map((r) => `| ${r.engine} | ${r.verb} | ${r.median_s} | ${r.runs.join(', ')} | ${r.peak_rss_mb ?? 'n/a'} |`),
      '',
      `coefficients, ClickHouse against DuckDB: largest relative difference ${rel.toExponential(2)}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    await server?.stop();
  }
}

runIfMain(import.meta.url, main);
