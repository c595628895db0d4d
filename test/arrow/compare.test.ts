import { Bool, Dictionary, Float32, Float64, Int32, Int64, Int8, TimestampMicrosecond, Uint32, Uint64, Utf8, vectorFromArray, type Data, type DataType } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { sortIndices, type SortKey } from '../../src/arrow/compare.ts';
import { duckdb } from '../helpers.ts';
import { dataOf, random, sqlTable } from '../stages/table/fixtures.ts';

const col = (type: DataType, values: unknown[]) => vectorFromArray(values as never, type).data[0] as Data;
const order = (keys: SortKey[], n: number) => [...sortIndices(keys, n)];

const rand = random(7);
const n = 300;
const pick = <T>(options: T[]) => options[Math.floor(rand() * options.length)];
const floats = Array.from({ length: n }, () => pick([null, NaN, Infinity, -Infinity, 0, -0, 1.5, -2.25, 1e300, rand() * 10 - 5, rand()]));
const ints = Array.from({ length: n }, () => pick([null, 0, 1, -1, 2147483647, -2147483648, Math.floor(rand() * 20) - 10]));
const bigs = Array.from({ length: n }, () => pick([null, 0n, -1n, 2n ** 62n, -(2n ** 62n), 2n ** 40n + 1n, 2n ** 40n, -(2n ** 32n), BigInt(Math.floor(rand() * 100))]));
const texts = Array.from({ length: n }, () => pick([null, '', 'a', 'A', 'ab', 'b', 'é', '€', '😀', '\uFF21', 'a\t', 'zz', 'z']));
const bools = Array.from({ length: n }, () => pick([null, true, false]));

/** Row ids in DuckDB's order for ORDER BY `orderBy`, ties by row id (our sort is stable). */
async function reference(columns: Record<string, [string, unknown[]]>, orderBy: string): Promise<number[]> {
  const ids = Array.from({ length: n }, (_, i) => i);
  const rows = await duckdb(`SELECT id FROM ${sqlTable({ id: ['INTEGER', ids], ...columns })} ORDER BY ${orderBy}, id`);
  return rows.map((r) => r[0] as number);
}

describe('sortIndices against DuckDB', () => {
  test('float64 with NaN, infinities, -0 and nulls, both directions', async () => {
    const data = col(new Float64(), floats);
    expect(order([{ data }], n)).toEqual(await reference({ k: ['DOUBLE', floats] }, 'k ASC NULLS LAST'));
    expect(order([{ data, descending: true }], n)).toEqual(await reference({ k: ['DOUBLE', floats] }, 'k DESC NULLS LAST'));
    expect(order([{ data, nullsFirst: true }], n)).toEqual(await reference({ k: ['DOUBLE', floats] }, 'k ASC NULLS FIRST'));
  });

  test('int32 extremes, int64 beyond 2^53 (exact), uint32', async () => {
    expect(order([{ data: col(new Int32(), ints) }], n)).toEqual(await reference({ k: ['INTEGER', ints] }, 'k'));
    expect(order([{ data: col(new Int64(), bigs), descending: true, nullsFirst: true }], n))
      .toEqual(await reference({ k: ['BIGINT', bigs] }, 'k DESC NULLS FIRST'));
    const unsigned = ints.map((v) => (v === null ? null : v >>> 0));
    expect(order([{ data: col(new Uint32(), unsigned) }], n)).toEqual(await reference({ k: ['UINTEGER', unsigned] }, 'k'));
  });

  test('strings by bytes (code point order, not UTF-16), bools', async () => {
    expect(order([{ data: col(new Utf8(), texts) }], n)).toEqual(await reference({ k: ['VARCHAR', texts] }, 'k'));
    expect(order([{ data: col(new Utf8(), texts), descending: true }], n)).toEqual(await reference({ k: ['VARCHAR', texts] }, 'k DESC'));
    expect(order([{ data: col(new Bool(), bools) }], n)).toEqual(await reference({ k: ['BOOLEAN', bools] }, 'k'));
  });

  test('several keys mixing kinds, directions and null placement', async () => {
    const keys: SortKey[] = [
      { data: col(new Bool(), bools), nullsFirst: true },
      { data: col(new Utf8(), texts), descending: true },
      { data: col(new Float64(), floats) },
    ];
    expect(order(keys, n)).toEqual(await reference(
      { a: ['BOOLEAN', bools], b: ['VARCHAR', texts], c: ['DOUBLE', floats] },
      'a ASC NULLS FIRST, b DESC NULLS LAST, c ASC NULLS LAST',
    ));
  });
});

describe('sortIndices', () => {
  test('is stable: equal keys keep input order', () => {
    const data = col(new Int32(), [2, 1, 2, 1, 2]);
    expect(order([{ data }], 5)).toEqual([1, 3, 0, 2, 4]);
    expect(order([{ data, descending: true }], 5)).toEqual([0, 2, 4, 1, 3]);
  });

  test('float32, int8, uint64 above 2^63, timestamps, dictionaries, sliced data', () => {
    expect(order([{ data: col(new Float32(), [1.5, NaN, -1, null]) }], 4)).toEqual([2, 0, 1, 3]);
    expect(order([{ data: col(new Int8(), [-128, 127, 0]) }], 3)).toEqual([0, 2, 1]);
    const u = dataOf(new Uint64(), new BigUint64Array([2n ** 63n, 1n, 2n ** 64n - 1n]));
    expect(order([{ data: u }], 3)).toEqual([1, 0, 2]);
    const ts = dataOf(new TimestampMicrosecond(), new BigInt64Array([5n, -5n, 0n]));
    expect(order([{ data: ts }], 3)).toEqual([1, 2, 0]);
    const dict = col(new Dictionary(new Utf8(), new Int32()), ['b', 'a', null, 'c', 'a']);
    expect(order([{ data: dict }], 5)).toEqual([1, 4, 0, 3, 2]);
    const sliced = col(new Int32(), [9, 9, 3, null, 1]).slice(2, 3);
    expect(order([{ data: sliced }], 3)).toEqual([2, 0, 1]);
  });
});
