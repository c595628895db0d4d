// 3. Memory: peak RSS of the same workflow on 1 GB and on 10 GB of generated input. Each size runs
// in its own process (worker threads included), so the peaks are independent.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { workflow } from '../../src/workflow/builder.ts';
import { benchDir, cleanup, report, timedRun, warmExecutor } from './common.ts';

const bytesPerRow = 40; // id int64 + four float64
const child = process.argv.indexOf('--child');
if (child >= 0) {
  const gigabytes = Number(process.argv[child + 1]);
  const rows = Math.round((gigabytes * 2 ** 30) / bytesPerRow);
  const rowsPerPartition = 1 << 22;
  const partitions = Math.ceil(rows / rowsPerPartition);
  const executor = await warmExecutor(2);
  const dir = benchDir();
  const wf = workflow('memory')
    .stage('gen', 'source.generate', { partitions, rows: rowsPerPartition, batchRows: 1 << 16, columns: { id: 'int64', a: 'float64', b: 'float64', c: 'float64', d: 'float64' } })
    .stage('derive', 'table.derive', { columns: { s: 'a + b * c' } }, { from: 'gen' })
    .stage('keep', 'table.filter', { where: 'd < 0.5' }, { from: 'derive' })
    .stage('out', 'sink.parquet', { path: 'out.parquet' }, { from: 'keep' });
  const { seconds, summary } = await timedRun(wf, executor, dir);
  await executor.close();
  cleanup(dir);
  const rowsRead = summary.stages[0].rowsOut;
  console.log(JSON.stringify({ gigabytes: (rowsRead * bytesPerRow) / 2 ** 30, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
} else {
  const self = fileURLToPath(import.meta.url);
  const results = [1, 10].map((gb) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', String(gb)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`memory benchmark (${gb} GB) failed:\n${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { gigabytes: number; seconds: number; peakRssMb: number };
  });
  const [small, large] = results;
  const ratio = large.peakRssMb / small.peakRssMb;
  report('memory', { smallGb: small.gigabytes, largeGb: large.gigabytes, smallPeakRssMb: small.peakRssMb, largePeakRssMb: large.peakRssMb, ratio, largeSeconds: large.seconds },
    `memory: peak RSS ${small.peakRssMb.toFixed(0)} MB for ${small.gigabytes.toFixed(1)} GB, ${large.peakRssMb.toFixed(0)} MB for ${large.gigabytes.toFixed(1)} GB (ratio ${ratio.toFixed(2)}, goal within ±20 %); 10 GB took ${large.seconds.toFixed(0)} s`);
}
