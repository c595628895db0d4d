// 3. Memory: peak RSS of `quiver run` (one process: main thread and worker threads together) on
// Arrow IPC input in 1 M-row record batches (40 MB each: id int64 + four float64), 0.3 GB and
// 2.9 GB of it, derived and written to Parquet on 2 worker threads. The input is written with
// arrow-js directly, not by quiver. Each run is a process of its own started through the bin, as a
// user runs it: dist/ when `npm run build` compiled it from these sources, the sources (tsx)
// otherwise (`source` says which; QUIVER_FROM_SOURCE=1 forces the sources). The goal: a low peak
// that does not grow with the input. MEMORY_GENERATED=1 also runs the older case (1 GB and 10 GB
// from source.generate, filtered). MEMORY_BREAKDOWN=1 prints what the main thread held when
// resident memory was highest (peak-rss.mjs); the rest is worker threads, code and the allocator.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { Field, Float64, Int64, makeData, RecordBatch, RecordBatchFileWriter, Schema, Struct } from 'apache-arrow';
import { sourceStamp } from '../../src/cli/build-stamp.mjs';
import { benchDir, cleanup, mb, report } from './common.ts';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'src/cli/quiver.mjs');
const bytesPerRow = 40; // id int64 + four float64
const batchRows = 1 << 20;

interface Outcome { gigabytes: number; seconds: number; peakRssMb: number; atPeak?: Record<string, number> }

/** The Arrow IPC input: `gigabytes` of 1 M-row batches, written by arrow-js. */
async function writeInput(path: string, gigabytes: number): Promise<void> {
  const schema = new Schema<any>([new Field('id', new Int64(), false), ...['a', 'b', 'c', 'd'].map((n) => new Field(n, new Float64(), false))]);
  const writer = new RecordBatchFileWriter();
  const done = finished(writer.toNodeStream().pipe(createWriteStream(path)));
  const batches = Math.max(1, Math.round((gigabytes * 2 ** 30) / (bytesPerRow * batchRows)));
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let k = 0; k < batches; k++) {
    const id = new BigInt64Array(batchRows);
    for (let i = 0; i < batchRows; i++) id[i] = BigInt(k * batchRows + i);
    const children = [makeData({ type: new Int64(), length: batchRows, nullCount: 0, data: id }),
      ...[0, 1, 2, 3].map(() => makeData({ type: new Float64(), length: batchRows, nullCount: 0, data: Float64Array.from({ length: batchRows }, random) }))];
    writer.write(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batchRows, children })));
    await new Promise((resolve) => setImmediate(resolve)); // let the file stream drain
  }
  writer.finish();
  await done;
}

/** One `quiver run` of `workflowFile` (in `dir`) in a process of its own: its peak RSS and wall time. */
function runOnce(dir: string, workflowFile: string, gigabytes: number, label: string): Outcome {
  const peakFile = join(dir, 'peak-rss.json');
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--import', join(import.meta.dirname, 'peak-rss.mjs'), bin, 'run', workflowFile, '--out', 'out', '--no-cache', '--workers', '2'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, PEAK_RSS_FILE: peakFile } });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`memory benchmark (${label}) failed:\n${run.stderr}`);
  cleanup(join(dir, 'out'));
  const { peakRssMb, atPeak } = JSON.parse(readFileSync(peakFile, 'utf8')) as Outcome;
  console.log(`  ${label}: ${peakRssMb.toFixed(0)} MB in ${seconds.toFixed(1)} s${atPeak ? `; when RSS was highest (MB): ${JSON.stringify(atPeak)}` : ''}`);
  return { gigabytes, seconds, peakRssMb };
}

// Peaks vary from run to run (garbage collection timing, allocator state): the median of RUNS (3).
const runs = Number(process.env.RUNS ?? 3);
const median = (once: () => Outcome) => Array.from({ length: runs }, once).sort((a, b) => a.peakRssMb - b.peakRssMb)[Math.floor(runs / 2)];
const stampFile = join(root, 'dist/build-stamp.json');
const source = process.env.QUIVER_FROM_SOURCE !== '1' && existsSync(stampFile) && JSON.parse(readFileSync(stampFile, 'utf8')) === sourceStamp(root) ? 'dist' : 'tsx';

const work = benchDir();
const results: Outcome[] = [];
try {
  writeFileSync(join(work, 'wf.yaml'), [
    'name: memory',
    'stages:',
    '  - { id: in, use: source.arrow, with: { path: input.arrow } }',
    '  - { id: derive, use: table.derive, from: in, with: { columns: { s: "a + b * c" } } }',
    '  - { id: out, use: sink.parquet, from: derive, with: { path: out.parquet } }',
    '',
  ].join('\n'));
  for (const gb of (process.env.MEMORY_SIZES ?? '0.3,2.9').split(',').map(Number)) {
    const path = join(work, 'input.arrow');
    await writeInput(path, gb);
    const bytes = statSync(path).size;
    results.push(median(() => runOnce(work, 'wf.yaml', bytes / 2 ** 30, `Arrow IPC ${(bytes / 2 ** 30).toFixed(1)} GB (${mb(bytes).toFixed(0)} MB)`)));
    cleanup(path);
  }
  if (process.env.MEMORY_GENERATED) {
    const generated: Outcome[] = [];
    for (const gb of [1, 10]) {
      const rowsPerPartition = 1 << 22;
      const partitions = Math.ceil((gb * 2 ** 30) / bytesPerRow / rowsPerPartition);
      writeFileSync(join(work, `gen-${gb}.yaml`), [
        'name: memory-generated',
        'stages:',
        `  - { id: gen, use: source.generate, with: { partitions: ${partitions}, rows: ${rowsPerPartition}, batchRows: 65536, columns: { id: int64, a: float64, b: float64, c: float64, d: float64 } } }`,
        '  - { id: derive, use: table.derive, from: gen, with: { columns: { s: "a + b * c" } } }',
        '  - { id: keep, use: table.filter, from: derive, with: { where: "d < 0.5" } }',
        '  - { id: out, use: sink.parquet, from: keep, with: { path: out.parquet } }',
        '',
      ].join('\n'));
      generated.push(median(() => runOnce(work, `gen-${gb}.yaml`, (partitions * rowsPerPartition * bytesPerRow) / 2 ** 30, `generated ${gb} GB`)));
    }
    const [g1, g10] = generated;
    report('memory-generated', { source, smallGb: g1.gigabytes, largeGb: g10.gigabytes, smallPeakRssMb: g1.peakRssMb, largePeakRssMb: g10.peakRssMb, ratio: g10.peakRssMb / g1.peakRssMb, largeSeconds: g10.seconds },
      `memory (${source}), generated input: peak RSS ${g1.peakRssMb.toFixed(0)} MB for ${g1.gigabytes.toFixed(1)} GB, ${g10.peakRssMb.toFixed(0)} MB for ${g10.gigabytes.toFixed(1)} GB`);
  }
} finally {
  cleanup(work);
}
const [small, large] = [results[0], results.at(-1)!];
const ratio = large.peakRssMb / small.peakRssMb;
report('memory', {
  source, smallGb: small.gigabytes, largeGb: large.gigabytes, smallPeakRssMb: small.peakRssMb, largePeakRssMb: large.peakRssMb, ratio,
  smallSeconds: small.seconds, largeSeconds: large.seconds,
}, `memory (${source}), Arrow IPC (1 M-row batches) → derive → Parquet, 2 workers: peak RSS ${small.peakRssMb.toFixed(0)} MB for ${small.gigabytes.toFixed(1)} GB, `
  + `${large.peakRssMb.toFixed(0)} MB for ${large.gigabytes.toFixed(1)} GB (goal ≤ 500 MB and flat; ratio ${ratio.toFixed(2)}; ${large.gigabytes.toFixed(1)} GB in ${large.seconds.toFixed(1)} s)`);
