/* global process, console */
/**
 * Times fitGbt on 1,000,000 x 10 synthetic rows with the defaults (median of 3), after
 * `npm run build`:
 *
 *   node bench/gbt-bench.mjs [--rows N] [--task classification|regression] [--no-early-stopping] [--threads T]
 *   /usr/bin/python3 bench/gbt_reference.py [same flags]   # scikit-learn on the same data
 *   node bench/gbt-bench.mjs --predict [--task T]          # one-row predictions per second
 *
 * --predict fits a 100-tree model (no early stopping) on 100,000 of the rows and times
 * predictRowGbt and predictProbaGbt called on one row at a time, as a prediction server would.
 *
 * The data is written once to /tmp/gbt-bench/<task>-<rows>/ (X.f64: the columns one after the
 * other, y.f64, meta.json); our times go to ours[-noes].json there, and the Python script
 * prints the ratio.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitGbt, predictGbt, predictProbaGbt, predictRowGbt } from '../dist/model/gbt/index.js';
import { rng } from '../dist/tools/gendata.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const rows = Number(flag('--rows', '1000000'));
const task = flag('--task', 'classification');
const earlyStopping = args.includes('--no-early-stopping') ? false : 'auto';
const dir = join('/tmp/gbt-bench', `${task}-${rows}`);
const FEATURES = 10;
const categorical = [false, false, false, false, false, false, false, true, false, true];

/** Features: 0-5 near-normal, 6 with 15% missing, 7 a 10-level code, 8 uniform, 9 a 40-level code. */
function generate() {
  const random = rng(12345);
  const normal = () => random() + random() + random() + random() - 2;
  const X = Array.from({ length: FEATURES }, () => new Float64Array(rows));
  const y = new Float64Array(rows);
  const catEffect = [0, 1.2, -0.5, 0.8, -1, 0.3, 1.5, -0.8, 0.1, -0.3];
  for (let i = 0; i < rows; i++) {
    for (let f = 0; f < 6; f++) X[f][i] = normal();
    X[6][i] = random() < 0.15 ? NaN : normal();
    X[7][i] = Math.floor(random() * 10);
    X[8][i] = random();
    X[9][i] = Math.floor(random() * 40);
    const signal =
      Math.sign(X[0][i] * X[1][i]) +
      0.8 * X[2][i] -
      0.5 * X[3][i] * X[3][i] +
      catEffect[X[7][i]] +
      (Number.isNaN(X[6][i]) ? 0.7 : 0.3 * X[6][i]) +
      (X[9][i] % 3 === 0 ? 0.5 : 0);
    const noise = normal() * 1.5;
    y[i] = task === 'classification' ? (signal + noise > 0.2 ? 1 : 0) : signal + noise;
  }
  mkdirSync(dir, { recursive: true });
  const flat = new Float64Array(rows * FEATURES);
  X.forEach((x, f) => flat.set(x, f * rows));
  writeFileSync(join(dir, 'X.f64'), flat);
  writeFileSync(join(dir, 'y.f64'), y);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ rows, features: FEATURES, task, categorical }));
}

if (!existsSync(join(dir, 'meta.json'))) generate();
const flat = new Float64Array(readFileSync(join(dir, 'X.f64')).buffer.slice(0));
const X = Array.from({ length: FEATURES }, (_, f) => flat.subarray(f * rows, (f + 1) * rows));
const y = new Float64Array(readFileSync(join(dir, 'y.f64')).buffer.slice(0));

const threadsFlag = flag('--threads', undefined);
const threads = threadsFlag === undefined ? undefined : Number(threadsFlag);

if (args.includes('--predict')) {
  const n = 100_000;
  const Xs = X.map((x) => x.slice(0, n));
  const m = fitGbt(Xs, y.slice(0, n), { task, categorical, early_stopping: false, max_iter: 100, threads });
  const rowsCols = Array.from({ length: 10_000 }, (_, i) => Float64Array.from(Xs, (x) => x[(i * 7919) % n]));
  const check = predictGbt(m, Xs.map((x) => x.subarray(0, 1)))[0];
  if (predictRowGbt(m, Float64Array.from(Xs, (x) => x[0])) !== check) throw new Error('predictRowGbt disagrees with predictGbt');
  const rate = (name, fn) => {
    let calls = 0;
    let sink = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < 2) {
      for (let i = 0; i < 1000; i++) sink += fn(rowsCols[(calls + i) % rowsCols.length]);
      calls += 1000;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    }
    console.log(`${name}: ${Math.round(calls / elapsed).toLocaleString('en-US')} rows/s (one row per call, ${m.n_iter} trees)${Number.isFinite(sink) ? '' : ' !'}`);
  };
  rate('predictRowGbt', (row) => predictRowGbt(m, row));
  const columns = (row) => Array.from(row, (v) => Float64Array.of(v));
  rate(task === 'classification' ? 'predictProbaGbt' : 'predictGbt', (row) => (task === 'classification' ? predictProbaGbt : predictGbt)(m, columns(row))[0]);
  process.exit(0);
}

const times = [];
let model;
for (let run = 0; run < 3; run++) {
  const t0 = process.hrtime.bigint();
  model = fitGbt(X, y, { task, categorical, early_stopping: earlyStopping, seed: run, threads });
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  console.log(`run ${run + 1}: ${times.at(-1).toFixed(2)} s, ${model.n_iter} iterations`);
}
const median = [...times].sort((a, b) => a - b)[1];
console.log(`ours: median ${median.toFixed(2)} s over 3 runs (${rows} x ${FEATURES}, ${task}, early_stopping ${earlyStopping})`);
const out = join(dir, earlyStopping === false ? 'ours-noes.json' : 'ours.json');
writeFileSync(out, JSON.stringify({ times, median, n_iter: model.n_iter }));
