/** readEvaluations' filters (the lines they skip unparsed) against filtering every evaluation; hasVersions. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/store/config.js';
import { readEvaluations } from '../../src/store/evaluations.js';
import { hasVersions } from '../../src/store/registry.js';

function project() {
  const dir = mkdtempSync(join(tmpdir(), 'evaluations-'));
  const models = join(dir, 'models');
  mkdirSync(join(models, 'registry', 'versions'), { recursive: true });
  return { dir, cfg: { output_model_path: models, output_folder_path: join(dir, 'data') } as Config, models };
}

const rec = (o: Record<string, unknown>) => ({ timestamp: '2026-12-01T00:00:00Z', model: 'trained', model_sha256: 'm', data_files: [{ name: 'testdata.csv', sha256: 'f', rows: 10 }], rows: 10, metrics: { f1: 0.5 }, seconds: 0.1, ...o });

describe('readEvaluations with a filter', () => {
  it('returns what filtering every evaluation returns: version 1 is not 10, hand-spaced keys, records from before the registry', async () => {
    const { cfg, models } = project();
    // the registry knows model "m10" as version 10 (a record without a version gets it by hash)
    writeFileSync(join(models, 'registry', 'index.jsonl'), JSON.stringify({ version: 10, name: 'v0010', content_sha256: 'c', model_sha256: 'm10', created: '2026-12-01T00:00:00Z', model_type: 'logistic_regression', training_rows: 5, tags: {}, note: null }) + '\n');
    const lines = [
      JSON.stringify(rec({ model: 'v0001', version: 1, role: 'test', data_sha256: 'aaa' })),
      JSON.stringify(rec({ model: 'v0010', version: 10, role: 'test', data_sha256: 'aaa' })),
      JSON.stringify(rec({ model: 'v0010', version: 10, role: 'new-data', data_sha256: 'bbb' })),
      JSON.stringify(rec({ model: 'v0002', version: 2, role: 'adhoc', data_sha256: 'aaa', metrics: { f1: 0.7 } })),
      '{"timestamp": "2026-12-02T00:00:00Z", "model": "v0001", "model_sha256": "m1", "version" : 1, "role": "test", "data_sha256": "bbb", "data_files": [], "rows": 3, "metrics": {"f1": 0.6}, "seconds": 0}',
      JSON.stringify(rec({ model_sha256: 'm10' })), // before the registry: version 10 by its hash, role test
      JSON.stringify(rec({ model: 'x.json', model_sha256: 'unknown', version: null, role: 'adhoc', data_sha256: 'aaa' })),
    ];
    writeFileSync(join(models, 'score_history.jsonl'), lines.join('\n') + '\n');
    const all = await readEvaluations(cfg);
    expect(all.map((e) => e.version)).toEqual([1, 10, 10, 2, 1, 10, null]);
    for (const versions of [[1], [10], [2, 10], [3], []]) {
      expect(await readEvaluations(cfg, { versions })).toEqual(all.filter((e) => e.version !== null && versions.includes(e.version)));
    }
    const onData = all[5]!.data_sha256;
    expect(await readEvaluations(cfg, { onData })).toEqual(all.filter((e) => e.data_sha256 === onData));
    expect(await readEvaluations(cfg, { onData: 'aaa', versions: new Set([1, 10]) })).toEqual(all.filter((e) => e.data_sha256 === 'aaa' && (e.version === 1 || e.version === 10)));
  });
});

describe('hasVersions', () => {
  it('is true only when a folder named as a version exists', async () => {
    const { cfg, models } = project();
    expect(await hasVersions(cfg)).toBe(false);
    mkdirSync(join(models, 'registry', 'versions', '.staging-1-ab'));
    mkdirSync(join(models, 'registry', 'versions', 'notes'));
    expect(await hasVersions(cfg)).toBe(false);
    mkdirSync(join(models, 'registry', 'versions', 'v0003'));
    expect(await hasVersions(cfg)).toBe(true);
    expect(await hasVersions({ output_model_path: join(models, 'missing') } as Config)).toBe(false);
  });
});
