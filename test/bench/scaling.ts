// 4. Scaling: a CPU-bound map stage on 1 and on 2 worker threads, same input; speed-up = t1 / t2.
import { join } from 'node:path';
import { workflow } from '../../src/workflow/builder.ts';
import { benchDir, cleanup, report, timedRun, warmExecutor } from './common.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const wf = workflow('scaling', { baseDir: fixtures })
  .stage('gen', 'source.generate', { partitions: 16, rows: 40_000, batchRows: 10_000, columns: { id: 'int64', x: 'float64' } })
  .stage('burn', './stages.ts#burn', { rounds: 400 }, { from: 'gen' })
  .stage('out', 'sink.arrow', { path: 'out.arrow' }, { from: 'burn' });
const times: Record<number, number> = {};
for (const workers of [1, 2]) {
  const executor = await warmExecutor(workers);
  const dir = benchDir();
  await timedRun(wf, executor, dir);
  times[workers] = (await timedRun(wf, executor, dir)).seconds;
  await executor.close();
  cleanup(dir);
}
const speedup = times[1] / times[2];
report('scaling', { oneWorker: times[1], twoWorkers: times[2], speedup }, `scaling: 1 worker ${times[1].toFixed(2)} s, 2 workers ${times[2].toFixed(2)} s, speed-up ${speedup.toFixed(2)}× (goal ≥ 1.85)`);
