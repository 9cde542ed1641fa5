/**
 * The columnar copies (issue 13): finaldata.columns beside finaldata.csv, and trainingdata.columns
 * beside a release's trainingdata.csv. Train, score, diagnose and drift read them instead of
 * parsing the CSV, with the same answers; a damaged, truncated or hand-edited copy, and a
 * damaged, truncated or hand-edited CSV, give the CSV's answer, byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertNoInternalError, BIN, cli, genData, project, read } from '../helpers.js';

/** The CLI with MLOPS_TIMING=1: the timing lines say which reader ran; the rest is the answer. */
function run(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '--json', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', MLOPS_TIMING: '1', npm_config_registry: 'http://127.0.0.1:9/' },
  });
  assertNoInternalError(args, r.stdout, r.stderr);
  const lines = r.stderr.split('\n');
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: lines.filter((l) => !l.startsWith('[timing]')).join('\n'),
    timing: lines.filter((l) => l.startsWith('[timing]')).join('\n'),
  };
}

/** JSON output without what differs from run to run (times, the registration of a known model). */
function answerOf(stdout: string): unknown {
  if (!stdout.trim()) return null;
  return JSON.parse(stdout, (k, v: unknown) => (['timestamp', 'trained_at', 'seconds', 'created', 'dependencies', 'timings'].includes(k) ? undefined : v));
}

/**
 * Every verb that reads the ingested data, in the order a user runs them: train, score on
 * finaldata.csv, diagnose, data drift (the deployed release's training data against
 * finaldata.csv). Returns each verb's exit code, answer and message, and the timing lines.
 */
function answers(dir: string) {
  const verbs: Record<string, string[]> = {
    train: ['train'],
    score: ['score', '--data', 'ingesteddata/finaldata.csv'],
    diagnose: ['diagnose'],
    drift: ['drift', '--only', 'data'],
  };
  const out: Record<string, { code: number | null; answer: unknown; stderr: string }> = {};
  let timing = '';
  for (const [verb, args] of Object.entries(verbs)) {
    const r = run(dir, ...args);
    out[verb] = { code: r.code, answer: answerOf(r.stdout), stderr: r.stderr };
    timing += `${verb}\n${r.timing}\n`;
  }
  return { out, timing };
}

/** How many times the verbs used a columnar copy (of which file), and fell back from one. */
const copiesUsed = (timing: string, name: string) => timing.split('\n').filter((l) => l.includes(`read: columnar copy of ${name}`)).length;
const fellBack = (timing: string) => timing.split('\n').filter((l) => l.includes('columnar copy unusable')).length;

describe('the columnar copies of finaldata.csv and the deployed training data', () => {
  it("give the CSV's answers in train, score, diagnose and drift, whatever happens to the copy or the CSV", () => {
    const dir = project({ classic: false });
    // over 1 MiB, so without a copy the CSV is read by DuckDB
    genData('--rows', '70000', '--files', '2', '--out', join(dir, 'practicedata'), '--seed', '3');
    genData('--rows', '500', '--files', '1', '--out', join(dir, 'testdata'), '--seed', '4');
    for (const verb of ['ingest', 'train', 'score', 'deploy']) expect(cli(dir, verb).code).toBe(0);
    const release = join(dir, 'production_deployment', 'current');
    // the release links the training data and its copy (same inode: no copying)
    expect(statSync(join(release, 'trainingdata.columns')).ino).toBe(statSync(join(dir, 'ingesteddata/finaldata.columns')).ino);
    expect(statSync(join(release, 'trainingdata.csv')).ino).toBe(statSync(join(dir, 'ingesteddata/finaldata.csv')).ino);
    // new, shifted data: drift compares the release's training data with it
    for (const f of readdirSync(join(dir, 'practicedata'))) rmSync(join(dir, 'practicedata', f));
    genData('--rows', '60000', '--files', '2', '--out', join(dir, 'practicedata'), '--seed', '5', '--shift', '0.4');
    expect(cli(dir, 'ingest').code).toBe(0);

    const final = join(dir, 'ingesteddata/finaldata.csv');
    const finalCopy = join(dir, 'ingesteddata/finaldata.columns');
    const training = join(release, 'trainingdata.csv');
    const trainingCopy = join(release, 'trainingdata.columns');
    const saved = new Map([final, finalCopy, training, trainingCopy].map((p) => [p, readFileSync(p)]));
    const restore = () => {
      for (const [p, bytes] of saved) writeFileSync(p, bytes);
    };
    /** The answers without either copy: what the CSV files say. */
    const csvAnswers = () => {
      const keep = [finalCopy, trainingCopy].map((p) => (existsSync(p) ? readFileSync(p) : null));
      rmSync(finalCopy, { force: true });
      rmSync(trainingCopy, { force: true });
      const a = answers(dir);
      expect(copiesUsed(a.timing, 'finaldata.csv') + copiesUsed(a.timing, 'trainingdata.csv')).toBe(0);
      [finalCopy, trainingCopy].forEach((p, i) => keep[i] && writeFileSync(p, keep[i]));
      return a.out;
    };

    // with both copies: every verb reads finaldata.columns, drift trainingdata.columns too
    const viaCopy = answers(dir);
    expect(Object.values(viaCopy.out).map((v) => v.code)).toEqual([0, 0, 0, 4]);
    expect(copiesUsed(viaCopy.timing, 'finaldata.csv')).toBe(4);
    expect(copiesUsed(viaCopy.timing, 'trainingdata.csv')).toBe(1);
    expect((viaCopy.out.drift!.answer as { data: { drifted: number } }).data.drifted).toBeGreaterThan(0);
    const fromCsv = csvAnswers();
    expect(viaCopy.out).toEqual(fromCsv);
    // the bytes of diagnostics.json too, but its time stamp
    const diagnostics = () =>
      read(join(dir, 'practicemodels/diagnostics.json'))
        .replace(/"timestamp": "[^"]*"/, '')
        .replace(/"(ingest|train)_seconds": [^,\n]*/g, '');
    answers(dir);
    const withCopy = diagnostics();
    csvAnswers();
    expect(diagnostics()).toBe(withCopy);

    /** Flip a bit in the block of a feature's values (every verb reads it). */
    const flip = (p: string) => {
      const b = Buffer.from(saved.get(p)!);
      const header = JSON.parse(b.toString('utf8', 16, 16 + b.readUInt32LE(8))) as { columns: { name: string; blocks: { offset: number }[] }[] };
      b[header.columns.find((c) => c.name === 'lastyear_activity')!.blocks[0]!.offset + 1000]! ^= 0x01;
      writeFileSync(p, b);
    };
    /** Damage, then every verb gives `want`; the copy is restored after. */
    const check = (what: string, damage: () => void, want: unknown, uses: { final: boolean; training: boolean }) => {
      damage();
      const got = answers(dir);
      expect(got.out, what).toEqual(want);
      expect(copiesUsed(got.timing, 'finaldata.csv') > 0, `${what}: finaldata.columns used`).toBe(uses.final);
      expect(copiesUsed(got.timing, 'trainingdata.csv') > 0, `${what}: trainingdata.columns used`).toBe(uses.training);
      restore();
    };
    const size = (p: string) => saved.get(p)!.length;
    for (const [name, copy] of [['finaldata', finalCopy], ['trainingdata', trainingCopy]] as const) {
      const uses = { final: name !== 'finaldata', training: name !== 'trainingdata' };
      // a flipped bit in a column block: its CRC fails when read (the header still opens: the
      // verb starts on the copy, then reads the CSV)
      check(`${name}.columns damaged`, () => flip(copy), fromCsv, { final: true, training: true });
      check(`${name}.columns truncated`, () => truncateSync(copy, Math.floor(size(copy) / 2)), fromCsv, uses);
      // a summary in the header edited by hand (same length): the header's CRC fails
      check(
        `${name}.columns header edited`,
        () => {
          const b = Buffer.from(saved.get(copy)!);
          const at = b.indexOf('"mean":') + 7;
          b[at] = b[at] === 0x39 ? 0x38 : 0x39;
          writeFileSync(copy, b);
        },
        fromCsv,
        uses,
      );
    }
    expect(fellBack(answers(dir).timing)).toBe(0);

    // The CSV files changed under their copies: the CSV's answer, as without any copy.
    const edits: [string, string, () => void][] = [
      ['finaldata.csv hand-edited', final, () => writeFileSync(final, editCell(read(final), 2, 1, (v) => String(Number(v) + 12345)))],
      ['finaldata.csv truncated at a line', final, () => writeFileSync(final, read(final).split('\n').slice(0, 40001).join('\n') + '\n')],
      ['finaldata.csv truncated mid-line', final, () => truncateSync(final, Math.floor(size(final) / 2))],
      ['finaldata.csv damaged', final, () => writeFileSync(final, editCell(read(final), 30000, 2, () => '4x2'))],
      ['trainingdata.csv hand-edited', training, () => writeFileSync(training, editCell(read(training), 5, 3, (v) => String(Number(v) * 7)))],
      ['trainingdata.csv truncated at a line', training, () => writeFileSync(training, read(training).split('\n').slice(0, 30001).join('\n') + '\n')],
    ];
    for (const [what, csv, edit] of edits) {
      // the release's training data is a link to the old finaldata.csv: edits of one are
      // edits of the other only while ingest has not replaced finaldata.csv (it has here)
      edit();
      const got = answers(dir);
      const want = csvAnswers();
      expect(got.out, what).toEqual(want);
      expect(got.out, what).not.toEqual(fromCsv);
      expect(copiesUsed(got.timing, csv === final ? 'finaldata.csv' : 'trainingdata.csv'), what).toBe(0);
      restore();
    }
    // a CSV restored from elsewhere (another inode, same bytes): hashed, and its copy used
    copyFileSync(final, `${final}.bak`);
    rmSync(final);
    copyFileSync(`${final}.bak`, final);
    rmSync(`${final}.bak`);
    const restored = answers(dir);
    expect(restored.out).toEqual(fromCsv);
    expect(copiesUsed(restored.timing, 'finaldata.csv')).toBe(4);
  }, 300_000);

  it('answers as the CSV reader when the configured kinds change after ingest', () => {
    const dir = project({ classic: false });
    genData('--rows', '70000', '--files', '1', '--out', join(dir, 'practicedata'), '--seed', '7');
    genData('--rows', '500', '--files', '1', '--out', join(dir, 'testdata'), '--seed', '8');
    const cfgPath = join(dir, 'config.json');
    const cfg = JSON.parse(read(cfgPath)) as Record<string, unknown>;
    // ingest reads number_of_employees as text (categorical), train then as numbers
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, categorical: ['number_of_employees'] }));
    expect(cli(dir, 'ingest').code).toBe(0);
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const viaCopy = run(dir, 'train');
    expect(viaCopy.code).toBe(0);
    expect(viaCopy.timing).not.toContain('read: columnar copy of finaldata.csv');
    rmSync(join(dir, 'ingesteddata/finaldata.columns'));
    expect(answerOf(run(dir, 'train').stdout)).toEqual(answerOf(viaCopy.stdout));
  });
});

/** A CSV text with one cell (data line `line`, 1-based; column `col`) replaced. */
function editCell(text: string, line: number, col: number, f: (v: string) => string): string {
  const lines = text.split('\n');
  const cells = lines[line]!.split(',');
  cells[col] = f(cells[col]!);
  lines[line] = cells.join(',');
  return lines.join('\n');
}
