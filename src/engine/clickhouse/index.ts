/** The ClickHouse engine, flat: connect, load or describe the data, fit, summarise, test for drift, score. */
export { clickHouseCredentials, clickHouseError, connectClickHouse, type ClickHouse, type ClickHouseSettings } from './client.js';
export { describeSourceTable, ingestCsvToClickHouse, ROW_COLUMN, type CsvIngestOptions, type CsvIngestResult, type SourceColumn } from './ingest.js';
export { fitLinearOnEngine, fitLogisticOnEngine, type EngineFit, type EngineFitSpec } from './solver.js';
export {
  describeOnEngine,
  featureDriftFromCounts,
  featureDriftOnEngine,
  ksFromCounts,
  psiFromCounts,
  valueCountsOnEngine,
  wassersteinFromCounts,
  type EngineColumnStatistics,
  type EngineDriftOptions,
  type ValueCounts,
} from './stats.js';
export {
  linearDefs,
  predictionSql,
  probabilityDefs,
  probabilitySql,
  regressionScoreOnEngine,
  scoreOnEngine,
  type EngineRegressionScore,
  type EngineScore,
  type LinearForm,
  type LinearModel,
} from './score.js';
export { chFloat, chIdent, chString, chTable } from './sql.js';
