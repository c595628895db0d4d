// The direct IPC codec against two other implementations: Arrow JS's reader and writer, and
// arrow-rs (inside parquet-wasm), which verifies the flatbuffers it reads.
import {
  Binary, Bool, DateDay, Field, FixedSizeList, Float32, Float64, Int16, Int64, Int8, List, RecordBatch,
  RecordBatchStreamWriter, Schema, Struct, Table, TimestampMicrosecond, Uint32, Utf8, makeData, tableFromIPC, vectorFromArray,
} from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { describe, expect, test } from 'vitest';
import { decodeBatches, encodeBatches } from '../../src/arrow/ipc.ts';

const n = 37;
const pick = <T>(i: number, v: T) => (i % 5 === 3 ? null : v);
const columns = {
  i8: vectorFromArray(Array.from({ length: n }, (_, i) => pick(i, (i % 200) - 100)), new Int8()),
  i16: vectorFromArray(Array.from({ length: n }, (_, i) => i * 300 - 5000), new Int16()),
  u32: vectorFromArray(Array.from({ length: n }, (_, i) => pick(i, i * 100_000)), new Uint32()),
  i64: vectorFromArray(Array.from({ length: n }, (_, i) => pick(i, BigInt(i) * 1_000_000_000_007n)), new Int64()),
  f32: vectorFromArray(Array.from({ length: n }, (_, i) => i / 3), new Float32()),
  f64: vectorFromArray(Array.from({ length: n }, (_, i) => pick(i, Math.sqrt(i))), new Float64()),
  bool: vectorFromArray(Array.from({ length: n }, (_, i) => pick(i, i % 3 === 0)), new Bool()),
  text: vectorFromArray(Array.from({ length: n }, (_, i) => pick(i, `row ${i} ${'é'.repeat(i % 4)}`)), new Utf8()),
  bytes: vectorFromArray(Array.from({ length: n }, (_, i) => Uint8Array.from({ length: i % 5 }, (_, k) => k + i)), new Binary()),
  day: vectorFromArray(Array.from({ length: n }, (_, i) => pick(i, new Date(Date.UTC(2020, 0, 1 + i)))), new DateDay()),
  ts: vectorFromArray(Array.from({ length: n }, (_, i) => pick(i, 1_600_000_000_000 + i)), new TimestampMicrosecond('UTC')),
  list: vectorFromArray(Array.from({ length: n }, (_, i) => pick(i, Array.from({ length: i % 4 }, (_, k) => i + k / 10))), new List(new Field('item', new Float64(), true))),
  tensor: vectorFromArray(Array.from({ length: n }, (_, i) => [i, i + 0.5, i + 1]), new FixedSizeList(3, new Field('item', new Float32(), false))),
};
const base = new Table(columns).batches[0];
const point = new Struct([new Field('x', new Float64(), true), new Field('label', new Utf8(), true)]);
const schema = new Schema([...base.schema.fields, new Field('point', point, true)]);
const pointData = makeData({ type: point, length: n, nullCount: 0, children: [columns.f64.data[0], columns.text.data[0]] });
const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, children: [...base.data.children, pointData] }));
const rows = (batches: RecordBatch[]) => new Table(batches).toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v)));

describe('IPC codec', () => {
  const cases = { whole: batch, 'sliced at bit 3': batch.slice(3, 20), 'sliced at bit 8': batch.slice(8, 29) };
  for (const [name, b] of Object.entries(cases)) {
    test(`${name}: Arrow JS reads what we write, we read what Arrow JS writes`, () => {
      const ours = encodeBatches(b.schema, [b]);
      expect(rows(tableFromIPC(ours).batches)).toEqual(rows([b]));
      const theirs = RecordBatchStreamWriter.writeAll(new Table([b])).toUint8Array(true);
      expect(rows(decodeBatches(theirs).batches)).toEqual(rows([b]));
    });
  }

  test('arrow-rs accepts our bytes and gives back the same rows', () => {
    const ours = encodeBatches(batch.schema, [batch, batch.slice(5, 11)]);
    const viaRust = pw.Table.fromIPCStream(ours).intoIPCStream();
    expect(rows(decodeBatches(viaRust).batches)).toEqual(rows([batch, batch.slice(5, 11)]));
  });
});
