/**
 * `mlops diagnose`'s look at the data on a ClickHouse engine: the summary statistics of every
 * numeric column (../stats.ts describeOnEngine: the DuckDB path's mean, sd and quartiles), the
 * missing values of every column and the roles, all from aggregates of the engine's table.
 */
import { ConfigError } from '../../../errors.js';
import { decideRoles, type ColumnRole } from '../../../model/roles.js';
import type { ColumnStatistics } from '../../../ops/diagnose.js';
import type { Config } from '../../../store/config.js';
import { describeOnEngine } from '../stats.js';
import { columnStatsOnEngine, dataLabel, dataTable, presentCounts, withClickHouse } from './project.js';

export interface EngineDataDiagnosis {
  data: string;
  summary: ColumnStatistics[];
  missing: { column: string; missing: number; percent: number }[];
  rows: number;
  imputed: null;
  roles: ColumnRole[];
}

export async function diagnoseDataOnClickHouse(cfg: Config, opts: { impute?: 'mean'; time?: boolean }): Promise<EngineDataDiagnosis> {
  if (opts.time) {
    throw new ConfigError('--time reruns ingest and train on a scratch copy of the project, which on the ClickHouse engine would share its tables', 'drop --time: the recorded timings of ingest and train are shown without it');
  }
  if (opts.impute) {
    throw new ConfigError('--impute writes a local copy of the data, which the ClickHouse engine does not make', 'train and score impute missing values with the training means already; drop --impute');
  }
  return withClickHouse(cfg, async (ch, engine) => {
    const step = 'diagnose';
    const { from, columns } = await dataTable(ch, engine, step);
    const roles = decideRoles(await columnStatsOnEngine(ch, from, columns, `${step}, column counts`), cfg);
    const numeric = columns.filter((c) => c.kind !== 'string');
    const stats = await describeOnEngine(ch, from, numeric.map((c) => c.name), `${step}, summary statistics`);
    const { rows, present } = await presentCounts(ch, from, columns, `${step}, missing values`);
    const summary: ColumnStatistics[] = stats.map((s) => ({ column: s.column, count: s.count, mean: s.mean, std: s.std, min: s.min, q25: s.q25, median: s.median, q75: s.q75, max: s.max }));
    const missing = columns.map((c, i) => {
      const m = rows - present[i]!;
      return { column: c.name, missing: m, percent: rows === 0 ? 0 : (100 * m) / rows };
    });
    return { data: dataLabel(engine), summary, missing, rows, imputed: null, roles };
  });
}
