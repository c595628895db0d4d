import {
  Bool, Dictionary, Field, FixedSizeList, Float64, Int32, Int64, Int8, LargeUtf8, List, Null, Struct, TimestampMillisecond, Utf8,
  makeData, makeVector, vectorFromArray, type Data, type DataType,
} from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { concatBatches, concatData } from '../../src/arrow/concat.ts';
import { batchOf, rowsOf } from '../stages/table/fixtures.ts';

const json = (d: Data) => JSON.stringify([...makeVector(d)], (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
const col = (type: DataType, values: unknown[]) => vectorFromArray(values as never, type).data[0] as Data;

/** Concatenating slices must equal slicing the whole. */
function checkSlices(type: DataType, values: unknown[]) {
  const whole = col(type, values);
  const cuts = [[0, 1], [1, 4], [4, 4], [4, values.length]];
  const parts = cuts.map(([a, b]) => whole.slice(a, b - a));
  const joined = concatData(parts);
  expect(joined.length).toBe(values.length);
  expect(joined.offset).toBe(0);
  expect(json(joined)).toBe(json(whole));
  expect(joined.nullCount).toBe(values.filter((v) => v === null).length);
}

describe('concatData', () => {
  test('fixed width with nulls, sliced at odd bit offsets', () => {
    checkSlices(new Int32(), [1, null, 3, 4, null, 6, 7, 8, 9, null, 11]);
    checkSlices(new Float64(), [1.5, null, NaN, -0, 5, 6, null, 8, 9]);
    checkSlices(new Int64(), [1n, -2n, null, 2n ** 62n, 5n, null, 7n]);
    checkSlices(new TimestampMillisecond('UTC'), [0, 1000, null, 3000, 4000, 5000]);
  });

  test('bools (bits addressed from the offset)', () => {
    checkSlices(new Bool(), [true, false, null, true, true, false, null, false, true, true, false]);
  });

  test('strings, large strings', () => {
    checkSlices(new Utf8(), ['a', null, 'ccc', '', 'dd', 'é€😀', null, 'last']);
    checkSlices(new LargeUtf8(), ['a', null, 'ccc', '', 'dd', 'é€😀', null, 'last']);
  });

  test('lists, fixed-size lists, structs', () => {
    checkSlices(new List(new Field('item', new Int32(), true)), [[1, 2], [], null, [3], [4, 5, 6], [7]]);
    checkSlices(new FixedSizeList(2, new Field('item', new Float64(), true)), [[1, 2], [3, 4], null, [5, 6], [7, 8], [9, 10]]);
    const struct = new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]);
    checkSlices(struct, [{ a: 1, b: 'x' }, { a: null, b: 'y' }, null, { a: 4, b: null }, { a: 5, b: 'z' }]);
  });

  test('dictionaries: shared dictionaries are kept, different ones merged', () => {
    const type = new Dictionary(new Utf8(), new Int8());
    const a = col(type, ['x', 'y', null, 'x']);
    const b = col(type, ['z', 'x']);
    const merged = concatData([a, b]);
    expect(json(merged)).toBe(JSON.stringify(['x', 'y', null, 'x', 'z', 'x']));
    const shared = concatData([a.slice(0, 2), a.slice(2, 2)]);
    expect(shared.dictionary).toBe(a.dictionary);
    expect(json(shared)).toBe(json(a));
  });

  test('null type', () => {
    const n = makeData({ type: new Null(), length: 3 });
    expect(concatData([n, n]).length).toBe(6);
  });
});

describe('concatBatches', () => {
  test('one batch of all rows, zero batches give an empty batch', () => {
    const a = batchOf({ x: [new Int32(), [1, 2]], s: [new Utf8(), ['a', null]] });
    const b = batchOf({ x: [new Int32(), [3]], s: [new Utf8(), ['c']] });
    expect(rowsOf(concatBatches(a.schema, [a, b]))).toEqual([[1, 'a'], [2, null], [3, 'c']]);
    expect(concatBatches(a.schema, []).numRows).toBe(0);
  });
});
