/** The names of the model drift tests (kept apart so the CLI can list them without loading the tests). */
export type ScoreTestName = 'raw' | 'parametric' | 'nonparametric' | 'welch';
export const SCORE_TESTS: readonly ScoreTestName[] = ['raw', 'parametric', 'nonparametric', 'welch'];
