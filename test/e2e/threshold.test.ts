/**
 * One threshold: every verb that turns probabilities into classes uses the threshold the model
 * file holds (score, predict, the gate and report through score, diagnose, serve).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, genData, project, read } from '../helpers.js';

interface Scored {
  rows: number;
  metrics: { f1: number; precision: number; recall: number; accuracy: number };
  confusion: { tp: number; fp: number; tn: number; fn: number };
}

describe('the model threshold', () => {
  const dir = project({ classic: false });
  genData('--rows', '4000', '--out', join(dir, 'practicedata'), '--seed', '3');
  genData('--rows', '2000', '--out', join(dir, 'testdata'), '--seed', '4', '--prefix', 'testdata.csv');
  expect(cli(dir, 'ingest').code).toBe(0);
  expect(cli(dir, 'train').code).toBe(0);
  const model = JSON.parse(read(join(dir, 'practicemodels/trainedmodel.json')));
  const at = (t: number) => {
    const file = join(dir, `model-${t}.json`);
    writeFileSync(file, JSON.stringify({ ...model, threshold: t }));
    return file;
  };
  const labels = read(join(dir, 'testdata/testdata.csv'))
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',').at(-1)));

  it('score counts a row as positive exactly when predict labels it 1', () => {
    for (const t of [0.3, 0.5, 0.7]) {
      const file = at(t);
      const s = cliJson<Scored>(dir, 'score', '--model', file);
      const p = cliJson<{ predictions: number[]; probabilities: number[] }>(
        dir, 'predict', '--input', join(dir, 'testdata/testdata.csv'), '--model', file,
      );
      expect(p.predictions).toEqual(p.probabilities.map((q) => (q > t ? 1 : 0)));
      const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
      p.predictions.forEach((y, i) => {
        const truth = labels[i] === 1;
        if (y === 1) c[truth ? 'tp' : 'fp']++;
        else c[truth ? 'fn' : 'tn']++;
      });
      expect(s.confusion).toEqual(c);
      expect(s.metrics.f1).toBeCloseTo((2 * c.tp) / (2 * c.tp + c.fp + c.fn), 15);
    }
  });

  it('moves the metrics: 0.3 and 0.5 give different confusion matrices on this data', () => {
    const a = cliJson<Scored>(dir, 'score', '--model', at(0.3));
    const b = cliJson<Scored>(dir, 'score', '--model', at(0.5));
    expect(a.confusion).not.toEqual(b.confusion);
    expect(a.confusion.tp + a.confusion.fp).toBeGreaterThan(b.confusion.tp + b.confusion.fp);
  });

  it('the trained model scored as "trained" uses its own threshold too', () => {
    const path = join(dir, 'practicemodels/trainedmodel.json');
    writeFileSync(path, JSON.stringify({ ...model, threshold: 0.3 }));
    const s = cliJson<Scored>(dir, 'score');
    const viaFile = cliJson<Scored>(dir, 'score', '--model', at(0.3));
    expect(s.confusion).toEqual(viaFile.confusion);
    expect(s.confusion).not.toEqual(cliJson<Scored>(dir, 'score', '--model', at(0.5)).confusion);
    expect(Number(readFileSync(join(dir, 'practicemodels/latestscore.txt'), 'utf8'))).toBe(s.metrics.f1);
  });
});
