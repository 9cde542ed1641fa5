import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Vitest's default is one file at a time on a 2-core machine (cores - 1). Most test files
    // spend their time waiting for the mlops processes they start, so two at once keep both
    // cores busy: the suite took 4 min 41 s with two at load 4-10, 5 min 45 s with one when quiet.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
