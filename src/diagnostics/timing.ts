/**
 * How long ingest and train take: either the durations recorded by the last real runs, or
 * measured by re-running both as real processes on a scratch copy (outputs in a temp folder,
 * never the real ones), `repeat` times, reporting the median.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MlopsError } from '../errors.js';
import { readLog } from '../store/statefile.js';
import type { Config } from '../store/config.js';
import { INGESTION_RECORD, paths, TRAINING_RECORD } from '../store/records.js';
import { quantile } from '../stats/describe.js';

export interface Timings {
  source: 'recorded' | 'measured';
  ingest_seconds: number | null;
  train_seconds: number | null;
  repeat?: number;
  ingest_runs?: number[];
  train_runs?: number[];
}

export async function recordedTimings(cfg: Config): Promise<Timings> {
  const p = paths(cfg);
  const ing = (await readLog(p.ingestionLog, INGESTION_RECORD)).at(-1);
  const tr = (await readLog(p.trainLog, TRAINING_RECORD)).at(-1);
  return { source: 'recorded', ingest_seconds: ing?.seconds ?? null, train_seconds: tr?.seconds ?? null };
}

function runCli(bin: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve((performance.now() - t0) / 1000);
      else reject(new MlopsError(`timing run \`mlops ${args.at(-1)}\` failed: ${err.trim().split('\n')[0]}`));
    });
  });
}

export async function measureTimings(cfg: Config, bin: string, repeat: number): Promise<Timings> {
  const scratch = await mkdtemp(join(tmpdir(), 'mlops-timing-'));
  try {
    const config = join(scratch, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        input_folder_path: cfg.input_folder_path,
        output_folder_path: join(scratch, 'ingested'),
        test_data_path: cfg.test_data_path,
        output_model_path: join(scratch, 'models'),
        prod_deployment_path: join(scratch, 'production'),
        target: cfg.target,
        ...(cfg.features ? { features: cfg.features } : {}),
        model: cfg.model,
      }),
    );
    const ingest: number[] = [];
    const train: number[] = [];
    for (let k = 0; k < repeat; k++) {
      ingest.push(await runCli(bin, ['--quiet', '--config', config, 'ingest']));
      train.push(await runCli(bin, ['--quiet', '--config', config, 'train']));
    }
    return {
      source: 'measured',
      ingest_seconds: quantile(ingest, 0.5),
      train_seconds: quantile(train, 0.5),
      repeat,
      ingest_runs: ingest,
      train_runs: train,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
