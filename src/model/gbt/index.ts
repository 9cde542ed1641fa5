/** Histogram-based gradient-boosted trees (scikit-learn's HistGradientBoosting*), self-contained. */
export { fitGbt } from './fit.js';
export { predictGbt, predictProbaGbt, predictRowGbt } from './predict.js';
export { gbtToSqlCase } from './sql.js';
export type { GbtModel, GbtOptions, GbtSettings, GbtTask, GbtTree } from './types.js';
