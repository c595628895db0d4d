import {
  Bool, Dictionary, Field, FixedSizeList, Float64, Int16, Int32, Int64, LargeUtf8, List, Struct, TimestampMillisecond, Utf8,
  makeVector, vectorFromArray, type Data, type DataType,
} from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { concatData } from '../../src/arrow/concat.ts';
import { nullData } from '../../src/arrow/nulls.ts';
import { takeData } from '../../src/arrow/take.ts';
import { bytesOf, decodeDictionary, halves, isScalar, physicalOf, validBytes } from '../../src/arrow/values.ts';

const col = (type: DataType, values: unknown[]) => vectorFromArray(values as never, type).data[0] as Data;

describe('nullData', () => {
  const types: DataType[] = [
    new Int32(), new Float64(), new Bool(), new Utf8(), new LargeUtf8(), new TimestampMillisecond('UTC'),
    new List(new Field('item', new Int32(), true)), new FixedSizeList(3, new Field('item', new Float64(), true)),
    new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]), new Dictionary(new Utf8(), new Int16()),
  ];
  test.each(types.map((t) => [String(t), t] as const))('%s: all null, and concatenates and takes like any data', (_, type) => {
    const nulls = nullData(type, 5);
    expect(nulls.length).toBe(5);
    expect(nulls.nullCount).toBe(5);
    expect([...makeVector(nulls)].every((v) => v === null)).toBe(true);
    const taken = takeData(nulls, Int32Array.from([4, 0]));
    expect(taken.nullCount).toBe(2);
    expect(concatData([nullData(type, 2), nulls]).nullCount).toBe(7);
  });
});

describe('reading values', () => {
  test('physical kinds', () => {
    expect(physicalOf(new Int32())).toBe('number');
    expect(physicalOf(new Int64())).toBe('int64');
    expect(physicalOf(new TimestampMillisecond())).toBe('int64');
    expect(physicalOf(new Utf8())).toBe('bytes');
    expect(physicalOf(new List(new Field('item', new Int32())))).toBeUndefined();
    expect(isScalar(new Dictionary(new Utf8(), new Int32()))).toBe(true);
  });

  test('validity and halves respect slicing', () => {
    const data = col(new Int64(), [1n, null, -2n, 2n ** 40n]).slice(1, 3);
    expect([...validBytes(data)!]).toEqual([0, 1, 1]);
    const h = halves(data);
    expect([h[2], h[3]]).toEqual([-2, -1]);
    expect([h[4], h[5]]).toEqual([0, 256]);
    expect(validBytes(col(new Int32(), [1, 2]))).toBeNull();
  });

  test('large string offsets read as Int32', () => {
    const { offsets, bytes } = bytesOf(col(new LargeUtf8(), ['ab', 'c']));
    expect([...offsets]).toEqual([0, 2, 3]);
    expect(bytes.length).toBeGreaterThanOrEqual(3);
  });

  test('dictionaries decode to their values, nulls kept', () => {
    const decoded = decodeDictionary(col(new Dictionary(new Utf8(), new Int32()), ['b', null, 'a', 'b']).slice(1, 3));
    expect(String(decoded.type)).toBe('Utf8');
    expect([...makeVector(decoded)]).toEqual([null, 'a', 'b']);
  });
});
