// A catalog of one's own reaches the worker threads: they import the module its reference names.
// Without a reference, or with one naming another catalog, the run fails saying so, never as a
// thread dying.
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog, builtinStages } from '../../src/stages/index.ts';
import { StageCatalog } from '../../src/workflow/catalog.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { negate, testCatalog } from '../fixtures/catalog.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const fixtures = join(repoRoot, 'test', 'fixtures');
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const out = scratchDir();
const gen = { partitions: 3, rows: 200, batchRows: 64, columns: { id: 'int64', x: 'float64' } };

const negating = () => workflow('negating', { baseDir: fixtures })
  .stage('gen', 'source.generate', gen)
  .stage('neg', 'test.negate', {}, { from: 'gen' })
  .stage('out', 'sink.parquet', { path: 'negated.parquet' }, { from: 'neg' });

describe('stage catalogs in worker threads', () => {
  test("a custom catalog's stage runs in the workers, by its name", async () => {
    const dir = join(out, 'custom');
    const summary = await runWorkflow(negating(), { catalog: testCatalog, out: dir, executor });
    expect(summary.status, summary.error).toBe('ok');
    const rows = await duckdb(`SELECT id, x, negated FROM '${join(dir, 'negated.parquet')}' ORDER BY id`);
    expect(rows).toHaveLength(gen.partitions * gen.rows);
    expect(rows.map((r) => Number(r[0]))).toEqual([...Array(gen.partitions * gen.rows).keys()]);
    expect(rows.every(([, x, negated]) => negated === -(x as number))).toBe(true);
    expect(summary.stages.find((s) => s.id === 'neg')).toMatchObject({ rowsIn: rows.length, rowsOut: rows.length });
  });

  test('a catalog without a module reference fails the run before any task, saying how to make one', async () => {
    const unreferenced = new StageCatalog([...builtinStages, negate]);
    const summary = await runWorkflow(negating(), { catalog: unreferenced, out: join(out, 'unreferenced'), executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/^this stage catalog has no module reference, so worker threads cannot load it/);
    expect(summary.error).toContain("new StageCatalog(stages, { module: import.meta.url, export: 'NAME' })");
    expect(summary.stages.every((s) => s.tasks === 0 && s.rowsOut === 0)).toBe(true);
  });

  test('a reference to a catalog that lacks the stage: an unknown stage of that stage, not a thread death', async () => {
    const misreferenced = new StageCatalog([...builtinStages, negate], builtinCatalog.requireRef());
    const summary = await runWorkflow(negating(), { catalog: misreferenced, out: join(out, 'misreferenced'), executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toBe("stage 'neg': unknown stage 'test.negate'");
  });

  test('a reference to an export that is not a catalog names the module and the export', async () => {
    const wrongExport = new StageCatalog([...builtinStages, negate], { module: testCatalog.requireRef().module, export: 'negate' });
    const summary = await runWorkflow(negating(), { catalog: wrongExport, out: join(out, 'wrong-export'), executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/^stage 'gen\+neg': .*test\/fixtures\/catalog\.ts exports no stage catalog named 'negate'$/);
  });
});

describe('the built-in catalog, lazy', () => {
  test('names exactly the built-in stages, and each loader gives that very stage', async () => {
    expect(builtinCatalog.names()).toEqual(builtinStages.map((s) => s.name).sort());
    for (const stage of builtinStages) expect(await builtinCatalog.resolve(stage.name, '.')).toBe(stage);
  });

  test('a loader that gives another stage is refused, naming both', async () => {
    const wrong = StageCatalog.lazy({ 'test.negate': async () => builtinStages[0] });
    await expect(wrong.resolve('test.negate', '.')).rejects.toThrow(`the stage catalog's loader for 'test.negate' gave the stage '${builtinStages[0].name}'`);
  });
});
