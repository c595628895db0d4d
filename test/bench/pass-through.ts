// 2. Pass-through: 20 M rows (4 float64 + 1 int32) from an Arrow IPC file, one derived column,
// into Parquet (snappy) — by quiver, by the bare libraries in one script (arrow-js + parquet-wasm,
// single thread, no engine), and by DuckDB running the same query from a Parquet copy of the input
// (it cannot read Arrow IPC files offline). Each contender runs in a fresh process of its own.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Field, Float64, Int32, makeData, RecordBatch, RecordBatchFileWriter, RecordBatchReader, Schema, Struct } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { encodeBatches } from '../../src/arrow/ipc.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { duckdb } from '../helpers.ts';
import { benchDir, cleanup, mb, report, timedRun, warmExecutor } from './common.ts';

const schema = new Schema<any>([...['a', 'b', 'c', 'd'].map((n) => new Field(n, new Float64(), false)), new Field('i', new Int32(), false)]);
const [, , role, dir] = process.argv;

/** The input, written with arrow-js directly (not by quiver). */
async function writeInput(path: string, rows: number) {
  const writer = new RecordBatchFileWriter();
  const done = finished(writer.toNodeStream().pipe(createWriteStream(path)));
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let start = 0; start < rows; start += 1 << 16) {
    const n = Math.min(1 << 16, rows - start);
    const children = [...[0, 1, 2, 3].map(() => makeData({ type: new Float64(), length: n, nullCount: 0, data: Float64Array.from({ length: n }, random) })),
      makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from({ length: n }, (_, k) => start + k) })];
    writer.write(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, children })));
  }
  writer.finish();
  await done;
}

async function runQuiver(): Promise<number> {
  const executor = await warmExecutor(2);
  const wf = workflow('pass-through', { baseDir: dir })
    .stage('in', 'source.arrow', { path: 'input.arrow' })
    .stage('derive', 'table.derive', { columns: { s: 'a + b * c' } }, { from: 'in' })
    .stage('out', 'sink.parquet', { path: 'quiver.parquet', compression: 'snappy' }, { from: 'derive' });
  const { seconds } = await timedRun(wf, executor, join(dir, 'q'));
  await executor.close();
  return seconds;
}

/** Stream-read the IPC file, add the column, stream-write Parquet: the libraries and nothing else. */
async function runBare(): Promise<number> {
  const started = performance.now();
  const reader = await RecordBatchReader.from(createReadStream(join(dir, 'input.arrow')));
  const outSchema = new Schema([...schema.fields, new Field('s', new Float64(), false)]);
  const batches = (async function* () {
    for await (const batch of reader) {
      const [a, b, c] = ['a', 'b', 'c'].map((n) => batch.getChild(n)!.data[0].values as Float64Array);
      const s = new Float64Array(batch.numRows);
      for (let k = 0; k < s.length; k++) s[k] = a[k] + b[k] * c[k];
      const children = [...batch.data.children, makeData({ type: new Float64(), length: s.length, nullCount: 0, data: s })];
      yield new RecordBatch(outSchema, makeData({ type: new Struct(outSchema.fields), length: s.length, children }));
    }
  })();
  const stream = new ReadableStream({
    async pull(controller) {
      const next = await batches.next();
      if (next.done) controller.close();
      else controller.enqueue(pw.Table.fromIPCStream(encodeBatches(outSchema, [next.value])).recordBatch(0));
    },
  });
  // The same writer settings quiver uses by default, so the two write the same kind of file.
  let builder = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setMaxRowGroupSize(122_880).setDictionaryPageSizeLimit(128 * 1024);
  for (const f of outSchema.fields) if (f.type instanceof Float64) builder = builder.setColumnDictionaryEnabled(f.name, false);
  const out = createWriteStream(join(dir, 'bare.parquet'));
  for await (const chunk of (await pw.transformParquetStream(stream, builder.build())) as unknown as AsyncIterable<Uint8Array>) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
  return (performance.now() - started) / 1000;
}

async function runDuckdb(): Promise<number> {
  const started = performance.now();
  await duckdb(`SET threads = 2; COPY (SELECT a, b, c, d, i, a + b * c AS s FROM '${join(dir, 'input.parquet')}') TO '${join(dir, 'duck.parquet')}' (FORMAT PARQUET, COMPRESSION SNAPPY)`);
  return (performance.now() - started) / 1000;
}

if (role) {
  const seconds = await ({ quiver: runQuiver, bare: runBare, duckdb: runDuckdb }[role]!)();
  console.log(JSON.stringify({ seconds }));
} else {
  const rows = Number(process.env.ROWS ?? 20_000_000);
  const work = benchDir();
  await writeInput(join(work, 'input.arrow'), rows);
  const inputMb = mb(statSync(join(work, 'input.arrow')).size);
  const self = fileURLToPath(import.meta.url);
  const time = (who: string) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', self, who, work], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${who} failed:\n${run.stderr}`);
    return (JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { seconds: number }).seconds;
  };
  const quiver = time('quiver');
  const bare = time('bare');
  await duckdb(`COPY (SELECT a, b, c, d, i FROM '${join(work, 'q', 'quiver.parquet')}') TO '${join(work, 'input.parquet')}' (FORMAT PARQUET, COMPRESSION UNCOMPRESSED)`);
  const duck = time('duckdb');
  // Same rows and values from quiver and the bare script (sums loosely: DuckDB adds in parallel, in any order).
  const [ours] = await duckdb(`SELECT count(*), sum(s), min(s), max(s), sum(i) FROM '${join(work, 'q', 'quiver.parquet')}'`);
  const [theirs] = await duckdb(`SELECT count(*), sum(s), min(s), max(s), sum(i) FROM '${join(work, 'bare.parquet')}'`);
  const agree = ours.every((v, k) => (k === 1 ? Math.abs(Number(v) - Number(theirs[k])) <= 1e-9 * Math.abs(Number(theirs[k])) : String(v) === String(theirs[k])));
  cleanup(work);
  if (!agree) throw new Error(`quiver and the bare script disagree: ${ours} vs ${theirs}`);
  report('pass-through', { rows, inputMb, quiver, bare, duckdb: duck, bareOverQuiver: bare / quiver, quiverOverDuckdb: quiver / duck },
    `pass-through ${rows / 1e6} M rows (${inputMb.toFixed(0)} MB IPC): quiver ${quiver.toFixed(2)} s, bare libraries ${bare.toFixed(2)} s (ratio ${(bare / quiver).toFixed(2)}, goal ≥ 0.7), DuckDB ${duck.toFixed(2)} s (quiver/DuckDB ${(quiver / duck).toFixed(2)}×, goal ≤ 1.5)`);
}
