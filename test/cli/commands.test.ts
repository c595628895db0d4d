// The commands around the cache: `quiver cache prune`, `quiver rerun RUN --verify`, and the lock
// that keeps one run at a time in an output folder (src/engine/out-folder.ts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { rejectedKey } from '../../src/engine/keys.ts';
import { PackIndex } from '../../src/cache/stores/pack-file.ts';
import { FsStore } from '../../src/cache/stores/fs.ts';
import { pruneCache } from '../../src/cli/cache.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { claimOutFolder, OutFolderBusyError } from '../../src/engine/out-folder.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { repoRoot, scratchDir } from '../helpers.ts';
import { burnedWorkflow, csvFile, filesUnder, localStages, outputHashes, quiver, quiverAsync, quiverBin, readManifestFile, writeText } from '../cache/util.ts';

const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const root = scratchDir('quiver-commands-');

const run = (file: string, out: string, set: string[] = []) =>
  runWorkflow(file, { catalog: builtinCatalog, out, executor, set }).then((summary) => {
    expect(summary.status, summary.error).toBe('ok');
    return summary;
  });

const project = (name: string, text: string) => {
  const dir = join(root, name);
  localStages(dir);
  for (const i of [1, 2, 3]) csvFile(join(dir, 'data', `f${i}.csv`), i * 100, 60);
  return { dir, file: writeText(join(dir, 'wf.yaml'), text), out: join(dir, 'out') };
};

const burnWorkflow = burnedWorkflow({ name: 'burned', sums: 'sums.parquet' });

/** Every entry of the cache under `key` (a packed stream, record or sink record; a stream or kept file of its own), as a new process reads them. */
function entriesOf(out: string, key: string): string[] {
  const packs = new PackIndex(join(out, '.quiver', 'cache', 'packs'));
  packs.refresh();
  const packed = [...packs.list()].filter((e) => e.key === key).map((e) => `${e.kind} in ${e.entry.pack}`);
  return [...packed, ...filesUnder(join(out, '.quiver', 'cache'), { withQuiver: true }).filter((p) => p.split('/').pop()!.split('.')[0] === key)];
}

describe('quiver cache prune', () => {
  test('keeps what the most recent runs use and removes the rest', async () => {
    const { file, out } = project('prune', burnWorkflow);
    const a = readManifestFile((await run(file, out)).manifest);
    const b = readManifestFile((await run(file, out, ['rounds=6'])).manifest);
    const bKeys = new Set([...b.tasks.map((t) => t.key), ...b.outputs.map((o) => o.sha256)]);
    const onlyA = [...a.tasks.map((t) => t.key), ...a.outputs.map((o) => o.sha256)].filter((k) => !bKeys.has(k));
    // src is the same in both; burn, per, the sinks and their files differ.
    expect(onlyA.length).toBeGreaterThanOrEqual(3 + 3 + 2 + 4);
    for (const key of onlyA) expect(entriesOf(out, key), key).not.toEqual([]);

    const pruned = quiver(['cache', 'prune', '--out', out, '--keep-runs', '1']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/^kept \d+ cache entries used by the last 1 run\(s\); removed \d+, freeing .+\n$/);
    const removed = Number(/removed (\d+)/.exec(pruned.stdout)![1]);
    expect(removed).toBeGreaterThan(0);
    for (const key of onlyA) expect(entriesOf(out, key), key).toEqual([]);
    for (const key of bKeys) {
      const t = b.tasks.find((x) => x.key === key);
      // What B computed or took from the cache is still there (skipped tasks may never have been stored).
      if (!t || t.status !== 'skipped') expect(entriesOf(out, key), key).not.toEqual([]);
    }

    // The second run is still fully cached, with the same bytes.
    const bHashes = outputHashes(out);
    const again = await run(file, out, ['rounds=6']);
    for (const s of again.stages) expect([s.id, s.tasks], s.id).toEqual([s.id, s.cached]);
    expect(outputHashes(out)).toEqual(bHashes);
    // The first's is not: everything below src runs again.
    const first = await run(file, out);
    expect(Object.fromEntries(first.stages.map((s) => [s.id, s.cached]))).toEqual({ src: 0, burn: 0, per: 0, parts: 0, sums: 0 });
  });

  test('keeps the quarantined rows of the tasks it keeps, so a pruned cache still replays them', async () => {
    const { file, out } = project('prune-quarantine', `name: quarantined
stages:
  - { id: gen, use: source.generate, with: { partitions: 3, rows: 200, batchRows: 50, columns: { id: int64, x: float64 } } }
  - { id: check, use: ./stages.ts#picky, from: gen, with: { every: 9 }, onError: quarantine }
  - { id: kept, use: sink.parquet, from: check, with: { path: kept.parquet } }
`);
    const first = await run(file, out);
    expect(first.stages.find((s) => s.id === 'check')!.quarantined).toBe(Math.ceil(600 / 9));
    const hashes = outputHashes(out);
    expect(Object.keys(hashes)).toEqual(['_quarantine/check.parquet', 'kept.parquet']);
    const manifest = readManifestFile(first.manifest);
    const store = new FsStore(join(out, '.quiver', 'cache'));
    const checkKeys = manifest.tasks.filter((t) => t.stage === 'check').map((t) => t.key);
    for (const key of checkKeys) expect(await store.hasStream(rejectedKey(key))).toBe(true);

    await pruneCache(out, 1); // keeps everything this one run used
    for (const key of checkKeys) expect(await store.hasStream(rejectedKey(key)), 'rejected rows of a kept task').toBe(true);
    const again = await run(file, out);
    for (const s of again.stages) expect([s.id, s.tasks], s.id).toEqual([s.id, s.cached]);
    expect(outputHashes(out)).toEqual(hashes);
  });
});

describe('quiver rerun RUN --verify', () => {
  test('identical for an untouched run; after an input changes, names it and the outputs that differ', async () => {
    const { dir, file, out } = project('rerun', burnWorkflow);
    const summary = await run(file, out);
    const same = await quiverAsync(['rerun', summary.runId, '--verify', '--out', out, '--workers', '2']);
    expect(same.code, same.stderr).toBe(0);
    const lines = same.stdout.trim().split('\n');
    expect(lines.slice(0, -1).sort()).toEqual(['parts/f1.csv', 'parts/f2.csv', 'parts/f3.csv', 'sums.parquet'].map((p) => `identical  ${p}`));
    expect(lines.at(-1)).toBe(`run ${summary.runId}: 4 of 4 output(s) identical`);
    // The scratch folder of an identical rerun is removed; the outputs are untouched.
    expect(readdirSync(join(out, '.quiver', 'verify'))).toEqual([]);

    csvFile(join(dir, 'data', 'f2.csv'), 200, 60, 1);
    const changed = await quiverAsync(['rerun', 'latest', '--verify', '--out', out, '--workers', '2']);
    expect(changed.code, changed.stderr).toBe(1);
    expect(changed.stdout).toContain('input changed since the run: data/f2.csv\n');
    expect(changed.stdout).not.toContain('input changed since the run: data/f1.csv');
    expect(changed.stdout).toMatch(/^differs {4}parts\/f2\.csv \(recorded [0-9a-f]{12}…, now [0-9a-f]{12}…\)$/m);
    expect(changed.stdout).toMatch(/^differs {4}sums\.parquet /m);
    expect(changed.stdout).toMatch(/^identical {2}parts\/f1\.csv$/m);
    expect(changed.stdout).toMatch(/^identical {2}parts\/f3\.csv$/m);
    const scratch = /the rerun's files are in (.+)$/m.exec(changed.stdout)?.[1];
    expect(scratch && existsSync(join(scratch, 'parts', 'f2.csv'))).toBe(true);
  });
});

describe('one run at a time per output folder', () => {
  const deadPid = () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    return Number(child.stdout);
  };

  test('a second run while the first holds the lock fails with a clear message; once it is killed, its stale lock is taken over', async () => {
    const { file, out } = project('lock', `name: held
stages:
  - { id: gen, use: source.generate, with: { partitions: 1, rows: 10, columns: { id: int64, x: float64 } } }
  - { id: stuck, use: ./stages.ts#hang, from: gen }
  - { id: o, use: sink.csv, from: stuck, with: { path: o.csv } }
`);
    const first = spawn(process.execPath, [quiverBin, 'run', file, '--out', out, '--workers', '1'], { cwd: repoRoot, stdio: 'ignore' });
    try {
      const lock = join(out, '.quiver', 'lock');
      for (let i = 0; i < 2400 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 100)); // up to 4 minutes on a busy machine
      expect(existsSync(lock)).toBe(true);
      const second = await quiverAsync(['run', file, '--out', out, '--workers', '1']);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`^quiver run: ${out} is in use by run \\S+ \\(process ${first.pid}\\); wait for it to end or choose another --out\\n$`));
    } finally {
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
    }
    // The killed run's lock names a process that is gone: the next run takes the folder.
    expect(existsSync(join(out, '.quiver', 'lock'))).toBe(true);
    const ok = writeText(join(root, 'lock', 'ok.yaml'), `name: held
stages:
  - { id: gen, use: source.generate, with: { partitions: 1, rows: 10, columns: { id: int64, x: float64 } } }
  - { id: o, use: sink.csv, from: gen, with: { path: o.csv } }
`);
    const third = await quiverAsync(['run', ok, '--out', out, '--workers', '1', '--json']);
    expect(third.code, third.stderr).toBe(0);
    expect(JSON.parse(third.stdout).status).toBe('ok');
    expect(existsSync(join(out, '.quiver', 'lock'))).toBe(false);
  });

  test('a stale lock from a dead process is taken over and the temporary files it left are removed', async () => {
    const out = join(root, 'stale');
    mkdirSync(join(out, '.quiver', 'tmp', 'old-run'), { recursive: true });
    writeFileSync(join(out, '.quiver', 'lock'), JSON.stringify({ pid: deadPid(), host: hostname(), runId: 'old-run' }));
    const leftovers = [join(out, '.result.csv.0123abcd.tmp'), join(out, '.quiver', 'cache', 'records', 'ab', 'abcd.json.4242.tmp')];
    for (const f of leftovers) writeText(f, 'half');
    const release = await claimOutFolder(out, 'new-run');
    try {
      expect(JSON.parse(readFileSync(join(out, '.quiver', 'lock'), 'utf8'))).toMatchObject({ pid: process.pid, runId: 'new-run' });
      for (const f of leftovers) expect(existsSync(f), f).toBe(false);
      expect(existsSync(join(out, '.quiver', 'tmp'))).toBe(false);
      // While it is held, another claim fails, naming the run and the process.
      const other = spawnSync(process.execPath, ['--import', 'tsx', '-e',
        `import('${join(repoRoot, 'src/engine/out-folder.ts')}').then((m) => m.claimOutFolder(${JSON.stringify(out)}, 'x')).then(() => console.log('claimed'), (e) => console.log(e.constructor.name + ': ' + e.message))`],
      { cwd: repoRoot, encoding: 'utf8' });
      expect(other.stdout.trim()).toBe(`OutFolderBusyError: ${out} is in use by run new-run (process ${process.pid}); wait for it to end or choose another --out`);
    } finally {
      await release();
    }
    expect(existsSync(join(out, '.quiver', 'lock'))).toBe(false);
  });

  test('a lock held on another machine is not taken over', async () => {
    const out = join(root, 'remote');
    mkdirSync(join(out, '.quiver'), { recursive: true });
    writeFileSync(join(out, '.quiver', 'lock'), JSON.stringify({ pid: 1, host: `not-${hostname()}`, runId: 'far-run' }));
    await expect(claimOutFolder(out, 'near-run')).rejects.toThrow(OutFolderBusyError);
    await expect(claimOutFolder(out, 'near-run')).rejects.toThrow(`${out} is locked by run far-run on not-${hostname()}; if that run is gone, remove ${join(out, '.quiver', 'lock')}`);
  });

  // `quiver cache prune` deletes entries no finished run lists, without taking the folder's lock
  // (src/cli/cache.ts calls pruneCache directly): pruning while a run is going deletes the entries
  // that run has just written or decided to replay from, and its replays then fail.
  test('cache prune refuses an output folder a run is using', async () => {
    const { file, out } = project('prune-busy', burnWorkflow);
    await run(file, out);
    const release = await claimOutFolder(out, 'running-now');
    try {
      const pruned = await quiverAsync(['cache', 'prune', '--out', out, '--keep-runs', '0']);
      expect(pruned.stderr).toContain(`${out} is in use by run running-now`);
      expect(pruned.code).toBe(1);
    } finally {
      await release();
    }
  });

  // Two runs started in one process (the API: Promise.all over runWorkflow) into one folder: the
  // lock's owner check skips its own pid (src/engine/out-folder.ts, `holder.pid !== process.pid`),
  // so the second claim removes the first's lock and its temporary files instead of failing.
  test('a second run in the same process, while the first holds the lock, fails too', async () => {
    const out = join(root, 'same-process');
    const release = await claimOutFolder(out, 'first');
    try {
      await expect(claimOutFolder(out, 'second')).rejects.toThrow(OutFolderBusyError);
    } finally {
      await release();
    }
  });
});
