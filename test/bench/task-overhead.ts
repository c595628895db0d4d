// 1. Per-task overhead: 10,000 small partitions (10 rows each) through one map stage into one
// Arrow file, on a warm pool of 2 workers; the whole run's wall time divided by the task count.
import { workflow } from '../../src/workflow/builder.ts';
import { benchDir, cleanup, report, timedRun, warmExecutor } from './common.ts';

const tasks = Number(process.env.TASKS ?? 10_000);
const executor = await warmExecutor(2);
const dir = benchDir();
const wf = workflow('task-overhead')
  .stage('gen', 'source.generate', { partitions: tasks, rows: 10, columns: { id: 'int64', x: 'float64' } })
  .stage('derive', 'table.derive', { columns: { y: 'x * 2 + 1' } }, { from: 'gen' })
  .stage('out', 'sink.arrow', { path: 'out.arrow' }, { from: 'derive' });
await timedRun(wf, executor, dir); // warm-up: JIT and module caches
const runs = [];
for (let i = 0; i < 5; i++) runs.push(await timedRun(wf, executor, dir));
await executor.close();
cleanup(dir);
const { seconds, summary } = runs.sort((a, b) => a.seconds - b.seconds)[2]; // the median of five
const perTask = (seconds * 1e6) / tasks;
const derive = summary.stages.find((s) => s.id === 'derive')!;
report('task-overhead', { tasks, seconds, microsecondsPerTask: perTask }, `per-task overhead: ${tasks} tasks in ${seconds.toFixed(2)} s = ${perTask.toFixed(1)} µs per task (derive ran ${derive.tasks} tasks)`);
