import { Field, FixedSizeList, Float32, Float64, LargeList, List, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { decodeBatches, encodeBatches } from '../../src/arrow/ipc.ts';
import { filterBatch, takeBatch } from '../../src/arrow/take.ts';

const rowsOf = (batches: Parameters<typeof takeBatch>[0][]) => new Table(batches).toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON())));

const table = new Table({
  s: vectorFromArray(['a', null, 'ccc', 'dd', 'e'], new Utf8()),
  l: vectorFromArray([[1, 2], [], null, [3], [4, 5, 6]], new List(new Field('item', new Float64(), true))),
  ll: vectorFromArray([[1], [2, 3], [], null, [4]], new LargeList(new Field('item', new Float64(), true))),
  f: vectorFromArray([1.5, 2.5, null, 4.5, 5.5], new Float64()),
  ts: vectorFromArray([0, 1000, 2000, null, 4000], new TimestampMillisecond('UTC')),
  b: vectorFromArray([true, false, null, true, false]),
  fl: vectorFromArray([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]], new FixedSizeList(2, new Field('item', new Float32(), true))),
});
const all = rowsOf(table.batches);

describe('take', () => {
  test('gathers rows of every type by index, repeats allowed, nulls kept', () => {
    const taken = takeBatch(table.batches[0], Int32Array.from([4, 2, 2, 0]));
    expect(rowsOf([taken])).toEqual([all[4], all[2], all[2], all[0]]);
  });

  test('honours slices (offsets into validity bits, values and children)', () => {
    const slice = table.batches[0].slice(1, 4);
    expect(rowsOf([takeBatch(slice, Int32Array.from([2, 0, 1]))])).toEqual([all[3], all[1], all[2]]);
    expect(rowsOf([filterBatch(slice, Uint8Array.from([1, 0, 1]))])).toEqual([all[1], all[3]]);
  });
});

describe('IPC bytes', () => {
  test('round-trip every type, including sliced and taken batches', () => {
    for (const batch of [table.batches[0], table.batches[0].slice(2, 3), takeBatch(table.batches[0], Int32Array.from([3, 1]))]) {
      const { schema, batches } = decodeBatches(encodeBatches(batch.schema, [batch]));
      expect(schema.fields.map((f) => String(f.type))).toEqual(batch.schema.fields.map((f) => String(f.type)));
      expect(rowsOf(batches)).toEqual(rowsOf([batch]));
    }
  });

  test('several batches in one stream come back in order', () => {
    const b = table.batches[0];
    const { batches } = decodeBatches(encodeBatches(b.schema, [b.slice(0, 2), b.slice(2, 5)]));
    expect(batches.map((x) => x.numRows)).toEqual([2, 3]);
    expect(rowsOf(batches)).toEqual(all);
  });
});
