// Failure handling (DESIGN.md §3 retries, timeout, onError): rows a stage rejects are quarantined
// or skipped and accounted for, unreadable chunks are quarantined whole, a dead worker thread is
// retried on a fresh one, and a stage that never returns is stopped by its timeout.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const fixtures = join(repoRoot, 'test', 'fixtures');
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const out = scratchDir();
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const gen = { partitions: 4, rows: 500, batchRows: 128, columns: { id: 'int64', x: 'float64' } };
const total = gen.partitions * gen.rows;

const pickyWorkflow = (onError: 'skip' | 'quarantine') => workflow('picky', { baseDir: fixtures })
  .stage('gen', 'source.generate', gen)
  .stage('check', './stages.ts#picky', { every: 7 }, { from: 'gen', onError })
  .stage('out', 'sink.parquet', { path: 'kept.parquet' }, { from: 'check' });

describe('failure handling', () => {
  test('quarantine: rejected rows go to _quarantine/STAGE.parquet with their reason; rows in = out + quarantined', async () => {
    const dir = join(out, 'quarantine');
    const summary = await runWorkflow(pickyWorkflow('quarantine'), { catalog: builtinCatalog, out: dir, executor });
    expect(summary.status).toBe('ok');
    const rejectedIds = Array.from({ length: total }, (_, i) => i).filter((i) => i % 7 === 0);
    const check = summary.stages.find((s) => s.id === 'check')!;
    expect(check).toMatchObject({ rowsIn: total, rowsOut: total - rejectedIds.length, quarantined: rejectedIds.length });
    expect(check.rowsIn).toBe(check.rowsOut + check.quarantined);
    expect(summary.unaccounted).toEqual([]);

    const file = join(dir, '_quarantine', 'check.parquet');
    expect(summary.outputs).toContain(file);
    const rows = await duckdb(`SELECT id, _error, _stage, _source FROM '${file}' ORDER BY id`);
    expect(rows.map((r) => Number(r[0]))).toEqual(rejectedIds);
    expect(rows[1]).toEqual([7n, 'id 7 is not allowed', 'check', 'generated-00000']);
    expect(rows.at(-1)![3]).toBe('generated-00003');
    const kept = await duckdb(`SELECT count(*), sum(id) FROM '${join(dir, 'kept.parquet')}'`);
    const keptSum = (total * (total - 1)) / 2 - rejectedIds.reduce((a, b) => a + b, 0);
    expect(kept[0].map(Number)).toEqual([total - rejectedIds.length, keptSum]);

    // From the cache, the quarantine file comes back byte for byte.
    const before = sha(file);
    const again = await runWorkflow(pickyWorkflow('quarantine'), { catalog: builtinCatalog, out: dir, executor });
    expect(again.stages.every((s) => s.cached === s.tasks)).toBe(true);
    expect(again.stages.find((s) => s.id === 'check')!.quarantined).toBe(rejectedIds.length);
    expect(again.unaccounted).toEqual([]);
    expect(sha(file)).toBe(before);
  });

  test('skip: the same rows are left out and counted, and nothing is written for them', async () => {
    const dir = join(out, 'skip');
    const summary = await runWorkflow(pickyWorkflow('skip'), { catalog: builtinCatalog, out: dir, executor });
    const check = summary.stages.find((s) => s.id === 'check')!;
    expect(check.rowsIn).toBe(check.rowsOut + check.quarantined);
    expect(check.quarantined).toBe(Math.ceil(total / 7));
    expect(existsSync(join(dir, '_quarantine'))).toBe(false);
  });

  test('without onError the first rejected row fails the run, naming stage and partition', async () => {
    const wf = workflow('strict', { baseDir: fixtures })
      .stage('gen', 'source.generate', gen)
      .stage('check', './stages.ts#picky', { every: 7 }, { from: 'gen' })
      .stage('out', 'sink.parquet', { path: 'kept.parquet' }, { from: 'check' });
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: join(out, 'strict'), executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/stage 'check' on partition generated-0000\d: id \d+ is not allowed/);
    expect(existsSync(join(out, 'strict', 'kept.parquet'))).toBe(false);
  });

  test('an unterminated quote sets its one line aside, naming file and line; the other rows and files go through', async () => {
    const data = join(out, 'csv-in');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'a.csv'), 'id,x\n1,0.5\n2,0.25\n');
    writeFileSync(join(data, 'b.csv'), 'id,x\n3,0.5\n4,"unterminated\n');
    writeFileSync(join(data, 'c.csv'), 'id,x\n5,0.125\n');
    const wf = workflow('csvs', { baseDir: data })
      .stage('read', 'source.csv', { path: '*.csv', schema: { id: 'int64', x: 'float64' } }, { onError: 'quarantine' })
      .stage('out', 'sink.parquet', { path: 'all.parquet' }, { from: 'read' });
    const dir = join(out, 'csv-out');
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, executor });
    expect(summary.status).toBe('ok');
    expect((await duckdb(`SELECT id FROM '${join(dir, 'all.parquet')}' ORDER BY id`)).map((r) => Number(r[0]))).toEqual([1, 2, 3, 5]);
    const rows = await duckdb(`SELECT id, _stage, _source, _error FROM '${join(dir, '_quarantine', 'read.parquet')}'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].slice(0, 3)).toEqual([null, 'read', 'b.csv']);
    expect(String(rows[0][3])).toMatch(/b\.csv:3: unterminated quoted field/);
    expect(summary.stages.find((s) => s.id === 'read')!.quarantined).toBe(1);
  });

  test('a worker thread that dies is retried on a fresh one; without retries the run fails, and never hangs', async () => {
    const marker = join(out, 'crashed-once');
    const wf = (retries?: number) => workflow('crash', { baseDir: fixtures })
      .stage('gen', 'source.generate', gen)
      .stage('crash', './stages.ts#crashOnce', { marker }, { from: 'gen', retries })
      .stage('out', 'sink.parquet', { path: 'all.parquet' }, { from: 'crash' });
    const failed = await runWorkflow(wf(), { catalog: builtinCatalog, out: join(out, 'crash-fail'), workers: 2 });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/stage 'gen\+crash'.*worker thread died/);
    expect(existsSync(marker)).toBe(true);

    const { rmSync } = await import('node:fs');
    rmSync(marker);
    const dir = join(out, 'crash-retry');
    const retried = await runWorkflow(wf(2), { catalog: builtinCatalog, out: dir, workers: 2 });
    expect(retried.status).toBe('ok');
    expect(existsSync(marker)).toBe(true);
    expect(Number((await duckdb(`SELECT count(*) FROM '${join(dir, 'all.parquet')}'`))[0][0])).toBe(total);
    const log = readFileSync(join(dir, '.quiver', 'runs', retried.runId, 'log.jsonl'), 'utf8');
    expect(log).toMatch(/"event":"retry"/);
  });

  test('a worker thread that runs out of memory dies alone and its task is retried', async () => {
    const marker = join(out, 'hogged-once');
    const wf = workflow('hog', { baseDir: fixtures })
      .stage('gen', 'source.generate', gen)
      .stage('hog', './stages.ts#hogOnce', { marker }, { from: 'gen', retries: 1 })
      .stage('out', 'sink.parquet', { path: 'all.parquet' }, { from: 'hog' });
    const small = new LocalExecutor({ workers: 1, memoryLimitMb: 64 });
    const dir = join(out, 'hog');
    try {
      const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, executor: small });
      expect(summary.status, summary.error).toBe('ok');
    } finally {
      await small.close();
    }
    expect(existsSync(marker)).toBe(true);
    expect(Number((await duckdb(`SELECT count(*) FROM '${join(dir, 'all.parquet')}'`))[0][0])).toBe(total);
    const retry = readFileSync(join(dir, '.quiver', 'runs', readdirSync(join(dir, '.quiver', 'runs'))[0], 'log.jsonl'), 'utf8')
      .split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'retry');
    expect(retry.cause).toMatch(/worker thread died.*(memory|ERR_WORKER_OUT_OF_MEMORY)/i);
  });

  test('a stage that never returns is stopped by its timeout and the run fails, naming it', async () => {
    const wf = workflow('hang', { baseDir: fixtures })
      .stage('gen', 'source.generate', { ...gen, partitions: 1 })
      .stage('spin', './stages.ts#hang', {}, { from: 'gen', timeout: '1s' })
      .stage('out', 'sink.parquet', { path: 'all.parquet' }, { from: 'spin' });
    const started = Date.now();
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: join(out, 'hang'), workers: 2 });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/stage 'gen\+spin'.*timeout of 1s/);
    // Stopped by its 1 s timeout, not by the test's: generous, since starting worker threads on a
    // busy machine alone can take seconds.
    expect(Date.now() - started).toBeLessThan(90_000);
  });
});

describe('table.require', () => {
  const wf = (onError?: 'quarantine') => workflow('finite', { baseDir: fixtures })
    .stage('gen', 'source.generate', gen)
    .stage('logs', 'table.derive', { columns: { y: 'log(x - 0.5)' } }, { from: 'gen' })
    .stage('finite', 'table.require', { where: 'is_finite(y)' }, { from: 'logs', onError })
    .stage('out', 'sink.parquet', { path: 'finite.parquet' }, { from: 'finite' });

  test('rows with NaN or infinity are quarantined with the condition they broke; the rest go on', async () => {
    const dir = join(out, 'require');
    const summary = await runWorkflow(wf('quarantine'), { catalog: builtinCatalog, out: dir, executor });
    expect(summary.status).toBe('ok');
    const kept = await duckdb(`SELECT count(*), min(x) FROM '${join(dir, 'finite.parquet')}'`);
    const rejected = await duckdb(`SELECT count(*), max(x), count(DISTINCT _error), min(_error), bool_and(isnan(y) OR isinf(y)) FROM '${join(dir, '_quarantine', 'finite.parquet')}'`);
    expect(Number(kept[0][0]) + Number(rejected[0][0])).toBe(total);
    expect(Number(kept[0][1])).toBeGreaterThan(0.5);
    expect(Number(rejected[0][1])).toBeLessThanOrEqual(0.5);
    expect(rejected[0].slice(2)).toEqual([1n, 'does not satisfy is_finite(y)', true]);
    const stage = summary.stages.find((s) => s.id === 'finite')!;
    expect(stage).toMatchObject({ rowsIn: total, rowsOut: Number(kept[0][0]), quarantined: Number(rejected[0][0]) });
  });

  test('without onError the run fails naming the stage, the condition and rows by position (values may identify people)', async () => {
    const summary = await runWorkflow(wf(), { catalog: builtinCatalog, out: join(out, 'require-fail'), executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/^stage 'finite' on partition generated-00000: \d+ of the batch's \d+ rows do not satisfy is_finite\(y\) \(rows \d+(, \d+)*(, …)?, counting from 0\)$/);
  });
});
