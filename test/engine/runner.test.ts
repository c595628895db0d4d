// End-to-end runs through worker threads, checked against closed-form expectations:
// source.generate numbers its rows 0..n-1, so sums and orders are known exactly.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { planWorkflow } from '../../src/engine/plan.ts';
import { resolveWorkflow, runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const fixtures = join(repoRoot, 'test', 'fixtures');
// One pool for the file: starting worker threads is the slow part of a small run.
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const out = scratchDir();
const read = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
const gen = (partitions: number, rows: number, batchRows = 1000) =>
  ({ partitions, rows, batchRows, columns: { id: 'int64', x: 'float64' } });

describe('runner', () => {
  test('a linear pipeline keeps partition and row order and counts every row', async () => {
    const dir = join(out, 'linear');
    const wf = workflow('linear', { baseDir: fixtures })
      .stage('gen', 'source.generate', gen(37, 2500, 700))
      .stage('dbl', './stages.ts#double', {}, { from: 'gen' })
      .stage('rec', './stages.ts#record', { name: 'rec' }, { from: 'dbl' });
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, workers: 2 });
    expect(summary.status).toBe('ok');
    const rec = read(dir, 'rec');
    const n = 37 * 2500;
    expect(rec.partitions.map((p: { index: number }) => p.index)).toEqual([...Array(37).keys()]);
    expect(rec.partitions.every((p: { rows: number }) => p.rows === 2500)).toBe(true);
    expect(rec.idsAscending).toBe(true);
    expect(rec.sums.id).toBe((n * (n - 1)) / 2);
    expect(rec.sums.doubled).toBeCloseTo(2 * rec.sums.x, 6);
    const byId = Object.fromEntries(summary.stages.map((s) => [s.id, s]));
    expect(byId.gen).toMatchObject({ tasks: 37, rowsOut: n });
    expect(byId.dbl).toMatchObject({ tasks: 37, rowsIn: n, rowsOut: n });
    expect(byId.rec).toMatchObject({ tasks: 37, rowsIn: n });
  });

  test('adjacent map stages fuse into one segment; fan-out stays in it and reads the source once', async () => {
    const wf = workflow('fanout', { baseDir: fixtures })
      .stage('gen', 'source.generate', gen(5, 1000))
      .stage('a', './stages.ts#double', {}, { from: 'gen' })
      .stage('b', './stages.ts#double', { column: 'doubled' }, { from: 'a' })
      .stage('c', './stages.ts#burn', { rounds: 1 }, { from: 'gen' })
      .stage('recB', './stages.ts#record', { name: 'b' }, { from: 'b' })
      .stage('recC', './stages.ts#record', { name: 'c' }, { from: 'c' })
      .stage('recGen', './stages.ts#record', { name: 'gen' }, { from: 'gen' });
    const plan = planWorkflow(await resolveWorkflow(wf, { catalog: builtinCatalog }));
    const segments = plan.nodes.filter((n) => n.kind === 'segment');
    expect(segments).toHaveLength(1);
    expect(segments[0].kind === 'segment' && segments[0].exits.sort()).toEqual(['b', 'c', 'gen']);
    expect(plan.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual(['b->recB', 'c->recC', 'gen->recGen']);

    const dir = join(out, 'fanout');
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, executor });
    expect(summary.status).toBe('ok');
    const gen5 = summary.stages.find((s) => s.id === 'gen')!;
    expect(gen5.rowsOut).toBe(5000); // read once, though three branches use it
    expect(read(dir, 'b').sums.doubled).toBeCloseTo(4 * read(dir, 'gen').sums.x, 6);
    expect(read(dir, 'c').partitions).toHaveLength(5);
  });

  test('a reduce runs once over all partitions in order; maps after it run in workers', async () => {
    const dir = join(out, 'reduce');
    const wf = workflow('reduce', { baseDir: fixtures })
      .stage('gen', 'source.generate', gen(12, 300, 64))
      .stage('tally', './stages.ts#tally', {}, { from: 'gen' })
      .stage('dbl', './stages.ts#double', { column: 'sum' }, { from: 'tally' })
      .stage('rec', './stages.ts#record', { name: 'tally' }, { from: 'dbl' });
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, executor });
    expect(summary.status).toBe('ok');
    const tally = summary.stages.find((s) => s.id === 'tally')!;
    expect(tally).toMatchObject({ tasks: 1, rowsIn: 3600, rowsOut: 1 });
    expect(summary.stages.find((s) => s.id === 'dbl')).toMatchObject({ tasks: 1, rowsIn: 1, rowsOut: 1 });
    const rec = read(dir, 'tally');
    expect(rec.sums.rows).toBe(3600);
    expect(rec.sums.doubled).toBe(2 * rec.sums.sum);
    expect(rec.partitions).toEqual([{ index: 0, key: 'tally', rows: 1 }]);

  });

  test('two branches of one source meeting again in a two-input stage do not deadlock (the edge spills)', async () => {
    const dir = join(out, 'diamond');
    const wf = workflow('diamond', { baseDir: fixtures })
      .stage('gen', 'source.generate', gen(8, 50_000, 10_000))
      .stage('left', './stages.ts#double', {}, { from: 'gen' })
      .stage('joined', './stages.ts#withTotal', {}, { from: ['left', 'gen'] })
      .stage('rec', './stages.ts#record', { name: 'joined' }, { from: 'joined' });
    const plan = planWorkflow(await resolveWorkflow(wf, { catalog: builtinCatalog }));
    expect(plan.edges.filter((e) => e.to === 'joined').every((e) => e.spill)).toBe(true);
    // A budget far below one source's worth of batches: without spilling this would wait for ever.
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, executor, edgeBudgetBytes: 64 << 10 });
    expect(summary.status).toBe('ok');
    const rec = read(dir, 'joined');
    expect(rec.sums.total / 400_000).toBeCloseTo(rec.sums.x, 6); // every row carries the grand total of x
    expect(rec.partitions).toHaveLength(8);
    expect(readdirSync(join(dir, '.quiver')).includes('tmp') ? readdirSync(join(dir, '.quiver', 'tmp')) : []).toEqual([]);
  });

  test('batches bigger than an edge\'s budget reach the consumer in slices that fit it, in order', async () => {
    const dir = join(out, 'big-batches');
    // 100,000-row batches of id int64 + x float64: 1.6 MB each, against a 256 KiB edge budget.
    const wf = workflow('big-batches', { baseDir: fixtures })
      .stage('gen', 'source.generate', gen(3, 200_000, 100_000))
      .stage('dbl', './stages.ts#double', {}, { from: 'gen' })
      .stage('rec', './stages.ts#record', { name: 'rec' }, { from: 'dbl' });
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, executor, edgeBudgetBytes: 256 << 10 });
    expect(summary.status).toBe('ok');
    const rec = read(dir, 'rec');
    expect(rec.maxBatchBytes).toBeGreaterThan(0);
    expect(rec.maxBatchBytes).toBeLessThanOrEqual(128 << 10);
    expect(rec.partitions.map((p: { rows: number }) => p.rows)).toEqual([200_000, 200_000, 200_000]);
    expect(rec.idsAscending).toBe(true);
    const n = 600_000;
    expect(rec.sums.id).toBe((n * (n - 1)) / 2);
  });

  test('a failing stage fails the run with its id and partition, and leaves no output', async () => {
    const dir = join(out, 'failing');
    const wf = workflow('failing', { baseDir: fixtures })
      .stage('gen', 'source.generate', gen(4, 100))
      .stage('dbl', './stages.ts#double', { fail: true }, { from: 'gen' })
      .stage('rec', './stages.ts#record', { name: 'rec' }, { from: 'dbl' });
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/stage 'dbl' on partition generated-0000\d: asked to fail/);
    expect(existsSync(join(dir, 'rec.json'))).toBe(false);
    const manifest = JSON.parse(readFileSync(summary.manifest, 'utf8'));
    expect(manifest.status).toBe('failed');
  });

  test('the run record names the workflow, params, stage versions, outputs and runtime', async () => {
    const dir = join(out, 'record');
    const wf = workflow('recorded', { baseDir: fixtures, params: { rows: 10 } })
      .stage('gen', 'source.generate', { ...gen(2, 10), rows: '${params.rows}' })
      .stage('rec', './stages.ts#record', { name: 'r' }, { from: 'gen' });
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, executor, set: ['rows=25'] });
    const manifest = JSON.parse(readFileSync(summary.manifest, 'utf8'));
    expect(manifest).toMatchObject({ status: 'ok', runId: summary.runId, params: { rows: 25 }, workflow: { name: 'recorded' } });
    expect(manifest.stages.map((s: { id: string; version: string }) => `${s.id}@${s.version}`)).toEqual(['gen@1', 'rec@1']);
    expect(manifest.stages[0].params.rows).toBe(25);
    expect(manifest.runtime.node).toBe(process.version);
    expect(manifest.packages['apache-arrow']).toMatch(/^21\./);
    expect(read(dir, 'r').sums.id).toBe((50 * 49) / 2);
    expect(existsSync(join(dir, '.quiver', 'runs', summary.runId, 'log.jsonl'))).toBe(true);
  });
});
