// The task cache end to end (DESIGN.md §1): a second identical run computes nothing and writes the
// same bytes; a changed param recomputes its task (segment × partition) and what depends on it;
// an added input file computes its own tasks and what reads every partition; --no-cache computes
// everything, to the same bytes; keys and outputs do not depend on workers or finishing order.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Explanation } from '../../src/engine/explain.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import type { RunSummary } from '../../src/observe/summary.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { scratchDir } from '../helpers.ts';
import { cacheRecords, csvFile, localStages, outputHashes, readManifestFile, sha256, taskCounts, writeText } from './util.ts';

const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const root = scratchDir('quiver-cache-');
localStages(root);

/**
 * Two segments and two reduces: gen+jitter+burn (fused) → agg (per partition) → dbl (a segment
 * rooted at agg); burn → tally (over all partitions). Three sinks: one file, one per partition, one row.
 */
const pipeline = writeText(join(root, 'pipeline.yaml'), `name: pipeline
params: { rounds: 20, column: s, aggcol: burned }
stages:
  - id: gen
    use: source.generate
    with: { partitions: 8, rows: 3000, batchRows: 700, columns: { id: int64, x: float64 } }
  - id: jitter
    use: ./stages.ts#jitter
    from: gen
  - id: burn
    use: ./stages.ts#burn
    from: jitter
    with: { rounds: "\${params.rounds}" }
  - id: agg
    use: table.aggregate
    from: burn
    with: { by: [], aggregates: { n: "count(*)", s: "sum(\${params.aggcol})", m: "mean(burned)" }, scope: partition }
  - id: dbl
    use: ./stages.ts#double
    from: agg
    with: { column: "\${params.column}" }
  - id: tally
    use: table.aggregate
    from: burn
    with: { by: [], aggregates: { rows: "count(*)", total: "sum(burned)" } }
  - id: burned
    use: sink.parquet
    from: burn
    with: { path: burned.parquet }
  - id: parts
    use: sink.csv
    from: dbl
    with: { path: parts/ }
  - id: total
    use: sink.csv
    from: tally
    with: { path: total.csv }
`);

const run = (file: string, out: string, options: { set?: string[]; noCache?: boolean; explain?: Explanation[]; exec?: LocalExecutor } = {}) =>
  runWorkflow(file, {
    catalog: builtinCatalog, out, executor: options.exec ?? executor, set: options.set, noCache: options.noCache,
    onExplain: options.explain ? (list) => options.explain!.push(...list) : undefined,
  }).then((summary) => {
    expect(summary.status, summary.error).toBe('ok');
    return summary;
  });

/** Per stage: 'cached' when every task came from the cache, 'computed' when none did. */
function pattern(summary: RunSummary): Record<string, string> {
  return Object.fromEntries(summary.stages.map((s) => {
    expect(s.tasks, s.id).toBeGreaterThan(0);
    return [s.id, s.cached === s.tasks ? 'cached' : s.cached === 0 ? 'computed' : `${s.cached} of ${s.tasks} cached`];
  }));
}

const counts = (s: RunSummary) => s.stages.map(({ id, tasks, rowsIn, rowsOut, quarantined }) => ({ id, tasks, rowsIn, rowsOut, quarantined }));

describe('task cache', () => {
  const out = join(root, 'out');
  let first: RunSummary;
  let firstHashes: Record<string, string>;

  test('a second identical run computes nothing and writes byte-identical outputs', async () => {
    first = await run(pipeline, out);
    firstHashes = outputHashes(out);
    expect(Object.keys(firstHashes)).toEqual(['burned.parquet', ...Array.from({ length: 8 }, (_, i) => `parts/generated-0000${i}.csv`), 'total.csv']);
    expect(Object.values(pattern(first)).every((p) => p === 'computed')).toBe(true);
    // The outputs the record lists are the files there, with their sha256.
    const manifest = readManifestFile(first.manifest);
    expect(Object.fromEntries(manifest.outputs.map((o) => [o.path, o.sha256]))).toEqual(firstHashes);
    expect(manifest.tasks.every((t) => t.status === 'computed')).toBe(true);

    const explain: Explanation[] = [];
    const second = await run(pipeline, out, { explain });
    expect(explain).toEqual([]);
    for (const s of second.stages) expect([s.id, s.tasks], s.id).toEqual([s.id, s.cached]);
    // Counts are those recorded when the tasks were computed.
    expect(counts(second)).toEqual(counts(first));
    expect(outputHashes(out)).toEqual(firstHashes);
    const again = readManifestFile(second.manifest);
    expect(again.tasks.filter((t) => t.status === 'computed')).toEqual([]);
    // Same tasks, same keys.
    expect(again.tasks.map((t) => [t.stage, t.partition, t.key])).toEqual(manifest.tasks.map((t) => [t.stage, t.partition, t.key]));
    expect(again.outputs).toEqual(manifest.outputs);
  });

  test('a deleted output is put back from the cache, byte for byte, without computing', async () => {
    rmSync(join(out, 'burned.parquet'));
    rmSync(join(out, 'parts'), { recursive: true });
    const summary = await run(pipeline, out);
    for (const s of summary.stages) expect([s.id, s.tasks], s.id).toEqual([s.id, s.cached]);
    expect(outputHashes(out)).toEqual(firstHashes);
  });

  test('an output edited in place after the run (it is a hard link into the cache) is not served back edited', async () => {
    // What a user's script does when it rewrites a result file: open, truncate, write.
    writeFileSync(join(out, 'total.csv'), 'rows,total\n0,0\n');
    const summary = await run(pipeline, out);
    expect(outputHashes(out)).toEqual(firstHashes);
    // Whatever the run did, what it records is what is there.
    const manifest = readManifestFile(summary.manifest);
    for (const o of manifest.outputs) expect(sha256(join(out, o.path)), o.path).toBe(o.sha256);
    // Only the sink whose file was edited had to be written again.
    expect(pattern(summary)).toEqual({
      gen: 'cached', jitter: 'cached', burn: 'cached', agg: 'cached', dbl: 'cached', tally: 'cached',
      burned: 'cached', parts: 'cached', total: 'computed',
    });
  });

  test('a changed param recomputes its stage\'s tasks and what depends on them, nothing upstream', async () => {
    // dbl is alone in its segment: only it and the sink it feeds run.
    const dbl = await run(pipeline, out, { set: ['column=m'] });
    expect(pattern(dbl)).toEqual({
      gen: 'cached', jitter: 'cached', burn: 'cached', agg: 'cached', dbl: 'computed', tally: 'cached',
      burned: 'cached', parts: 'computed', total: 'cached',
    });
    const dblHashes = outputHashes(out);
    expect(dblHashes['burned.parquet']).toBe(firstHashes['burned.parquet']);
    expect(dblHashes['total.csv']).toBe(firstHashes['total.csv']);
    expect(dblHashes['parts/generated-00003.csv']).not.toBe(firstHashes['parts/generated-00003.csv']);
    const manifest = readManifestFile(dbl.manifest);
    expect([...new Set(manifest.tasks.filter((t) => t.status === 'computed').map((t) => t.stage))].sort()).toEqual(['dbl', 'parts']);

    // agg is a reduce on its own: it and what follows run; the segment before it does not.
    const agg = await run(pipeline, out, { set: ['aggcol=x'] });
    expect(pattern(agg)).toEqual({
      gen: 'cached', jitter: 'cached', burn: 'cached', agg: 'computed', dbl: 'computed', tally: 'cached',
      burned: 'cached', parts: 'computed', total: 'cached',
    });

    // burn is fused with gen and jitter: the whole segment runs again for every partition, and all below it.
    const burn = await run(pipeline, out, { set: ['rounds=21'] });
    expect(pattern(burn)).toEqual({
      gen: 'computed', jitter: 'computed', burn: 'computed', agg: 'computed', dbl: 'computed', tally: 'computed',
      burned: 'computed', parts: 'computed', total: 'computed',
    });

    // Back to the first params: everything is in the cache, and the bytes are the first run's.
    const back = await run(pipeline, out);
    for (const s of back.stages) expect([s.id, s.tasks], s.id).toEqual([s.id, s.cached]);
    expect(outputHashes(out)).toEqual(firstHashes);
  });

  test('--no-cache computes everything, neither reads nor fills the cache, and writes the same bytes', async () => {
    const records = cacheRecords(out);
    const summary = await run(pipeline, out, { noCache: true });
    for (const s of summary.stages) expect([s.id, s.cached], s.id).toEqual([s.id, 0]);
    expect(counts(summary)).toEqual(counts(first));
    expect(outputHashes(out)).toEqual(firstHashes);
    const manifest = readManifestFile(summary.manifest);
    expect(manifest.cache).toBe(false);
    expect(manifest.tasks.every((t) => t.status === 'computed')).toBe(true);
    expect(cacheRecords(out)).toEqual(records);
    // In a fresh folder too.
    const fresh = join(root, 'no-cache');
    await run(pipeline, fresh, { noCache: true });
    expect(outputHashes(fresh)).toEqual(firstHashes);
    expect(existsSync(join(fresh, '.quiver', 'cache', 'packs'))).toBe(false);
    // And a cached run after the uncached one still takes everything from the cache.
    const cached = await run(pipeline, out);
    for (const s of cached.stages) expect([s.id, s.tasks], s.id).toEqual([s.id, s.cached]);
    expect(outputHashes(out)).toEqual(firstHashes);
  });

  test('keys and outputs do not depend on the number of workers or the order partitions finish in', async () => {
    const results: { keys: string[][]; hashes: Record<string, string> }[] = [];
    for (const [workers, salt] of [[1, 1], [3, 2]]) {
      process.env.QUIVER_TEST_JITTER = String(salt); // worker threads copy the environment when they start
      const exec = new LocalExecutor({ workers });
      try {
        const dir = join(root, `workers-${workers}`);
        const summary = await run(pipeline, dir, { exec });
        expect(summary.stages.every((s) => s.cached === 0)).toBe(true);
        results.push({ keys: readManifestFile(summary.manifest).tasks.map((t) => [t.stage, t.partition, t.key]), hashes: outputHashes(dir) });
      } finally {
        await exec.close();
        delete process.env.QUIVER_TEST_JITTER;
      }
    }
    expect(results[1].keys).toEqual(results[0].keys);
    expect(results[0].hashes).toEqual(firstHashes);
    expect(results[1].hashes).toEqual(firstHashes);
    // And the first run's keys too: they were made in this process, with two workers.
    expect(results[0].keys).toEqual(readManifestFile(first.manifest).tasks.map((t) => [t.stage, t.partition, t.key]));
  });
});

describe('outputs with the same bytes', () => {
  test('two sinks, or two partitions of one, that write identical files are both restored from the cache', async () => {
    const dir = join(root, 'same-bytes');
    const file = writeText(join(dir, 'wf.yaml'), `name: same-bytes
stages:
  - { id: gen, use: source.generate, with: { partitions: 4, rows: 100, columns: { id: int64, x: float64 } } }
  - { id: count, use: table.aggregate, from: gen, with: { by: [], aggregates: { n: "count(*)" }, scope: partition } }
  - { id: each, use: sink.csv, from: count, with: { path: each/ } }
  - { id: a, use: sink.csv, from: count, with: { path: a.csv } }
  - { id: b, use: sink.csv, from: count, with: { path: b.csv } }
`);
    const out = join(dir, 'out');
    await run(file, out);
    const hashes = outputHashes(out);
    expect(new Set(Object.values(hashes)).size).toBe(2); // every per-partition file alike, a.csv = b.csv
    for (let i = 0; i < 2; i++) {
      const again = await run(file, out);
      for (const s of again.stages) expect([s.id, s.tasks], s.id).toEqual([s.id, s.cached]);
      expect(outputHashes(out)).toEqual(hashes);
    }
  });
});

/** A glob source over files in a folder → a map → per-partition and overall aggregates → sinks. */
const globWorkflow = (format: 'csv' | 'parquet') => `name: glob-${format}
stages:
  - id: src
    use: source.${format}
    with: { path: "data/*.${format}" }
  - id: dbl
    use: ./stages.ts#double
    from: src
  - id: per
    use: table.aggregate
    from: dbl
    with: { by: [], aggregates: { n: "count(*)", s: "sum(doubled)" }, scope: partition }
  - id: all
    use: table.aggregate
    from: dbl
    with: { by: [], aggregates: { n: "count(*)", s: "sum(doubled)" } }
  - id: parts
    use: sink.csv
    from: dbl
    with: { path: parts/ }
  - id: one
    use: sink.parquet
    from: dbl
    with: { path: one.parquet }
  - id: sums
    use: sink.csv
    from: per
    with: { path: sums.csv }
  - id: total
    use: sink.csv
    from: all
    with: { path: total.csv }
`;

describe('adding one input file', () => {
  /** Makes the project folder with the first three input files; returns the function adding the fourth. */
  /** `old`: the files there at first; `added`: the one added, first in path order (csv) or last (parquet). */
  async function project(format: 'csv' | 'parquet'): Promise<{ dir: string; file: string; addFourth: () => string; old: string[]; added: string }> {
    const dir = join(root, `add-${format}`);
    const file = writeText(join(dir, 'wf.yaml'), globWorkflow(format));
    localStages(dir);
    if (format === 'csv') {
      const old = ['f1', 'f2', 'f3'];
      for (const [i, n] of old.entries()) csvFile(join(dir, 'data', `${n}.csv`), (i + 1) * 1000, 500 + i);
      // Before the others in path order: every old partition's index moves up by one.
      return { dir, file, old, added: 'f0', addFourth: () => csvFile(join(dir, 'data', 'f0.csv'), 0, 77) };
    }
    // Parquet inputs, written by quiver itself.
    const made = join(root, 'parquet-inputs');
    const maker = writeText(join(made, 'make.yaml'), `name: make
stages:
  - { id: g, use: source.generate, with: { partitions: 4, rows: 900, columns: { id: int64, x: float64 } } }
  - { id: w, use: sink.parquet, from: g, with: { path: files/ } }
`);
    await run(maker, join(made, 'out'));
    const names = [0, 1, 2, 3].map((i) => `generated-0000${i}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    const [old, added] = [names.slice(0, 3), names[3]];
    for (const n of old) cpSync(join(made, 'out', 'files', `${n}.parquet`), join(dir, 'data', `${n}.parquet`));
    return {
      dir, file, old, added,
      addFourth: () => {
        cpSync(join(made, 'out', 'files', `${added}.parquet`), join(dir, 'data', `${added}.parquet`));
        return join(dir, 'data', `${added}.parquet`);
      },
    };
  }

  for (const format of ['csv', 'parquet'] as const) {
    test(`${format}: only the new file's tasks run, and what reads every partition (${format === 'csv' ? 'added first' : 'added last'})`, async () => {
      const { dir, file, addFourth, old, added } = await project(format);
      const out = join(dir, 'out');
      const before = await run(file, out);
      const beforeHashes = outputHashes(out);
      addFourth();
      const explain: Explanation[] = [];
      const after = await run(file, out, { explain });

      expect(taskCounts(after)).toEqual({
        src: [4, 3], dbl: [4, 3], // the map segment: only the new file
        per: [4, 3], // per-partition reduce: only the new file
        all: [1, 0], // over every partition: must run
        parts: [4, 3], // a file per partition: only the new one is written
        one: [4, 0], sums: [4, 0], total: [1, 0], // single files holding every partition: written again
      });
      const newInput = `data/${added}.${format}`;
      const manifest = readManifestFile(after.manifest);
      const computed = manifest.tasks.filter((t) => t.status === 'computed').map((t) => `${t.stage} ${t.partition}`).sort();
      expect(computed).toEqual(['all all', `dbl ${newInput}`, 'one *', `parts ${newInput}`, `per ${newInput}`, `src ${newInput}`, 'sums *', 'total *'].sort());
      expect(explain.filter((e) => e.task.startsWith('src+dbl'))).toEqual([{ task: `src+dbl × ${newInput}`, reason: `new input ${newInput}` }]);
      expect(explain.find((e) => e.task.startsWith('per'))).toEqual({ task: `per × ${newInput}`, reason: "upstream 'dbl' changed" });

      // The three old partitions give the same bytes as before; the new one is there too.
      const afterHashes = outputHashes(out);
      for (const n of old) expect(afterHashes[`parts/${n}.csv`]).toBe(beforeHashes[`parts/${n}.csv`]);
      expect(afterHashes[`parts/${added}.csv`]).toBeDefined();
      expect(afterHashes['one.parquet']).not.toBe(beforeHashes['one.parquet']);
      const rows = (s: RunSummary, id: string) => s.stages.find((x) => x.id === id)!.rowsOut;
      expect(rows(after, 'dbl')).toBeGreaterThan(rows(before, 'dbl'));
      expect(rows(after, 'per')).toBe(4);

      // And the result equals a run from scratch over the four files.
      const scratch = join(dir, 'scratch-out');
      await run(file, scratch, { noCache: true });
      expect(outputHashes(scratch)).toEqual(afterHashes);
    });
  }

  test('csv: a file added first that changes the inferred types is not mixed with entries read with the old types', async () => {
    // CSV types are inferred from the first file: a new first file with 4.5 in v makes v float64 for all.
    const dir = join(root, 'add-inferred');
    const file = writeText(join(dir, 'wf.yaml'), `name: inferred
stages:
  - { id: src, use: source.csv, with: { path: "data/*.csv" } }
  - { id: one, use: sink.parquet, from: src, with: { path: one.parquet } }
`);
    for (const i of [1, 2, 3]) writeText(join(dir, 'data', `f${i}.csv`), `id,v\n${i},${i * 10}\n`);
    const out = join(dir, 'out');
    // A pool per run: worker threads keep a segment set up by its plan key, which does not cover
    // the source's schema (see the test after this one).
    const fresh = async (o: string, noCache = false) => {
      const exec = new LocalExecutor({ workers: 2 });
      try {
        return await run(file, o, { exec, noCache });
      } finally {
        await exec.close();
      }
    };
    await fresh(out);
    writeText(join(dir, 'data', 'f0.csv'), 'id,v\n0,4.5\n');
    const after = await fresh(out);
    const scratch = join(dir, 'scratch-out');
    await fresh(scratch, true);
    expect(outputHashes(out)).toEqual(outputHashes(scratch));
    expect(taskCounts(after).src).toEqual([4, 0]); // every file is read anew, with the new types
  });

  // Worker threads keep each segment's set-up (its stages, the schemas between them) by the plan's
  // segment key; with one pool over several runs (runWorkflow with an `executor`, `quiver run DIR`,
  // `quiver schedule`) a run whose CSV types are inferred differently must not find the earlier set-up.
  test('csv: with one worker pool for both runs, a file that changes the inferred types is read with the new types', async () => {
    const dir = join(root, 'pool-inferred');
    const file = writeText(join(dir, 'wf.yaml'), `name: pool-inferred
stages:
  - { id: src, use: source.csv, with: { path: "data/*.csv" } }
  - { id: one, use: sink.csv, from: src, with: { path: one.csv } }
`);
    for (const i of [1, 2]) writeText(join(dir, 'data', `f${i}.csv`), `id,v\n${i},${i * 10}\n`);
    await run(file, join(dir, 'out'), { noCache: true });
    writeText(join(dir, 'data', 'f0.csv'), 'id,v\n0,4.5\n');
    await run(file, join(dir, 'out'), { noCache: true });
    expect(readFileSync(join(dir, 'out', 'one.csv'), 'utf8')).toBe('id,v\n0,4.5\n1,10\n2,20\n');
  });

  // A sink writing a file per partition keeps each file on its own: the old ones are not written again.
  test('csv: a per-partition sink writes only the new partition\'s file', async () => {
    const dir = join(root, 'add-per-partition');
    const file = writeText(join(dir, 'wf.yaml'), globWorkflow('csv'));
    localStages(dir);
    for (const [i, n] of ['f1', 'f2', 'f3'].entries()) csvFile(join(dir, 'data', `${n}.csv`), i * 1000, 300);
    const out = join(dir, 'out');
    await run(file, out);
    const inode = statSync(join(out, 'parts', 'f1.csv')).ino;
    csvFile(join(dir, 'data', 'f4.csv'), 3000, 300);
    const after = await run(file, out);
    expect(statSync(join(out, 'parts', 'f1.csv')).ino).toBe(inode); // not written again
    expect(taskCounts(after).parts).toEqual([4, 3]);
  });
});
