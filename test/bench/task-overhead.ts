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
const median = <T extends { seconds: number }>(runs: T[]) => runs.sort((a, b) => a.seconds - b.seconds)[runs.length >> 1];
const runs = [];
for (let i = 0; i < 5; i++) runs.push(await timedRun(wf, executor, dir));
// With the task cache: filling it (a fresh folder each time: a stream and records per partition),
// then a rerun that finds every task cached.
const filling = [];
for (let i = 0; i < 3; i++) filling.push(await timedRun(wf, executor, `${dir}/cached-${i}`, { cache: true }));
const rerun = [];
for (let i = 0; i < 3; i++) rerun.push(await timedRun(wf, executor, `${dir}/cached-0`, { cache: true }));
await executor.close();
cleanup(dir);
const { seconds, summary } = median(runs);
const perTask = (seconds * 1e6) / tasks;
const fill = median(filling).seconds;
const cached = median(rerun);
const derive = summary.stages.find((s) => s.id === 'derive')!;
if (cached.summary.stages.some((s) => s.cached !== s.tasks)) throw new Error('the rerun computed something');
report('task-overhead', { tasks, seconds, microsecondsPerTask: perTask, cacheFillMicroseconds: (fill * 1e6) / tasks, cachedRerunMicroseconds: (cached.seconds * 1e6) / tasks },
  `per-task overhead: ${tasks} tasks in ${seconds.toFixed(2)} s = ${perTask.toFixed(1)} µs per task (goal ≤ 50; derive ran ${derive.tasks} tasks); ` +
  `filling the cache ${((fill * 1e6) / tasks).toFixed(1)} µs per task (goal ≤ 100); a cached rerun ${((cached.seconds * 1e6) / tasks).toFixed(1)} µs per task (goal ≤ 30)`);
