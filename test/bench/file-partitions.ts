// 9. Per file-partition cost: FILES one-row CSV files → derive → Parquet, each file a partition,
// on a warm pool of 2 workers; without the task cache, then with it (filling a fresh folder), then
// a rerun that finds every task cached. Whole-run wall time divided by the file count.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workflow } from '../../src/workflow/builder.ts';
import { benchDir, cleanup, report, timedRun, warmExecutor } from './common.ts';

const files = Number(process.env.FILES ?? 10_000);
const dir = benchDir();
mkdirSync(join(dir, 'in'));
for (let i = 0; i < files; i++) writeFileSync(join(dir, 'in', `f${String(i).padStart(5, '0')}.csv`), `id,x\n${i},${i + 0.5}\n`);
const executor = await warmExecutor(2);
const wf = workflow('file-partitions', { baseDir: dir })
  .stage('in', 'source.csv', { path: 'in/*.csv' })
  .stage('derive', 'table.derive', { columns: { y: 'x * 2 + 1' } }, { from: 'in' })
  .stage('out', 'sink.parquet', { path: 'out.parquet' }, { from: 'derive' });
const best = <T extends { seconds: number }>(runs: T[]) => runs.sort((a, b) => a.seconds - b.seconds)[0];
await timedRun(wf, executor, join(dir, 'warm'));
const uncached = [];
for (let i = 0; i < 3; i++) uncached.push(await timedRun(wf, executor, join(dir, `u${i}`)));
const filling = [];
for (let i = 0; i < 3; i++) filling.push(await timedRun(wf, executor, join(dir, `c${i}`), { cache: true }));
const rerun = [];
for (let i = 0; i < 3; i++) rerun.push(await timedRun(wf, executor, join(dir, 'c0'), { cache: true }));
await executor.close();
cleanup(dir);
if (best(rerun).summary.stages.some((s) => s.cached !== s.tasks)) throw new Error('the rerun computed something');
const per = (runs: { seconds: number }[]) => (best(runs).seconds * 1e6) / files;
report('file-partitions', { files, uncachedMicroseconds: per(uncached), cacheFillMicroseconds: per(filling), cachedRerunMicroseconds: per(rerun) },
  `per file-partition (${files} one-row CSV files → derive → Parquet): no cache ${per(uncached).toFixed(0)} µs (goal ≤ 150), ` +
  `filling the cache ${per(filling).toFixed(0)} µs (goal ≤ 250), a cached rerun ${per(rerun).toFixed(0)} µs`);
