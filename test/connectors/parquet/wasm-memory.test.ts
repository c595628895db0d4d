// parquet-wasm's linear memory grows to the most it ever held and never shrinks: sink.parquet hands
// it a big batch in slices, so one 48 MB batch does not leave 48 MB (and more) behind for the run.
// A file of its own, so that this module's parquet-wasm instance has seen nothing else.
import { join } from 'node:path';
import { Field, Float64, Int32, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { wasmMemory } from 'parquet-wasm';
import { expect, test } from 'vitest';
import { parquetSink } from '../../../connectors/parquet/sink.ts';
import { duckdb, scratchDir } from '../../helpers.ts';

test('one big batch goes through parquet-wasm in slices: its memory stays far below the batch', async () => {
  const rows = 4 << 20; // id int32 + x float64: 48 MiB
  const schema = new Schema([new Field('id', new Int32(), false), new Field('x', new Float64(), false)]);
  const id = Int32Array.from({ length: rows }, (_, i) => i);
  const x = Float64Array.from(id, (v) => v / 2);
  const batch = new RecordBatch(schema, makeData({
    type: new Struct(schema.fields), length: rows, nullCount: 0,
    children: [makeData({ type: new Int32(), length: rows, data: id }), makeData({ type: new Float64(), length: rows, data: x })],
  }));
  const out = join(scratchDir(), 'big-batch');
  const writer = await parquetSink.open(parquetSink.params.parse({ path: 'big.parquet' }), { schema, outDir: out, stageId: 'out' });
  await writer.startPartition({ index: 0, key: 'p' });
  await writer.write(batch);
  await writer.endPartition({ index: 0, key: 'p' });
  await writer.commit();
  expect(wasmMemory().buffer.byteLength).toBeLessThan(24 << 20);
  expect(await duckdb(`SELECT count(*), sum(id)::BIGINT FROM '${join(out, 'big.parquet')}'`)).toEqual([[BigInt(rows), BigInt((rows * (rows - 1)) / 2)]]);
});
