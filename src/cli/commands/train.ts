import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../../store/config.js';
import { versionName } from '../../store/names.js';
import type { ModelFile } from '../../model/modelfile.js';
import type { Register } from '../command.js';
import { fmtNum, fmtSeconds, table } from '../output.js';

export const register: Register = (program, bind) => {
  program
    .command('train')
    .description('fit the configured model on finaldata.csv, write trainedmodel.json and register it as a model version')
    .option('--note <text>', 'free text kept with the registered version')
    .option('--tag <key=value>', 'a tag kept with the registered version (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(
      bind<{ note?: string; tag: string[] }>(async (o, { flags, c }) => {
        const config = await loadConfig(flags.config, { createOutputs: true });
        const { train } = await import('../../ops/train.js');
        const r = await train({ config, note: o.note ?? null, tags: parseTags(o.tag) });
        const m = r.model;
        const human = [
          ...modelTable(m),
          '',
          `${c.bold('trained')} ${m.type} on ${m.training_rows} rows` +
            (m.trees ? `, ${m.iterations} trees` : `${m.type === 'logistic_regression' ? ` in ${m.iterations} Newton iterations` : ''}`) +
            (m.gradient_max_norm !== null ? ` (max |gradient| ${m.gradient_max_norm.toExponential(2)})` : '') +
            `, ${fmtSeconds(r.seconds)} -> ${r.output}`,
          r.created
            ? `registered as ${c.bold(versionName(r.version))}`
            : `identical to the registered ${c.bold(versionName(r.version))} (no new version)`,
        ];
        if (r.unlabelledRows) human.push(`${r.unlabelledRows} rows without a label in "${m.target}" were left out`);
        return { json: r, human };
      }),
    );
};

/** Coefficients (linear models) or importances (trees), largest first for trees. */
function modelTable(m: ModelFile): string[] {
  if (m.linear) {
    const l = m.linear;
    return table(
      ['term', 'coefficient', 'fill'],
      [
        ...l.terms.map((t, k) => {
          const spec = m.inputs[t.input]!;
          return [t.name, l.coefficients[k]!.toExponential(6), t.code === null && spec.kind !== 'categorical' ? fmtNum(spec.fill) : ''];
        }),
        ['(intercept)', l.intercept.toExponential(6), ''],
      ],
    );
  }
  const order = m.features.map((f, j) => ({ f, v: m.importances[j] ?? 0, kind: m.inputs[j]!.kind })).sort((a, b) => b.v - a.v);
  return table(['feature', 'kind', 'importance'], order.map((x) => [x.f, x.kind, fmtNum(x.v)]));
}

function parseTags(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list) {
    const i = t.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`--tag ${JSON.stringify(t.slice(0, 40))}: expected key=value`);
    out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}
