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
  const timeline: number[] = [];
  // RSS_TIMELINE=1 prints resident memory every 2 s, to tell a plateau from a creep.
  const { wasmMemory } = await import('parquet-wasm');
  const rssTimer = process.env.RSS_TIMELINE ? setInterval(() => timeline.push(`${Math.round(process.memoryUsage().rss / 2 ** 20)}/${wasmMemory().buffer.byteLength >> 20}/${Math.round(process.memoryUsage().arrayBuffers / 2 ** 20)}` as never), 2000) : undefined;
  const { seconds, summary } = await timedRun(wf, executor, dir);
  clearInterval(rssTimer);
  if (timeline.length) console.error(`rss timeline (MB, every 2 s): ${timeline.join(' ')}`);
  await executor.close();
  cleanup(dir);
  const rowsRead = summary.stages[0].rowsOut;
  console.log(JSON.stringify({ gigabytes: (rowsRead * bytesPerRow) / 2 ** 30, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
} else {
  const self = fileURLToPath(import.meta.url);
  const runOnce = (gb: number, env: Record<string, string> = {}) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', String(gb)], { encoding: 'utf8', env: { ...process.env, ...env } });
    if (run.status !== 0) throw new Error(`memory benchmark (${gb} GB) failed:\n${run.stderr}`);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { gigabytes: number; seconds: number; peakRssMb: number };
    console.log(`  ${gb} GB${Object.keys(env).length ? ` (${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}: ${JSON.stringify(result)}`);
    return result;
  };
  // Peaks vary from run to run (garbage collection timing, allocator state): the median of three.
  const median = (gb: number) => [runOnce(gb), runOnce(gb), runOnce(gb)].sort((a, b) => a.peakRssMb - b.peakRssMb)[1];
  const [small, large] = [median(1), median(10)];
  // What quiver itself holds is bounded (edge budgets, request window, writer queue). What grows
  // beyond that is memory glibc keeps for reuse; made to return it (a fixed trim threshold), the
  // allocator shows the engine's own footprint, at the price of page faults.
  const trim = { MALLOC_TRIM_THRESHOLD_: String(64 << 20) };
  const [smallTrimmed, largeTrimmed] = [runOnce(1, trim), runOnce(10, trim)];
  const ratio = large.peakRssMb / small.peakRssMb;
  const trimmedRatio = largeTrimmed.peakRssMb / smallTrimmed.peakRssMb;
  report('memory', {
    smallGb: small.gigabytes, largeGb: large.gigabytes, smallPeakRssMb: small.peakRssMb, largePeakRssMb: large.peakRssMb, ratio,
    largeSeconds: large.seconds, trimmedSmallPeakRssMb: smallTrimmed.peakRssMb, trimmedLargePeakRssMb: largeTrimmed.peakRssMb, trimmedRatio,
    trimmedLargeSeconds: largeTrimmed.seconds,
  }, `memory: peak RSS ${small.peakRssMb.toFixed(0)} MB for ${small.gigabytes.toFixed(1)} GB, ${large.peakRssMb.toFixed(0)} MB for ${large.gigabytes.toFixed(1)} GB`
    + ` (ratio ${ratio.toFixed(2)}, goal within ±20 %; 10 GB in ${large.seconds.toFixed(0)} s);`
    + ` with glibc trimming ${smallTrimmed.peakRssMb.toFixed(0)} / ${largeTrimmed.peakRssMb.toFixed(0)} MB (ratio ${trimmedRatio.toFixed(2)}; 10 GB in ${largeTrimmed.seconds.toFixed(0)} s)`);
}
