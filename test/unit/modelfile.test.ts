import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { MAX_FEATURES, parseModel } from '../../src/model/modelfile.js';

const good = {
  format: 'mlops-model/1',
  type: 'logistic_regression',
  target: 'exited',
  features: ['a', 'b'],
  coefficients: [0.1, -0.2],
  intercept: 0.3,
  feature_means: [1, 2],
  threshold: 0.5,
};
const FILE = '/p/trainedmodel.json';

describe('parseModel', () => {
  it('accepts a valid model; a file without threshold gets 0.5', () => {
    expect(parseModel(good, FILE).threshold).toBe(0.5);
    expect(parseModel({ ...good, threshold: 0.3 }, FILE).threshold).toBe(0.3);
    const old: Record<string, unknown> = { ...good };
    delete old.threshold;
    expect(parseModel(old, FILE).threshold).toBe(0.5);
  });

  const many = Array.from({ length: 200_000 }, (_, i) => `feature_${i}`);
  it.each([
    ['threshold -1', { ...good, threshold: -1 }, '"threshold" must be a number in (0, 1), not -1'],
    ['threshold "x"', { ...good, threshold: 'x' }, '"threshold" must be a number in (0, 1), not "x"'],
    ['threshold 1', { ...good, threshold: 1 }, '"threshold" must be a number in (0, 1), not 1'],
    ['threshold null', { ...good, threshold: null }, '"threshold" must be a number in (0, 1), not null'],
    ['a feature twice', { ...good, features: ['a', 'a'] }, '"features" lists "a" twice'],
    ['the target as a feature', { ...good, features: ['a', 'exited'] }, '"features" includes the target "exited"'],
    ['an empty feature name', { ...good, features: ['a', ''] }, '"features" must be a non-empty array of column names'],
    ['200,000 features', { ...good, features: many, coefficients: many.map(() => 0), feature_means: many.map(() => 0) }, `"features" lists 200000 columns; mlops fits at most ${MAX_FEATURES}`],
    ['a long format value', { ...good, format: 'y'.repeat(100_000) }, `unknown model format "${'y'.repeat(79)}... (100002 chars) (this mlops reads "mlops-model/2" and "mlops-model/1")`],
    ['an array', [good], 'not a model object'],
  ])('refuses %s with a one-line message naming the file and field', (_, raw, message) => {
    let err: unknown;
    try {
      parseModel(raw, FILE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toBe(`${FILE}: ${message}`);
    expect((err as Error).message.length).toBeLessThan(300);
  });
});
