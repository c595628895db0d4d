// Why a task failed reaches the main thread as a kind, on real worker threads: what a stage threw
// or found bad in its input is the stage's (never a thread death, whatever its message says), and a
// thread that exits, runs out of memory or past its timeout is reported as such.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { afterAll, describe, expect, test } from 'vitest';
import { encodeBatches, encodeSchema } from '../../src/arrow/ipc.ts';
import { runAttempts } from '../../src/engine/attempt.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { resolveWorkflow } from '../../src/engine/run-workflow.ts';
import { TaskError, type TaskFailureKind } from '../../src/engine/task-error.ts';
import type { Executor, TaskRequest } from '../../src/engine/task.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const fixtures = join(repoRoot, 'test', 'fixtures');
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const out = scratchDir();
const batch = tableFromArrays({ id: BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i)), x: Float64Array.from({ length: 10 }, (_, i) => i / 10) }).batches[0];

/** One unit of ten rows through one map stage `m` of the fixtures, on partition p0. */
const mapRequest = (use: string, params: unknown): TaskRequest => ({
  segment: {
    key: `${use} ${JSON.stringify(params)}`, baseDir: fixtures, catalog: builtinCatalog.requireRef(),
    inputSchema: encodeSchema(batch.schema), maps: [{ id: 'm', use, version: '1', params, parent: -1 }], exits: [0],
  },
  units: [{ partition: { index: 0, key: 'p0' }, input: encodeBatches(batch.schema, [batch]) }],
});

/** The TaskError `run` rejects with. */
async function failure(run: Promise<unknown>): Promise<TaskError> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TaskError);
  return error as TaskError;
}

const once = (executor: Executor, request: TaskRequest, policy: { retries?: number; timeoutSeconds?: number } = {}) =>
  failure(runAttempts(executor, request, { retries: 0, stages: ['m'], ...policy }, new AbortController().signal));

const notThreadDeath = (kind: TaskFailureKind) => expect(['thread-died', 'out-of-memory', 'timeout']).not.toContain(kind);

describe('task errors', () => {
  test('a stage that throws: kind stage, with its id, partition and message', async () => {
    const error = await once(executor, mapRequest('./stages.ts#picky', { every: 7 }));
    expect(error.kind).toBe('stage');
    expect(error.failure).toMatchObject({ stage: 'm', partition: 'p0', cause: 'id 0 is not allowed' });
    expect(error.message).toBe("stage 'm' on partition p0: id 0 is not allowed");
  });

  test('a stage the worker cannot find, or that fails to build, is the stage\'s error, not a thread death', async () => {
    const unknown = await once(executor, mapRequest('no.such-stage', {}));
    notThreadDeath(unknown.kind);
    expect(unknown.kind).toBe('stage');
    expect(unknown.message).toMatch(/^stage 'm': unknown stage 'no\.such-stage'/);
    const badParams = await once(executor, mapRequest('./stages.ts#double', { column: 'missing' }));
    expect(badParams.kind).toBe('stage');
    expect(badParams.message).toMatch(/^stage 'm': .*missing/);
  });

  test('an unreadable input row: kind input, with the file and line', async () => {
    const data = join(out, 'csv');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'bad.csv'), 'id,x\n1,0.5\n2,0.25\n3,0.125\n');
    const wf = workflow('csv', { baseDir: data }).stage('read', 'source.csv', { path: '*.csv', schema: { id: 'int64', x: 'float64' } });
    const read = (await resolveWorkflow(wf, { catalog: builtinCatalog })).byId.get('read')!;
    // Spoilt after discovery (which reads the first rows), in place: the chunks stay where they were.
    writeFileSync(join(data, 'bad.csv'), 'id,x\n1,0.5\n2,0.25\nx,0.125\n');
    const partition = read.partitions![0];
    const units: TaskRequest['units'] = [];
    for await (const chunk of partition.chunks()) units.push({ partition: { index: 0, key: partition.key }, chunk });
    const request: TaskRequest = {
      segment: {
        key: 'bad-csv', baseDir: data, catalog: builtinCatalog.requireRef(), inputSchema: encodeSchema(read.schema), maps: [], exits: [-1],
        source: { id: 'read', use: 'source.csv', version: read.stage.version, params: read.params },
      },
      units,
    };
    const error = await once(executor, request);
    expect(error.kind).toBe('input');
    expect(error.failure).toMatchObject({ stage: 'read', file: expect.stringContaining('bad.csv'), line: 4 });
    expect(error.message).toMatch(/^stage 'read': .*bad\.csv:4: column 'id': cannot read 'x' as int64/);
  });

  test('a stage that ends its thread (process.exit): kind thread-died, named by segment and partition', async () => {
    const marker = join(out, 'exited');
    const request = mapRequest('./stages.ts#crashOnce', { marker });
    const error = await once(executor, request);
    expect(existsSync(marker)).toBe(true);
    expect(error.kind).toBe('thread-died');
    expect(error.message).toMatch(/^stage 'm' on partition p0: its worker thread died \(.*code: 3\)$/);
  });

  test('a stage that exhausts its heap: kind out-of-memory', async () => {
    const small = new LocalExecutor({ workers: 1, memoryLimitMb: 64 });
    try {
      const error = await failure(small.run(mapRequest('./stages.ts#hogOnce', { marker: join(out, 'hogged') })));
      expect(error.kind).toBe('out-of-memory');
    } finally {
      await small.close();
    }
  });

  test('a stage that never returns: kind timeout', async () => {
    const error = await once(executor, mapRequest('./stages.ts#hang', {}), { timeoutSeconds: 1 });
    expect(error.kind).toBe('timeout');
    expect(error.message).toBe("stage 'm' on partition p0: ran past its timeout of 1s per chunk and was stopped");
  });
});
