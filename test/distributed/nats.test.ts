// Distributed runs (DESIGN.md §3 "Running on many machines"): a real nats-server with JetStream on a
// free port, real `quiver worker` processes and a real coordinator (`quiver run --executor nats://`),
// sharing a folder store. What a distributed run writes must be byte for byte what a local run writes.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';
import { bucket, useS3Server } from '../cache/s3-server.ts';
import { connect } from '@nats-io/transport-node';
import { FsBlobs } from '../../src/cache/stores/fs-blobs.ts';
import { maxDeliveries, openQueue, streamName } from '../../src/engine/executors/nats-queue.ts';
import { makeBundle } from '../../src/engine/executors/stage-bundle.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { haveNatsServer, quiver, quiverRun, quiverRunWith, quiverWith, startNats, stopAll, type Started } from './processes.ts';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const fixture = (name: string) => join('test', 'fixtures', name);

// Without a nats-server on PATH (or in NATS_SERVER) there is nothing to run these against.
describe.skipIf(!haveNatsServer)('distributed runs through NATS JetStream', () => {
  const dir = scratchDir('quiver-nats-');
  let url: string;

  beforeAll(async () => {
    url = await startNats(dir);
  });

  afterAll(stopAll);

  // Workers unpack stage bundles into a cache of the test's own, not the user's.
  const cache = { XDG_CACHE_HOME: join(dir, 'cache') };
  const worker = (store: string, ...more: string[]) => quiverWith(cache, 'worker', '--nats', url, '--store', store, '--threads', '1', ...more);

  describe('two workers', () => {
    const store = join(dir, 'store');
    let workers: Started[];

    beforeAll(async () => {
      workers = [worker(store), worker(store)];
      await Promise.all(workers.map((w) => w.says(/^worker: nats:/m)));
    });

    test('a CSV → derive → Parquet workflow and a many-partition one: outputs byte-identical to a local run', async () => {
      for (const [file, outputs, more] of [
        ['workflows/finance/spy-daily.yaml', ['spy-daily.parquet', 'spy-yearly.csv'], ['--allow-path', 'data']],
        // Tasks fed by an upstream stage's batches (not a source): their bytes come back from the store.
        ['workflows/finance/stocks-vs-spy.yaml', ['stocks-vs-spy.arrow'], ['--allow-path', 'data']],
        [fixture('burn.yaml'), ['burned.parquet'], []],
      ] as const) {
        const name = file.split('/').pop()!;
        const local = await quiverRun('run', file, '--out', join(dir, 'local', name), ...more);
        expect(local.code, local.stderr).toBe(0);
        const remote = await quiverRun('run', file, '--out', join(dir, 'remote', name), '--executor', url, '--store', store, '--json', ...more);
        expect(remote.code, remote.stderr).toBe(0);
        expect(JSON.parse(remote.stdout).status).toBe('ok');
        for (const output of outputs) expect(sha256(join(dir, 'remote', name, output)), output).toBe(sha256(join(dir, 'local', name, output)));
      }
      // The workers did the work: every task a worker took is in their logs.
      expect(workers.map((w) => w.stderr().match(/^worker: took /gm)?.length ?? 0).reduce((a, b) => a + b)).toBeGreaterThanOrEqual(7);
    });

    test('a stage that throws fails the run naming the stage, as a local run does', async () => {
      const local = await quiverRun('run', fixture('generated.yaml'), '--out', join(dir, 'local', 'failing'), '--set', 'fail=true');
      const remote = await quiverRun('run', fixture('generated.yaml'), '--out', join(dir, 'remote', 'failing'), '--set', 'fail=true', '--executor', url, '--store', store);
      const reason = /^quiver run test\/fixtures\/generated\.yaml: stage 'dbl' on partition generated-0000\d: asked to fail$/m;
      expect(local.code).toBe(1);
      expect(local.stderr).toMatch(reason);
      expect(remote.code).toBe(1);
      expect(remote.stderr).toMatch(reason);
    });

    test('model stages: run by cpu workers unless the run says --gpu, then only by workers with --caps gpu', async () => {
      const file = fixture('predict.yaml');
      const allow = ['--allow-path', 'data/models/radar-cnn'];
      const local = await quiverRun('run', file, '--out', join(dir, 'local', 'predict'), ...allow);
      expect(local.code, local.stderr).toBe(0);
      const expected = sha256(join(dir, 'local', 'predict', 'scored.parquet'));
      const cpu = await quiverRun('run', file, '--out', join(dir, 'remote', 'predict-cpu'), '--executor', url, '--store', store, ...allow);
      expect(cpu.code, cpu.stderr).toBe(0);
      expect(sha256(join(dir, 'remote', 'predict-cpu', 'scored.parquet'))).toBe(expected);

      const took = () => workers.map((w) => w.stderr().match(/^worker: took /gm)?.length ?? 0).reduce((a, b) => a + b);
      const before = took();
      const gpu = worker(join(dir, 'store-gpu'), '--caps', 'gpu');
      await gpu.says(/caps gpu,/);
      const remote = await quiverRun('run', file, '--out', join(dir, 'remote', 'predict-gpu'), '--executor', url, '--store', join(dir, 'store-gpu'), '--gpu', ...allow);
      expect(remote.code, remote.stderr).toBe(0);
      expect(sha256(join(dir, 'remote', 'predict-gpu', 'scored.parquet'))).toBe(expected);
      expect(gpu.stderr().match(/^worker: took /gm)).toHaveLength(2); // one task per partition
      expect(took()).toBe(before);
      gpu.child.kill('SIGTERM');
      expect(await gpu.exited).toBe(0);
    });

    test('training with a fixed seed (wasm backend): the model and its scores byte-identical to a local run', async () => {
      const file = fixture('train.yaml');
      const local = await quiverRun('run', file, '--out', join(dir, 'local', 'train'));
      expect(local.code, local.stderr).toBe(0);
      const remote = await quiverRun('run', file, '--out', join(dir, 'remote', 'train'), '--executor', url, '--store', store, '--json');
      expect(remote.code, remote.stderr).toBe(0);
      for (const output of ['cnn/weights.bin', 'cnn/model.json', 'cnn/quiver-model.json', 'scored.parquet']) {
        expect(sha256(join(dir, 'remote', 'train', output)), output).toBe(sha256(join(dir, 'local', 'train', output)));
      }
      // Trained on the patches the workers simulated, and scored rows came back from them.
      const stages = JSON.parse(remote.stdout).stages as { id: string; tasks: number; rowsOut: number }[];
      expect(stages.find((s) => s.id === 'patches')).toMatchObject({ tasks: 24 });
      expect(stages.find((s) => s.id === 'margin')!.rowsOut).toBeGreaterThan(300);
    });

    test('workers stop on SIGTERM with exit code 0', async () => {
      for (const w of workers) w.child.kill('SIGTERM');
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
    });
  });

  describe('stage files shipped as a bundle', () => {
    // A workflow folder as a user has it: stage files importing quiver and packages through
    // node_modules, and a helper of their own; the worker imports them from its unpacked bundle.
    const wf = join(dir, 'bundled');
    const store = join(dir, 'store-bundled');
    const bundles = join(dir, 'cache-bundled');

    beforeAll(() => {
      mkdirSync(join(wf, 'lib'), { recursive: true });
      mkdirSync(join(wf, 'node_modules'));
      writeFileSync(join(wf, 'package.json'), '{ "type": "module" }\n');
      symlinkSync(repoRoot, join(wf, 'node_modules', 'quiver'));
      for (const name of ['apache-arrow', 'zod']) symlinkSync(join(repoRoot, 'node_modules', name), join(wf, 'node_modules', name));
      writeFileSync(join(wf, 'stages.ts'), readFileSync(fixture('stages.ts'), 'utf8').replaceAll("'../../src/", "'quiver/src/"));
      writeFileSync(join(wf, 'lib', 'label.ts'), "export const label = (url: string) => `from ${url}`;\n");
      writeFileSync(join(wf, 'where.ts'), `
import { Field, makeData, RecordBatch, Schema, Struct, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { defineMap } from 'quiver/src/workflow/stage.ts';
import { label } from './lib/label.ts';

/** Adds \`module\`: where this file was imported from. */
export const where = defineMap({
  name: 'test.where', kind: 'map', version: '1', description: 'module = where this stage file was imported from',
  params: z.object({}).strict(),
  outputSchema: ({ inputs }) => new Schema([...inputs[0].fields, new Field('module', new Utf8(), false)]),
  create: (_params, { outputSchema }) => (batch) => {
    const module = vectorFromArray(Array.from({ length: batch.numRows }, () => label(import.meta.url)), new Utf8());
    const children = [...batch.data.children, module.data[0]];
    return new RecordBatch(outputSchema, makeData({ type: new Struct(outputSchema.fields), length: batch.numRows, children }));
  },
});
`);
      writeFileSync(join(wf, 'wf.yaml'), `name: bundled
stages:
  - id: gen
    use: source.generate
    with: { partitions: 2, rows: 500, columns: { id: int64, x: float64 } }
  - id: dbl
    use: ./stages.ts#double
    from: gen
  - id: doubled
    use: sink.parquet
    from: dbl
    with: { path: doubled.parquet }
  - id: where
    use: ./where.ts#where
    from: gen
  - id: where-csv
    use: sink.csv
    from: where
    with: { path: where.csv }
`);
    });

    test('a worker imports the stage files from the bundle it unpacked, not from the workflow folder; outputs byte-identical to a local run', async () => {
      const file = join(wf, 'wf.yaml');
      const local = await quiverRun('run', file, '--out', join(dir, 'local', 'bundled'));
      expect(local.code, local.stderr).toBe(0);
      expect(readFileSync(join(dir, 'local', 'bundled', 'where.csv'), 'utf8')).toContain(`from file://${realpathSync(wf)}/where.ts`);

      const w = quiverWith({ XDG_CACHE_HOME: bundles }, 'worker', '--nats', url, '--store', store, '--threads', '2');
      await w.says(/^worker: nats:/m);
      const remote = await quiverRun('run', file, '--out', join(dir, 'remote', 'bundled'), '--executor', url, '--store', store);
      expect(remote.code, remote.stderr).toBe(0);
      expect(sha256(join(dir, 'remote', 'bundled', 'doubled.parquet'))).toBe(sha256(join(dir, 'local', 'bundled', 'doubled.parquet')));
      // One bundle, kept in the store under its sha256 and unpacked once by the worker, which imported from there.
      const [sha, ...more] = readdirSync(join(bundles, 'quiver', 'bundles'));
      expect(more).toEqual([]);
      expect(sha256(join(store, 'blobs', sha.slice(0, 2), sha))).toBe(sha);
      const unpacked = join(realpathSync(bundles), 'quiver', 'bundles', sha, 'files');
      expect(readdirSync(unpacked).sort()).toEqual(['lib', 'package.json', 'stages.ts', 'where.ts']); // no node_modules, no wf.yaml
      const modules = new Set(readFileSync(join(dir, 'remote', 'bundled', 'where.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').pop()));
      expect([...modules]).toEqual([`from file://${unpacked}/where.ts`]);

      // Changed code is a new bundle; one whose bytes were changed in the store is refused, naming it.
      writeFileSync(join(wf, 'lib', 'label.ts'), "export const label = (url: string) => `seen ${url}`;\n");
      const made = (await makeBundle({ key: 'k', baseDir: wf, catalog: builtinCatalog.ref!, inputSchema: new Uint8Array(), exits: [], maps: [{ id: 'w', use: './where.ts#where', version: '1', params: {}, parent: -1 }] }))!;
      const changed = createHash('sha256').update(made.bytes).digest('hex');
      expect(changed).not.toBe(sha);
      const tampered = Buffer.from(made.bytes);
      tampered[tampered.length - 3] ^= 1;
      const blob = join(store, 'blobs', changed.slice(0, 2), changed);
      mkdirSync(dirname(blob), { recursive: true });
      writeFileSync(blob, tampered);
      // --no-cache: the task cache keys stage files, not what they import, so the tasks would be cached.
      const refused = await quiverRun('run', file, '--out', join(dir, 'remote', 'bundled-tampered'), '--executor', url, '--store', store, '--no-cache');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`^quiver run \\S+wf\\.yaml: stage '[\\w+-]+'.*: stage bundle ${changed} in \\S+ is damaged: its bytes hash to [0-9a-f]{64}: refused$`, 'm'));
      expect(readdirSync(join(bundles, 'quiver', 'bundles'))).toEqual([sha]);
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    });
  });

  test('a worker killed while it holds a task: the task is delivered again, the run completes once, identical', async () => {
    const store = join(dir, 'store-kill');
    const params = ['--set', 'partitions=8', '--set', 'rounds=400'];
    const local = await quiverRun('run', fixture('burn.yaml'), '--out', join(dir, 'local', 'kill'), ...params);
    expect(local.code, local.stderr).toBe(0);
    // One worker alone first, so that it is the one holding a task when it dies.
    const doomed = worker(store);
    const run = quiver('run', fixture('burn.yaml'), '--out', join(dir, 'remote', 'kill'), '--executor', url, '--store', store, '--json', ...params);
    await doomed.says(/^worker: took /m);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const held = doomed.stderr().match(/^worker: took (\w+)/m)![1];
    const rescuer = worker(store);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(rescuer.stderr()).toContain(`worker: took ${held}`);
    rescuer.child.kill('SIGTERM');
    expect(await rescuer.exited).toBe(0);
    const output = join(dir, 'remote', 'kill', 'burned.parquet');
    expect(sha256(output)).toBe(sha256(join(dir, 'local', 'kill', 'burned.parquet')));
    expect(await duckdb(`select count(*)::int, count(distinct id)::int from '${output}'`)).toEqual([[160_000, 160_000]]);
    expect(JSON.parse(run.stdout()).stages.find((s: { id: string }) => s.id === 'burn')).toMatchObject({ tasks: 8, rowsOut: 160_000 });
  });

  test('a task whose workers are lost every time fails the run naming its stage; a stopped worker hands its task back without counting', async () => {
    const store = join(dir, 'store-lost');
    const run = quiver('run', fixture('spin.yaml'), '--out', join(dir, 'remote', 'lost'), '--executor', url, '--store', store);
    // Stopped (SIGTERM): the task is queued again, as if never delivered.
    const stopped = worker(store);
    await stopped.says(/^worker: took /m);
    stopped.child.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);
    // Lost (SIGKILL) as often as a task may be delivered.
    for (let i = 0; i < maxDeliveries; i++) {
      const lost = worker(store);
      await lost.says(/^worker: took /m);
      lost.child.kill('SIGKILL');
      await lost.exited;
    }
    const last = worker(store);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(new RegExp(`^quiver run test/fixtures/spin\\.yaml: stage 'gen\\+spin' on partition generated-00000: its worker thread died \\(lost with its worker process ${maxDeliveries} times: killed, or cut off from the broker\\)$`, 'm'));
    expect(last.stderr()).toMatch(/^worker: fails \w+$/m);
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
  });

  test('a killed coordinator: a second one is refused while it lives; the same command run again resumes, computing nothing twice, identical', async () => {
    const store = join(dir, 'store-resume');
    const params = ['--set', 'partitions=8', '--set', 'rounds=200'];
    const local = await quiverRun('run', fixture('burn.yaml'), '--out', join(dir, 'local', 'resume'), ...params);
    expect(local.code, local.stderr).toBe(0);
    const args = ['run', fixture('burn.yaml'), '--out', join(dir, 'remote', 'resume'), '--executor', url, '--store', store, ...params];
    // Two at once, and no worker yet: neither can finish, so the first to exit is the one refused.
    const coordinators = [quiver(...args), quiver(...args)];
    const refused = await Promise.race(coordinators.map((c) => c.exited.then(() => c)));
    expect(refused.child.exitCode).toBe(1);
    expect(refused.stderr()).toMatch(/^quiver run test\/fixtures\/burn\.yaml: another coordinator \(\S+ pid \d+\) is running this workflow into this out folder: wait for it to end, or stop it$/m);
    const first = coordinators.find((c) => c !== refused)!;
    const w = worker(store);
    await w.says(/^worker: took [^]*^worker: took /m); // the first task committed
    first.child.kill('SIGKILL');
    await first.exited;
    const resumed = await quiverRun(...args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sha256(join(dir, 'remote', 'resume', 'burned.parquet'))).toBe(sha256(join(dir, 'local', 'resume', 'burned.parquet')));
    // Every task once: what the dead coordinator had committed, or left queued, was not computed again.
    const taken = w.stderr().match(/^worker: took \w+$/gm)!;
    expect(new Set(taken).size).toBe(8);
    expect(taken).toHaveLength(8);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  test('an interrupted coordinator (SIGINT) takes its queued tasks out of the queue: no worker runs them for nobody', async () => {
    const nc = await connect({ servers: url });
    const { jsm } = await openQueue(nc, ['cpu']);
    const queued = async () => (await jsm.streams.info(streamName)).state.messages;
    try {
      const before = await queued();
      const run = quiver('run', fixture('burn.yaml'), '--out', join(dir, 'remote', 'interrupted'), '--executor', url, '--store', join(dir, 'store-interrupted'), '--set', 'partitions=8');
      // No worker: all 8 tasks stay queued until the interruption.
      while ((await queued()) < before + 8) await new Promise((r) => setTimeout(r, 100));
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toMatch(/^quiver run test\/fixtures\/burn\.yaml: interrupted \(SIGINT\)$/m);
      expect(await queued()).toBe(before);
    } finally {
      await nc.close();
    }
  });

  test('pruning a shared store: blobs older than the age go with the commits naming them, younger ones stay; the tasks are then computed again, identical', async () => {
    const store = join(dir, 'store-prune');
    const w = worker(store);
    await w.says(/^worker: nats:/m);
    const took = () => w.stderr().match(/^worker: took /gm)?.length ?? 0;
    const params = ['--set', 'partitions=3', '--set', 'rounds=10'];
    const first = await quiverRun('run', fixture('burn.yaml'), '--out', join(dir, 'remote', 'prune-1'), '--executor', url, '--store', store, ...params);
    expect(first.code, first.stderr).toBe(0);
    expect(took()).toBe(3);
    // Committed and kept: run again without the cache, nothing is computed.
    const again = await quiverRun('run', fixture('burn.yaml'), '--out', join(dir, 'remote', 'prune-2'), '--executor', url, '--store', store, '--no-cache', ...params);
    expect(again.code, again.stderr).toBe(0);
    expect(took()).toBe(3);

    // Everything the runs wrote is made 8 days old, then one blob is written now.
    const blobs = new FsBlobs(store);
    const old = new Date(Date.now() - 8 * 86400e3);
    const written: string[] = [];
    for await (const entry of blobs.list()) {
      written.push(entry.name);
      utimesSync(join(store, 'blobs', entry.name.slice(0, 2), entry.name), old, old);
    }
    expect(written.length).toBeGreaterThanOrEqual(4); // 3 replies and the stage bundle (small requests travel in their messages)
    const young = await blobs.put(new TextEncoder().encode('written just now'));
    const prune = await quiverRun('cache', 'prune', '--store', store, '--older-than', '7d', '--nats', url);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toMatch(new RegExp(`^kept 1 task blobs written in the last 7d; removed ${written.length}, freeing `, 'm'));
    expect(prune.stdout).toMatch(/removed 3 whose replies were pruned$/m);
    const left: string[] = [];
    for await (const entry of blobs.list()) left.push(entry.name);
    expect(left).toEqual([young]);

    const third = await quiverRun('run', fixture('burn.yaml'), '--out', join(dir, 'remote', 'prune-3'), '--executor', url, '--store', store, '--no-cache', ...params);
    expect(third.code, third.stderr).toBe(0);
    expect(took()).toBe(6);
    expect(sha256(join(dir, 'remote', 'prune-3', 'burned.parquet'))).toBe(sha256(join(dir, 'remote', 'prune-1', 'burned.parquet')));
    const bad = await quiverRun('cache', 'prune', '--store', store, '--older-than', 'a week');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--older-than must be an age such as 30m, 12h or 7d, not 'a week'/);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  test('two runs share a queued task and one is interrupted: the other queues it again and completes, identical', async () => {
    const nc = await connect({ servers: url });
    const { jsm } = await openQueue(nc, ['cpu']);
    const queued = async () => (await jsm.streams.info(streamName)).state.messages;
    const store = join(dir, 'store-shared');
    const params = ['--set', 'partitions=2', '--set', 'rounds=5'];
    try {
      const before = await queued();
      const a = quiver('run', fixture('burn.yaml'), '--out', join(dir, 'remote', 'shared-a'), '--executor', url, '--store', store, ...params);
      while ((await queued()) < before + 2) await new Promise((r) => setTimeout(r, 100));
      // The same tasks, the same message ids: b's publishes are taken as duplicates of a's.
      const b = quiver('run', fixture('burn.yaml'), '--out', join(dir, 'remote', 'shared-b'), '--executor', url, '--store', store, '--json', ...params);
      await new Promise((r) => setTimeout(r, 3000));
      expect(await queued()).toBe(before + 2);
      a.child.kill('SIGINT');
      expect(await a.exited).toBe(1);
      expect(await queued()).toBe(before);
      const w = worker(store);
      expect(await b.exited, b.stderr()).toBe(0);
      expect(JSON.parse(b.stdout()).status).toBe('ok');
      const local = await quiverRun('run', fixture('burn.yaml'), '--out', join(dir, 'local', 'shared'), ...params);
      expect(local.code, local.stderr).toBe(0);
      expect(sha256(join(dir, 'remote', 'shared-b', 'burned.parquet'))).toBe(sha256(join(dir, 'local', 'shared', 'burned.parquet')));
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      await nc.close();
    }
  });

  describe('an S3 store (s3rver)', () => {
    const s3 = useS3Server();

    test('the workers and the coordinator share a bucket for the cache and the task bytes: outputs identical to a local run', async () => {
      const env = s3.env();
      const store = `s3://${bucket}/distributed`;
      const w = quiverWith({ ...env, ...cache }, 'worker', '--nats', url, '--store', store, '--threads', '1');
      await w.says(/^worker: nats:/m);
      const local = await quiverRun('run', fixture('burn.yaml'), '--out', join(dir, 'local', 's3'));
      expect(local.code, local.stderr).toBe(0);
      const remote = await quiverRunWith(env, 'run', fixture('burn.yaml'), '--out', join(dir, 'remote', 's3'), '--executor', url, '--store', store);
      expect(remote.code, remote.stderr).toBe(0);
      expect(sha256(join(dir, 'remote', 's3', 'burned.parquet'))).toBe(sha256(join(dir, 'local', 's3', 'burned.parquet')));
      expect(w.stderr()).toMatch(/^worker: took /m);
      // The bucket's blobs listed and pruned: all of them at age 0, none left to a second pass.
      const prune = await quiverRunWith(env, 'cache', 'prune', '--store', store, '--older-than', '0s');
      expect(prune.code, prune.stderr).toBe(0);
      expect(prune.stdout).toMatch(/^kept 0 task blobs written in the last 0s; removed [1-9]\d*, freeing /m);
      expect((await quiverRunWith(env, 'cache', 'prune', '--store', store, '--older-than', '0s')).stdout).toMatch(/^kept 0 task blobs .*; removed 0, /m);
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    });
  });

  test('a worker with --idle-exit stops by itself once no task has come for that long, with exit code 0', async () => {
    const idle = worker(join(dir, 'store'), '--idle-exit', '1');
    expect(await idle.exited).toBe(0);
    expect(idle.stderr()).toMatch(/^worker: idle for 1s, exiting$/m);
  });
});

test('usage: a worker needs a broker URL and a store, a distributed run a store; each mistake is one sentence and exit code 2', async () => {
  const cases: [string[], RegExp][] = [
    [['worker', '--store', 'x'], /--nats must be a broker URL, nats:\/\/HOST:PORT\n/],
    [['worker', '--nats', 'nats://127.0.0.1:1'], /--store is required/],
    [['worker', '--nats', 'nats://127.0.0.1:1', '--store', 'x', '--threads', '0'], /--threads must be a positive whole number, not '0'/],
    [['run', fixture('generated.yaml'), '--executor', 'nats://127.0.0.1:1'], /--executor nats:\/\/\.\.\. needs --store DIR/],
    [['run', fixture('generated.yaml'), '--gpu'], /--gpu is for distributed runs/],
    [['run', fixture('generated.yaml'), '--executor', 'slurm'], /--executor is local or a broker URL nats:\/\/HOST:PORT, not 'slurm'/],
  ];
  for (const [args, message] of cases) {
    const result = await quiverRun(...args);
    expect(result.code, args.join(' ')).toBe(2);
    expect(result.stderr).toMatch(message);
  }
});
