import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../../store/config.js';
import { versionName } from '../../store/names.js';
import type { Register } from '../command.js';
import { fmtNum, table } from '../output.js';

/** A terminal page: the newest (or best) versions, like `git log -n`; --all for every one. */
const DEFAULT_LIMIT = 50;
const SORTS = ['version', 'created', 'metric', 'rows'] as const;
const sortKey = (v: string) => {
  if (!(SORTS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${SORTS.join(', ')}`);
  return v as (typeof SORTS)[number];
};
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const cell = (v: unknown) => (typeof v === 'number' ? fmtNum(v, 6) : v === null || v === undefined ? '' : String(v));

export const register: Register = (program, bind) => {
  const models = program
    .command('models')
    .description('the model registry: list versions; `models show V`, `models compare V1 V2 ...`')
    .option('--sort <key>', 'version (default), created, metric or rows', sortKey, 'version')
    .option('--asc', 'ascending order (default: descending, best metric first)')
    .option('--limit <n>', `show at most n versions (default ${DEFAULT_LIMIT})`, positiveInt)
    .option('--all', 'show every version')
    .action(
      bind<{ sort: (typeof SORTS)[number]; asc?: boolean; limit?: number; all?: boolean }>(async (o, { flags }) => {
        const config = await loadConfig(flags.config);
        const { listModels } = await import('../../ops/models.js');
        const limit = o.all ? undefined : (o.limit ?? DEFAULT_LIMIT);
        const r = await listModels({ config, sort: o.sort, descending: !o.asc, limit });
        const human = r.models.length
          ? [
              ...table(
                ['version', 'created', 'type', 'rows', `${r.metric} (test)`, 'aliases', 'tags'],
                r.models.map((m) => [m.name, m.created, m.model_type, m.training_rows, fmtNum(m.value), m.aliases.join(','), Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(',')]),
              ),
              ...(r.total > r.models.length ? [`(${r.models.length} of ${r.total} versions; --limit N or --all to see more)`] : []),
            ]
          : ['no model versions yet (run `mlops train`)'];
        return { json: r, human };
      }),
    );

  models
    .command('show <version>')
    .description('one version: what it was trained on, its evaluations and events')
    .action(
      bind(async (_o, { flags }, args) => {
        const config = await loadConfig(flags.config);
        const { showModel, resolveVersion } = await import('../../ops/models.js');
        const r = await showModel({ config, version: await resolveVersion(config, args[0]!) });
        const v = r.version;
        const human = [
          `${v.name}  ${r.aliases.length ? `[${r.aliases.join(', ')}]` : ''}`.trimEnd(),
          ...table(['field', 'value'], [
            ['created', v.created],
            ['type', v.model_type],
            ['target', v.target],
            ['features', v.features.join(', ')],
            ['settings', JSON.stringify(v.settings)],
            ['training data', `${v.training_data.rows} rows, sha256 ${v.training_data.sha256.slice(0, 12)}`],
            ['ingestion', v.ingestion ? `${v.ingestion.timestamp} from ${v.ingestion.input_folder}` : 'unknown'],
            ['replaces', v.replaces === null ? '' : versionName(v.replaces)],
            ['content sha256', v.content_sha256.slice(0, 12)],
            ['source', v.source],
            ['note', v.note ?? ''],
            ['tags', Object.entries(v.tags).map(([k, t]) => `${k}=${t}`).join(', ')],
          ]),
          '',
          ...(r.evaluations.length
            ? table(['evaluated', 'role', 'data', 'rows', 'f1', 'roc_auc', 'log_loss'], r.evaluations.map((e) => [e.timestamp, e.role, e.data_sha256.slice(0, 12), e.rows, fmtNum(e.metrics.f1), fmtNum(e.metrics.roc_auc), fmtNum(e.metrics.log_loss)]))
            : ['no evaluations']),
          '',
          ...(r.events.length ? table(['time', 'event', 'alias', 'reason'], r.events.map((e) => [e.time, e.kind, e.alias ?? '', e.reason])) : ['no events']),
        ];
        return { json: r, human };
      }),
    );

  models
    .command('compare <versions...>')
    .description('settings and every metric on the reference test set, side by side, with differences')
    .action(
      bind(async (_o, { flags }, args) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { compareModels, resolveVersion } = await import('../../ops/models.js');
        const versions: number[] = [];
        for (const a of args) versions.push(await resolveVersion(config, a));
        const r = await compareModels({ config, versions });
        const header = ['field', ...r.versions, ...r.versions.slice(1).map((v) => `${v} - ${r.versions[0]}`)];
        const human = table(
          header,
          r.rows.map((row) => [
            row.differs ? `${row.field} *` : row.field,
            ...row.values.map(cell),
            ...(row.differences ? row.differences.slice(1).map((d) => (d === null ? '' : (d > 0 ? '+' : '') + fmtNum(d, 6))) : r.versions.slice(1).map(() => '')),
          ]),
        );
        human.push('', `metrics on the reference test set (data ${r.test_data_sha256.slice(0, 12)}); * marks fields that differ`);
        return { json: r, human };
      }),
    );

  program
    .command('promote <version>')
    .description('move an alias to a version; to champion (the default) through the promotion gate, as an atomic release')
    .option('--alias <name>', 'champion (default), challenger, or a name of yours', 'champion')
    .option('--force', 'promote to champion even when the gate fails (recorded as forced)')
    .action(
      bind<{ alias: string; force?: boolean }>(async (o, { flags, c }, args) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { resolveVersion } = await import('../../ops/models.js');
        const { promote } = await import('../../ops/promote.js');
        const r = await promote({ config, version: await resolveVersion(config, args[0]!), alias: o.alias, force: o.force });
        const human = !r.changed
          ? [`${r.name} already is ${r.alias}; nothing to do`]
          : [
              `${c.bold('promoted')} ${r.name} to ${r.alias}` +
                (r.previous !== null ? ` (was ${versionName(r.previous)})` : '') +
                (r.release ? `: release ${r.release.name}` : '') +
                (r.forced ? ' (forced past the gate)' : ''),
              ...(r.gate ? [`gate: ${r.gate.summary}`] : []),
            ];
        return { json: r, human };
      }),
    );
};
