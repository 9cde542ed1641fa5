/** npm run gen-data -- --rows N --files K --out DIR [--shift S] [--dup F] [--missing M] [--seed N] [--prefix P] */
import { Command, InvalidArgumentError } from 'commander';
import { generate } from './gendata.js';

const num = (min: number, max: number, int = false) => (v: string) => {
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || x > max || (int && !Number.isInteger(x))) {
    throw new InvalidArgumentError(`expected ${int ? 'an integer' : 'a number'} in [${min}, ${max}]`);
  }
  return x;
};

export async function main(argv: string[]): Promise<number> {
  const program = new Command('gen-data')
    .description('write seeded attrition-style sample CSV files')
    .requiredOption('--rows <n>', 'total rows', num(1, 1e9, true))
    .option('--files <k>', 'number of files', num(1, 10000, true), 1)
    .requiredOption('--out <dir>', 'output folder')
    .option('--shift <s>', 'distribution shift (0 = reference)', num(-0.9, 10), 0)
    .option('--dup <f>', 'fraction of duplicate rows', num(0, 0.99), 0)
    .option('--missing <m>', 'fraction of empty feature cells', num(0, 0.99), 0)
    .option('--seed <n>', 'random seed', num(0, 2 ** 32 - 1, true), 42)
    .option('--prefix <p>', 'file name prefix, or the file name when --files 1 and it ends in .csv', 'dataset')
    .exitOverride();
  try {
    program.parse(argv);
  } catch {
    return 2;
  }
  const o = program.opts<{ rows: number; files: number; out: string; shift: number; dup: number; missing: number; seed: number; prefix: string }>();
  const r = generate(o);
  for (const f of r.files) process.stdout.write(`${f.path}\t${f.rows} rows\n`);
  return 0;
}
