import {
  Binary, Bool, DateDay, Dictionary, Field, Float32, Float64, Int16, Int32, Int64, Int8, List, TimestampMicrosecond,
  TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint64, Uint8, Utf8, vectorFromArray, Null, makeData, type Data, type DataType,
} from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { canCast, castData, CastError } from '../../src/arrow/cast.ts';
import { parseType } from '../../src/arrow/types.ts';
import { duckdb } from '../helpers.ts';
import { dataOf, valuesOf } from '../stages/table/fixtures.ts';

const col = (type: DataType, values: unknown[]) => vectorFromArray(values as never, type).data[0] as Data;
const cast = (data: Data, to: string) => valuesOf(castData(data, parseType(to), 'c'));
const fails = (data: Data, to: string) => () => castData(data, parseType(to), 'c');

describe('numeric casts are safe', () => {
  test('values that fit convert; nulls stay null', () => {
    expect(cast(col(new Int64(), [1n, null, -128n, 127n]), 'int8')).toEqual([1, null, -128, 127]);
    expect(cast(col(new Float64(), [3, -0, null, 2 ** 40]), 'int64')).toEqual([3n, 0n, null, 2n ** 40n]);
    expect(cast(col(new Int32(), [7, null]), 'float64')).toEqual([7, null]);
    expect(cast(col(new Float64(), [0.1, null]), 'float32')).toEqual([Math.fround(0.1), null]);
    expect(cast(col(new Int64(), [2n ** 53n, -(2n ** 60n)]), 'float64')).toEqual([2 ** 53, -(2 ** 60)]);
    expect(cast(col(new Uint64(), [2n ** 63n - 1n]), 'int64')).toEqual([2n ** 63n - 1n]);
    expect(cast(col(new Int16(), [255, 0]), 'uint8')).toEqual([255, 0]);
  });

  test('overflow is an error naming the column, the row and the value', () => {
    expect(fails(col(new Int64(), [1n, 300n]), 'int8')).toThrow(CastError);
    expect(fails(col(new Int64(), [1n, 300n]), 'int8')).toThrow("cannot cast column 'c' to int8: row 1 of the batch, value 300, which does not fit in int8");
    expect(fails(col(new Int32(), [-1]), 'uint8')).toThrow('value -1');
    expect(fails(col(new Uint64(), [2n ** 64n - 1n]), 'int64')).toThrow('value 18446744073709551615');
    expect(fails(col(new Float64(), [1e300]), 'float32')).toThrow('overflows float32');
    expect(fails(col(new Float64(), [1e19]), 'int64')).toThrow('does not fit in int64');
  });

  test('a lost fraction or lost precision is an error', () => {
    expect(fails(col(new Float64(), [1, 2.5]), 'int32')).toThrow('row 1 of the batch, value 2.5, which has a fraction');
    expect(fails(col(new Float64(), [NaN]), 'int32')).toThrow('not a finite number');
    expect(fails(col(new Int64(), [2n ** 53n + 1n]), 'float64')).toThrow('value 9007199254740993, which float64 cannot represent exactly');
    expect(fails(col(new Int32(), [16777217]), 'float32')).toThrow('float32 cannot represent exactly');
  });

  test('a null slot holding an out-of-range value is not checked', () => {
    const data = dataOf(new Int32(), new Int32Array([1, 1000]), [true, false]);
    expect(cast(data, 'int8')).toEqual([1, null]);
  });

  test('bool <-> integer', () => {
    expect(cast(col(new Bool(), [true, false, null]), 'int32')).toEqual([1, 0, null]);
    expect(cast(col(new Int64(), [0n, 5n, -(2n ** 62n), null]), 'bool')).toEqual([false, true, true, null]);
  });
});

describe('text parses', () => {
  const numbers = ['1', ' -17 ', '+42', '9007199254740993', '-9223372036854775808'];
  const floats = ['1.5', '-0.5e-3', '1e3', '.25', '7', ' 3.25 ', '-1E+2'];

  test('integers and floats as DuckDB parses them', async () => {
    const [ints] = await duckdb(`SELECT ${numbers.map((s) => `CAST('${s}' AS BIGINT)`).join(', ')}`);
    expect(cast(col(new Utf8(), numbers), 'int64')).toEqual(ints);
    const [doubles] = await duckdb(`SELECT ${floats.map((s) => `CAST('${s}' AS DOUBLE)`).join(', ')}`);
    expect(cast(col(new Utf8(), floats), 'float64')).toEqual(doubles);
    expect(cast(col(new Utf8(), ['nan', 'Infinity', '-inf', null]), 'float64')).toEqual([NaN, Infinity, -Infinity, null]);
  });

  test('timestamps (ISO 8601, offsets, fractions) and dates as DuckDB parses them', async () => {
    const texts = ['2020-02-29T12:34:56.123456Z', '1969-12-31 23:59:59.5', '2021-06-01T10:00:00+02:00', '1900-01-01', '2262-04-11T23:47:16Z', '0001-01-01T00:00:00-0130'];
    const [us] = await duckdb(`SELECT ${texts.map((t) => `epoch_us(CAST('${t}' AS TIMESTAMPTZ))`).join(', ')}`);
    expect(cast(col(new Utf8(), texts), 'timestamp[us, UTC]')).toEqual([1582979696123456n, ...(us as bigint[]).slice(1)]);
    expect(cast(col(new Utf8(), ['2020-02-29T12:34:56.123456789Z']), 'timestamp[ns, UTC]')).toEqual([1582979696123456789n]);
    const dates = ['1970-01-01', '2024-02-29', '0001-01-01', '9999-12-31', '1969-12-31'];
    const [days] = await duckdb(`SELECT ${dates.map((d) => `DATE '${d}' - DATE '1970-01-01'`).join(', ')}`);
    expect(cast(col(new Utf8(), dates), 'date32')).toEqual((days as bigint[]).map(Number));
    expect(cast(col(new Utf8(), ['2020-01-01T00:00:01.5Z']), 'timestamp[ms]')).toEqual([1577836801500n]);
  });

  test('booleans', () => {
    expect(cast(col(new Utf8(), ['true', 'F', 'yes', '0', ' TRUE ', null]), 'bool')).toEqual([true, false, true, false, true, null]);
  });

  test('unparseable text is an error naming the column and the value', () => {
    expect(fails(col(new Utf8(), ['1', 'abc']), 'int32')).toThrow("cannot cast column 'c' to int32: row 1 of the batch, value 'abc', which is not an integer");
    expect(fails(col(new Utf8(), ['1.5']), 'int32')).toThrow("value '1.5'");
    expect(fails(col(new Utf8(), ['']), 'float64')).toThrow('is not a number');
    expect(fails(col(new Utf8(), ['99999999999']), 'int32')).toThrow('does not fit in int32');
    expect(fails(col(new Utf8(), ['2021-02-29']), 'date32')).toThrow("value '2021-02-29', which is not a calendar date");
    expect(fails(col(new Utf8(), ['yesterday']), 'timestamp[ms, UTC]')).toThrow('is not an ISO 8601 timestamp');
    expect(fails(col(new Utf8(), ['2020-01-01T00:00:00.5']), 'timestamp[s]')).toThrow('has more precision than seconds');
    expect(fails(col(new Utf8(), ['maybe']), 'bool')).toThrow("value 'maybe'");
  });
});

describe('to text', () => {
  test('numbers as JS prints them, int64 exactly, float32 shortest', () => {
    expect(cast(col(new Float64(), [1.5, 0.1, 1e21, NaN, -Infinity, -0, null]), 'utf8')).toEqual(['1.5', '0.1', '1e+21', 'NaN', '-Infinity', '0', null]);
    expect(cast(col(new Int64(), [2n ** 63n - 1n, -(2n ** 63n), 5n]), 'utf8')).toEqual(['9223372036854775807', '-9223372036854775808', '5']);
    expect(cast(col(new Float32(), [0.1, 16777216, 3.4028234663852886e38]), 'utf8')).toEqual(['0.1', '16777216', '3.4028235e+38']);
    expect(cast(col(new Bool(), [true, false, null]), 'utf8')).toEqual(['true', 'false', null]);
  });

  test('timestamps in ISO 8601 with Z (digits of the unit), dates as YYYY-MM-DD', () => {
    expect(cast(dataOf(new TimestampNanosecond('UTC'), new BigInt64Array([1582979696123456789n, -1n])), 'utf8'))
      .toEqual(['2020-02-29T12:34:56.123456789Z', '1969-12-31T23:59:59.999999999Z']);
    expect(cast(dataOf(new TimestampMillisecond(), new BigInt64Array([0n, -62135596800000n])), 'utf8'))
      .toEqual(['1970-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z']);
    expect(cast(dataOf(new TimestampSecond('Europe/Paris'), new BigInt64Array([253402300799n])), 'utf8')).toEqual(['9999-12-31T23:59:59Z']);
    expect(cast(dataOf(new DateDay(), new Int32Array([0, 19782, -1])), 'utf8')).toEqual(['1970-01-01', '2024-02-29', '1969-12-31']);
  });

  test('dictionaries decode; binary must be UTF-8', () => {
    expect(cast(col(new Dictionary(new Utf8(), new Int32()), ['7', null, '8', '7']), 'int16')).toEqual([7, null, 8, 7]);
    const bin = (bytes: number[][]) => {
      const offsets = new Int32Array(bytes.length + 1);
      bytes.forEach((b, i) => (offsets[i + 1] = offsets[i] + b.length));
      return dataOf(new Binary(), new Uint8Array(bytes.flat()), undefined).clone(new Binary(), 0, bytes.length, 0, [offsets, new Uint8Array(bytes.flat())] as never);
    };
    expect(cast(bin([[104, 105]]), 'utf8')).toEqual(['hi']);
    expect(fails(bin([[104], [0xff]]), 'utf8')).toThrow('row 1 of the batch is not valid UTF-8');
  });
});

describe('time casts', () => {
  test('unit changes are exact; a lost fraction or overflow is an error', () => {
    const ms = dataOf(new TimestampMillisecond('UTC'), new BigInt64Array([1500n, -1n]));
    expect(cast(ms, 'timestamp[ns, UTC]')).toEqual([1500000000n, -1000000n]);
    expect(cast(dataOf(new TimestampMicrosecond(), new BigInt64Array([3000n, -5000n])), 'timestamp[ms]')).toEqual([3n, -5n]);
    expect(fails(ms, 'timestamp[s, UTC]')).toThrow('row 0 of the batch, value 1500, which timestamp[s, UTC] cannot hold without losing precision');
    expect(fails(dataOf(new TimestampSecond(), new BigInt64Array([32503680000n])), 'timestamp[ns]')).toThrow('does not fit in timestamp[ns]');
  });

  test('a time zone change keeps the instant', () => {
    const utc = dataOf(new TimestampMillisecond('UTC'), new BigInt64Array([123n]));
    const paris = castData(utc, parseType('timestamp[ms, Europe/Paris]'), 'c');
    expect(valuesOf(paris)).toEqual([123n]);
    expect((paris.type as TimestampMillisecond).timezone).toBe('Europe/Paris');
  });

  test('date32 <-> timestamp (the UTC day, floored), integers as epoch counts', () => {
    expect(cast(dataOf(new DateDay(), new Int32Array([1, -1])), 'timestamp[s]')).toEqual([86400n, -86400n]);
    expect(cast(dataOf(new TimestampMillisecond(), new BigInt64Array([86400000n + 5n, -1n, 0n])), 'date32')).toEqual([1, -1, 0]);
    expect(cast(col(new Int32(), [1000, null]), 'timestamp[ms, UTC]')).toEqual([1000n, null]);
    expect(cast(dataOf(new TimestampMicrosecond(), new BigInt64Array([42n])), 'int64')).toEqual([42n]);
  });

  test('sliced input', () => {
    const data = col(new Int64(), [1000n, 2n, null, 4n]).slice(1, 3);
    expect(cast(data, 'int8')).toEqual([2, null, 4]);
    expect(cast(data, 'utf8')).toEqual(['2', null, '4']);
  });
});

describe('canCast', () => {
  const can = (from: DataType, to: string) => canCast(from, parseType(to));
  test('supported and unsupported pairs', () => {
    expect(can(new Int32(), 'float64')).toBe(true);
    expect(can(new Utf8(), 'timestamp[us, UTC]')).toBe(true);
    expect(can(new Uint8(), 'bool')).toBe(true);
    expect(can(new List(new Field('item', new Int32())), 'utf8')).toBe(false);
    expect(can(new Utf8(), 'list<int32>')).toBe(false);
    expect(can(new Float64(), 'timestamp[ms]')).toBe(false);
    expect(can(new Float64(), 'bool')).toBe(false);
    expect(can(new Int8(), 'binary')).toBe(false);
    expect(can(new Null(), 'list<int32>')).toBe(true);
  });

  test('a null column casts to any type, all null', () => {
    expect(cast(makeData({ type: new Null(), length: 2 }), 'timestamp[ms, UTC]')).toEqual([null, null]);
  });
});
