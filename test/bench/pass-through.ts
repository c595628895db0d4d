// 2. Pass-through: 20 M rows (4 float64 + 1 int32) from an Arrow IPC file, one derived column,
// into Parquet (snappy) — quiver, the bare libraries in one script (arrow-js + parquet-wasm,
// single thread, no engine), and DuckDB running the same query from a Parquet copy of the input.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { Field, Float64, Int32, makeData, RecordBatch, RecordBatchFileWriter, RecordBatchReader, Schema, Struct } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { encodeBatches } from '../../src/arrow/ipc.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { duckdb } from '../helpers.ts';
import { benchDir, cleanup, mb, report, timedRun, warmExecutor } from './common.ts';

const rows = Number(process.env.ROWS ?? 20_000_000);
const batchRows = 1 << 16;
const dir = benchDir();
const input = join(dir, 'input.arrow');

// The input, written with arrow-js directly (not by quiver).
const schema = new Schema<any>([...['a', 'b', 'c', 'd'].map((n) => new Field(n, new Float64(), false)), new Field('i', new Int32(), false)]);
{
  const writer = new RecordBatchFileWriter();
  const done = finished(writer.toNodeStream().pipe(createWriteStream(input)));
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let start = 0; start < rows; start += batchRows) {
    const n = Math.min(batchRows, rows - start);
    const columns = [0, 1, 2, 3].map(() => Float64Array.from({ length: n }, random));
    const children = [...columns.map((data) => makeData({ type: new Float64(), length: n, nullCount: 0, data })),
      makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from({ length: n }, (_, k) => start + k) })];
    writer.write(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, children })));
  }
  writer.finish();
  await done;
}

// quiver
const executor = await warmExecutor(2);
const wf = workflow('pass-through', { baseDir: dir })
  .stage('in', 'source.arrow', { path: 'input.arrow' })
  .stage('derive', 'table.derive', { columns: { s: 'a + b * c' } }, { from: 'in' })
  .stage('out', 'sink.parquet', { path: 'quiver.parquet', compression: 'snappy' }, { from: 'derive' });
const quiver = (await timedRun(wf, executor, join(dir, 'q'))).seconds;
await executor.close();

// The bare libraries: stream-read the IPC file, add the column, stream-write Parquet.
const bare = await (async () => {
  const started = performance.now();
  const reader = await RecordBatchReader.from(createReadStream(input));
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
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setMaxRowGroupSize(122_880).build();
  const out = createWriteStream(join(dir, 'bare.parquet'));
  for await (const chunk of (await pw.transformParquetStream(stream, props)) as unknown as AsyncIterable<Uint8Array>) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
  return (performance.now() - started) / 1000;
})();

// DuckDB, from a Parquet copy of the same input (it cannot read Arrow IPC files offline).
await duckdb(`COPY (SELECT * FROM '${join(dir, 'q', 'quiver.parquet')}') TO '${join(dir, 'input.parquet')}' (FORMAT PARQUET, COMPRESSION UNCOMPRESSED)`);
const duck = await (async () => {
  const started = performance.now();
  await duckdb(`SET threads = 2; COPY (SELECT a, b, c, d, i, a + b * c AS s FROM '${join(dir, 'input.parquet')}') TO '${join(dir, 'duck.parquet')}' (FORMAT PARQUET, COMPRESSION SNAPPY)`);
  return (performance.now() - started) / 1000;
})();

const [check] = await duckdb(`SELECT count(*), sum(s) FROM '${join(dir, 'q', 'quiver.parquet')}'`);
const [expected] = await duckdb(`SELECT count(*), sum(s) FROM '${join(dir, 'bare.parquet')}'`);
if (String(check) !== String(expected)) throw new Error(`quiver and the bare script disagree: ${check} vs ${expected}`);
const inputMb = mb(statSync(input).size);
cleanup(dir);
report('pass-through', { rows, inputMb, quiver, bare, duckdb: duck, bareOverQuiver: bare / quiver, quiverOverDuckdb: quiver / duck },
  `pass-through ${rows / 1e6} M rows (${inputMb.toFixed(0)} MB IPC): quiver ${quiver.toFixed(2)} s, bare libraries ${bare.toFixed(2)} s (ratio ${(bare / quiver).toFixed(2)}, goal ≥ 0.7), DuckDB ${duck.toFixed(2)} s (quiver/DuckDB ${(quiver / duck).toFixed(2)}×, goal ≤ 2)`);
