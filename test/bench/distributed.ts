// 8. Distributed runs through NATS JetStream (a nats-server of its own, worker processes, a folder
// store): the per-task overhead of tiny tasks (one partition of 10 rows each) on one worker process
// of 2 threads against the local executor's 2 threads, and a CPU-bound workflow on 1 and on 2 worker processes of 1 thread each.
// Every run uses a new seed: a task already done in the broker's KV would not be computed again.
import { join } from 'node:path';
import { NatsExecutor } from '../../src/engine/executors/nats.ts';
import type { Executor } from '../../src/engine/task.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { haveNatsServer, quiver, startNats, stopAll } from '../distributed/processes.ts';
import { benchDir, cleanup, report, timedRun, warmExecutor } from './common.ts';

if (!haveNatsServer) {
  console.log('distributed: no nats-server on PATH (or in NATS_SERVER): skipped');
  process.exit(0);
}
const tasks = Number(process.env.TASKS ?? 500);
// Both executors present this concurrency to the engine, so that each tiny partition is a request of
// its own (the engine groups partitions when there are many per worker) and as many are in flight.
const inFlight = 64;
const fixtures = join(import.meta.dirname, '..', 'fixtures');
const tiny = (seed: number) => workflow('tiny', { baseDir: fixtures })
  .stage('gen', 'source.generate', { partitions: tasks, rows: 10, seed, columns: { id: 'int64', x: 'float64' } })
  .stage('derive', 'table.derive', { columns: { y: 'x * 2 + 1' } }, { from: 'gen' })
  .stage('out', 'sink.arrow', { path: 'out.arrow' }, { from: 'derive' });
const cpuBound = (seed: number) => workflow('cpu-bound', { baseDir: fixtures })
  .stage('gen', 'source.generate', { partitions: 16, rows: 40_000, batchRows: 10_000, seed, columns: { id: 'int64', x: 'float64' } })
  .stage('burn', './stages.ts#burn', { rounds: 400 }, { from: 'gen' })
  .stage('out', 'sink.arrow', { path: 'out.arrow' }, { from: 'burn' });

const dir = benchDir();
let seed = 0;
try {
  const url = await startNats(dir);
  const store = join(dir, 'store');
  const worker = (threads: number) => quiver('worker', '--nats', url, '--store', store, '--threads', String(threads)).says(/^worker: nats:/m);

  // Tiny tasks: the second of two runs on each (the first warms threads, modules and the JIT).
  const threads = await warmExecutor(2);
  const local: Executor = { concurrency: inFlight, run: (request, options) => threads.run(request, options), close: () => threads.close() };
  await timedRun(tiny(seed++), local, join(dir, `run-${seed}`));
  const localSeconds = (await timedRun(tiny(seed++), local, join(dir, `run-${seed}`))).seconds;
  await local.close();
  await worker(2);
  let nats = await NatsExecutor.connect({ url, store, concurrency: inFlight });
  await timedRun(tiny(seed++), nats, join(dir, `run-${seed}`));
  const natsSeconds = (await timedRun(tiny(seed++), nats, join(dir, `run-${seed}`))).seconds;
  await nats.close();
  await stopAll(); // the 2-thread worker and the server go; the CPU-bound part starts afresh
  const cpuUrl = await startNats(join(dir, 'cpu'));
  const cpuWorker = () => quiver('worker', '--nats', cpuUrl, '--store', store, '--threads', '1').says(/^worker: nats:/m);

  // CPU-bound: 1 worker process, then a second one joins; best of 2 runs after a warm-up. The
  // seconds the stage's own code took in all (`cpu`) rise when other processes share the cores.
  const cpu: Record<number, { seconds: number; stageSeconds: number }> = {};
  for (const workers of [1, 2]) {
    await cpuWorker();
    nats = await NatsExecutor.connect({ url: cpuUrl, store, concurrency: workers });
    await timedRun(cpuBound(seed++), nats, join(dir, `run-${seed}`));
    for (let i = 0; i < 2; i++) {
      const { seconds, summary } = await timedRun(cpuBound(seed++), nats, join(dir, `run-${seed}`));
      const stageSeconds = summary.stages.find((s) => s.id === 'burn')!.seconds;
      if (!cpu[workers] || seconds < cpu[workers].seconds) cpu[workers] = { seconds, stageSeconds };
    }
    await nats.close();
  }
  const perTask = (seconds: number) => (seconds * 1e6) / tasks;
  const speedup = cpu[1].seconds / cpu[2].seconds;
  report('distributed', {
    tasks, localMicrosecondsPerTask: perTask(localSeconds), natsMicrosecondsPerTask: perTask(natsSeconds),
    cpuBoundOneWorker: cpu[1].seconds, cpuBoundTwoWorkers: cpu[2].seconds, speedup, stageSecondsOneWorker: cpu[1].stageSeconds, stageSecondsTwoWorkers: cpu[2].stageSeconds,
  }, `distributed: ${tasks} tiny tasks, local 2 threads ${perTask(localSeconds).toFixed(0)} µs per task, ` +
    `through NATS to 1 worker of 2 threads ${perTask(natsSeconds).toFixed(0)} µs per task; CPU-bound: 1 worker process ` +
    `${cpu[1].seconds.toFixed(2)} s (stage code ${cpu[1].stageSeconds.toFixed(2)} s), 2 worker processes ${cpu[2].seconds.toFixed(2)} s ` +
    `(stage code ${cpu[2].stageSeconds.toFixed(2)} s), speed-up ${speedup.toFixed(2)}×`);
} finally {
  await stopAll();
  cleanup(dir);
}
