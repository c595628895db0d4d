// `quiver run --explain`: every task that runs says why, compared with the previous run in the
// same output folder — new input, input changed, param X changed from A to B, stage version
// changed, upstream changed, not in the cache (DESIGN.md §5: Snakemake's rerun triggers, readable).
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FsStore } from '../../src/cache/stores/fs.ts';
import type { Explanation } from '../../src/engine/explain.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { scratchDir } from '../helpers.ts';
import { burnedWorkflow, cacheStages, csvFile, localStages, quiverAsync, sha256, taskCounts, writeText } from '../cache/util.ts';

const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const root = scratchDir('quiver-explain-');

const workflowText = (extra = '') => burnedWorkflow({ name: 'explained', sums: 'sums.csv', extra });

const dir = join(root, 'project');
localStages(dir);
const file = writeText(join(dir, 'wf.yaml'), workflowText());
const out = join(dir, 'out');
for (const i of [1, 2, 3]) csvFile(join(dir, 'data', `f${i}.csv`), i * 100, 30);

async function explain(options: { set?: string[]; workflow?: string; noCache?: boolean } = {}): Promise<string[]> {
  const list: Explanation[] = [];
  const summary = await runWorkflow(options.workflow ?? file, {
    catalog: builtinCatalog, out, executor, set: options.set, noCache: options.noCache, onExplain: (l) => list.push(...l),
  });
  expect(summary.status, summary.error).toBe('ok');
  // Exactly the tasks explained are the ones computed: every non-sink stage computed as many.
  const explainedSegments = list.filter((e) => e.task.includes(' × ') && !e.task.startsWith('parts '));
  const computedTasks = summary.stages.filter((s) => !s.use.startsWith('sink.'))
    .reduce((n, s) => n + (s.tasks - s.cached) / (s.id === 'src' || s.id === 'burn' ? 2 : 1), 0); // src+burn: one task
  expect(explainedSegments.length).toBe(computedTasks);
  return list.map((e) => `${e.task}: ${e.reason}`);
}

/** The sinks' lines: `parts` writes a file per partition (each on its own), `sums` one file. */
const sinks = (files: number[], reason: string, sumsReason = reason) =>
  [...files.map((i) => `parts × data/f${i}.csv: ${reason}`), `sums (all partitions): ${sumsReason}`];

describe('--explain', () => {
  test('first run: there is no earlier run; an identical second run explains nothing', async () => {
    expect(await explain()).toEqual([
      ...[1, 2, 3].map((i) => `src+burn × data/f${i}.csv: no earlier run in this output folder`),
      ...[1, 2, 3].map((i) => `per × data/f${i}.csv: no earlier run in this output folder`),
      ...sinks([1, 2, 3], 'no earlier run in this output folder'),
    ]);
    expect(await explain()).toEqual([]);
  });

  test('new input', async () => {
    csvFile(join(dir, 'data', 'f4.csv'), 400, 30);
    expect(await explain()).toEqual([
      'src+burn × data/f4.csv: new input data/f4.csv',
      "per × data/f4.csv: upstream 'burn' changed",
      ...sinks([4], "upstream 'burn' changed", "upstream 'per' changed"),
    ]);
  });

  test('input changed', async () => {
    csvFile(join(dir, 'data', 'f2.csv'), 200, 30, 3);
    expect(await explain()).toEqual([
      'src+burn × data/f2.csv: input data/f2.csv changed',
      "per × data/f2.csv: upstream 'burn' changed",
      ...sinks([2], "upstream 'burn' changed", "upstream 'per' changed"),
    ]);
  });

  test('input changed with the same size and modification time (a copy that keeps times, as cp -p and rsync -a do)', async () => {
    const path = join(dir, 'data', 'f3.csv');
    const stamp = new Date('2026-01-02T03:04:05Z'); // whole seconds: set back exactly
    utimesSync(path, stamp, stamp);
    expect(await explain()).toEqual([]); // a new time alone is no change
    const before = statSync(path);
    const [header, ...rows] = readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, [header, ...rows.reverse()].join('\n') + '\n'); // the same bytes in another order
    expect(statSync(path).size).toBe(before.size);
    utimesSync(path, stamp, stamp);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    expect(await explain()).toEqual([
      'src+burn × data/f3.csv: input data/f3.csv changed',
      "per × data/f3.csv: upstream 'burn' changed",
      ...sinks([3], "upstream 'burn' changed", "upstream 'per' changed"),
    ]);
  });

  test('param changed from A to B, including one inside a nested param', async () => {
    expect(await explain({ set: ['rounds=4'] })).toEqual([
      ...[1, 2, 3, 4].map((i) => `src+burn × data/f${i}.csv: param 'rounds' of 'burn' changed from 5 to 4`),
      ...[1, 2, 3, 4].map((i) => `per × data/f${i}.csv: upstream 'burn' changed`),
      ...sinks([1, 2, 3, 4], "upstream 'burn' changed", "upstream 'per' changed"),
    ]);
    // Back to 3 and, at once, another column summed: burn and the sink of its output are cached
    // from before, per is not.
    expect(await explain({ set: ['col=x'] })).toEqual([
      ...[1, 2, 3, 4].map((i) => `per × data/f${i}.csv: param 'aggregates.s' of 'per' changed from "sum(burned)" to "sum(x)"`),
      "sums (all partitions): upstream 'per' changed",
    ]);
    expect(await explain()).toEqual([]); // the first params again: all cached
  });

  test('a new stage', async () => {
    const wider = writeText(join(dir, 'wider.yaml'), workflowText(`  - id: extra
    use: sink.parquet
    from: per
    with: { path: extra.parquet }
`));
    expect(await explain({ workflow: wider })).toEqual(["extra (all partitions): stage 'extra' is new"]);
  });

  test('not in the cache: entries removed (pruned, or an earlier run stopped before them)', async () => {
    // One partition's records gone, and the sinks' records: that partition's task runs again.
    const store = new FsStore(join(out, '.quiver', 'cache'));
    const removeAll = async (kinds: string[]) => {
      for await (const entry of store.list()) if (kinds.includes(entry.kind)) await store.remove(entry);
    };
    await removeAll(['sink']);
    const list = await explain({ workflow: file });
    expect(list).toEqual(sinks([1, 2, 3, 4], 'its file is not in the cache', 'its files are not in the cache'));
    await removeAll(['sink', 'task']);
    const again = await explain();
    expect(again).toEqual([
      ...[1, 2, 3, 4].map((i) => `src+burn × data/f${i}.csv: its output is not in the cache (an earlier run stopped before it, the cache was pruned, or --no-cache)`),
      ...[1, 2, 3, 4].map((i) => `per × data/f${i}.csv: its output is not in the cache (an earlier run stopped before it, the cache was pruned, or --no-cache)`),
      ...sinks([1, 2, 3, 4], 'its file is not in the cache', 'its files are not in the cache'),
    ]);
  });

  test('a stage file edited without a version change runs again, and says its file changed', async () => {
    localStages(dir, '// edited: a comment is enough to change what the file computes\n');
    const list = await explain();
    expect(list.slice(0, 4)).toHaveLength(4);
    for (const [i, line] of list.slice(0, 4).entries()) {
      // Not "not in the cache": the stage changed, in its file (which the record does not hold).
      expect(line).toMatch(new RegExp(`^src\\+burn × data/f${i + 1}\\.csv: stage 'burn' changed .*stage file`));
    }
    expect(list.slice(4)).toEqual([
      ...[1, 2, 3, 4].map((i) => `per × data/f${i}.csv: upstream 'burn' changed`),
      ...sinks([1, 2, 3, 4], "upstream 'burn' changed", "upstream 'per' changed"),
    ]);
  });

  test('CLI: stage version changed, in the --explain text on stderr; nothing to compute when all is cached; --no-cache', async () => {
    // The version is read from the stage's module: a fresh process for each run.
    const cli = join(root, 'cli');
    localStages(cli);
    const versioned = (version: string) => writeText(join(cli, 'versioned.ts'),
      `import { double } from ${JSON.stringify(cacheStages)};\nexport const dbl = { ...double, version: '${version}' };\n`);
    versioned('1');
    const wf = writeText(join(cli, 'wf.yaml'), `name: versioned
stages:
  - { id: gen, use: source.generate, with: { partitions: 2, rows: 50, columns: { id: int64, x: float64 } } }
  - { id: d, use: ./versioned.ts#dbl, from: gen }
  - { id: o, use: sink.csv, from: d, with: { path: o.csv } }
`);
    const cliOut = join(cli, 'out');
    const args = ['run', wf, '--out', cliOut, '--workers', '1', '--explain', '--json'];
    const first = await quiverAsync(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('runs  gen+d × generated-00000: no earlier run in this output folder\n');
    const same = await quiverAsync(args);
    expect(same.stderr).toContain('nothing to compute: every task is in the cache\n');
    expect(taskCounts(JSON.parse(same.stdout))).toEqual({ gen: [2, 2], d: [2, 2], o: [2, 2] });
    const firstBytes = sha256(join(cliOut, 'o.csv'));
    versioned('2');
    const bumped = await quiverAsync(args);
    expect(bumped.code, bumped.stderr).toBe(0);
    const lines = bumped.stderr.split('\n').filter((l) => l.startsWith('runs  '));
    expect(lines).toEqual([
      "runs  gen+d × generated-00000: stage 'd' version changed from 1 to 2",
      "runs  gen+d × generated-00001: stage 'd' version changed from 1 to 2",
      "runs  o (all partitions): upstream 'd' changed",
    ]);
    expect(taskCounts(JSON.parse(bumped.stdout))).toEqual({ gen: [2, 0], d: [2, 0], o: [2, 0] });
    expect(sha256(join(cliOut, 'o.csv'))).toBe(firstBytes); // a new version, the same code

    // --no-cache on the command line: everything computed, the same bytes.
    const uncached = await quiverAsync([...args, '--no-cache']);
    expect(uncached.code, uncached.stderr).toBe(0);
    expect(taskCounts(JSON.parse(uncached.stdout))).toEqual({ gen: [2, 0], d: [2, 0], o: [2, 0] });
    expect(sha256(join(cliOut, 'o.csv'))).toBe(firstBytes);
  });

  test('--no-cache: every task runs, and says so', async () => {
    const list = await explain({ noCache: true });
    expect(list).toHaveLength(4 + 4 + 4 + 1);
    for (const line of list.slice(0, 8)) expect(line).toMatch(/: its output is not in the cache \(.*--no-cache\)$/);
  });
});
