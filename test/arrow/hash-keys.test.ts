import { Bool, Dictionary, Float64, Int32, Int64, Int8, TimestampMillisecond, Utf8, vectorFromArray, type Data, type DataType } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { KeyIndex } from '../../src/arrow/hash-keys.ts';
import { duckdb } from '../helpers.ts';
import { random, sqlTable, valuesOf } from '../stages/table/fixtures.ts';

const col = (type: DataType, values: unknown[]) => vectorFromArray(values as never, type).data[0] as Data;

/** Ids by first appearance, from a plain JS map over a canonical text of each key. */
function referenceIds(columns: unknown[][], nullsEqual: boolean): number[] {
  const seen = new Map<string, number>();
  return columns[0].map((_, row) => {
    const key = columns.map((c) => c[row]);
    if (!nullsEqual && key.some((v) => v === null)) return -1;
    const text = JSON.stringify(key.map((v) => (typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? 0 : Number.isNaN(v) ? 'NaN' : v)));
    if (!seen.has(text)) seen.set(text, seen.size);
    return seen.get(text)!;
  });
}

describe('KeyIndex', () => {
  const rand = random(3);
  const n = 5000;
  const pick = <T>(options: T[]) => options[Math.floor(rand() * options.length)];
  const a = Array.from({ length: n }, () => pick([null, 1, 2, 3, -1, 2147483647]));
  const b = Array.from({ length: n }, () => pick([null, 'x', 'y', '', 'é😀', 'long string '.repeat(3)]));
  const c = Array.from({ length: n }, () => pick([null, 0, -0, NaN, 1.5, Math.floor(rand() * 50) / 4]));
  const d = Array.from({ length: n }, () => pick([null, 2n ** 60n, 2n ** 60n + 1n, -5n, BigInt(Math.floor(rand() * 30))]));
  const e = Array.from({ length: n }, () => pick([null, true, false]));
  const types: DataType[] = [new Int32(), new Utf8(), new Float64(), new Int64(), new Bool()];
  const values = [a, b, c, d, e];

  test('ids by first appearance over several batches; null, NaN and -0 group like SQL', () => {
    const index = new KeyIndex(types, { nullsEqual: true });
    const ids: number[] = [];
    for (let start = 0; start < n; start += 777) {
      const end = Math.min(n, start + 777);
      ids.push(...index.insert(values.map((v, k) => col(types[k], v.slice(start, end)))));
    }
    const expected = referenceIds(values, true);
    expect(ids).toEqual(expected);
    expect(index.size).toBe(Math.max(...expected) + 1);
    // The keys come back in id order, with their types.
    const keys = index.keys();
    expect(keys.map((k) => String(k.type))).toEqual(types.map(String));
    const firstRow: number[] = [];
    expected.forEach((id, row) => { if (firstRow[id] === undefined) firstRow[id] = row; });
    keys.forEach((k, col) => {
      const got = valuesOf(k);
      firstRow.forEach((row, id) => {
        const want = values[col][row];
        if (typeof want === 'number' && Number.isNaN(want)) expect(got[id]).toBeNaN();
        else expect(got[id] === want || (want === 0 && got[id] === 0)).toBe(true);
      });
    });
  });

  test('the number of groups matches DuckDB', async () => {
    const index = new KeyIndex(types.slice(0, 4), { nullsEqual: true });
    index.insert(values.slice(0, 4).map((v, k) => col(types[k], v)));
    const [[count]] = await duckdb(`SELECT count(*) FROM (SELECT DISTINCT a, b, c, d FROM ${sqlTable({
      a: ['INTEGER', a], b: ['VARCHAR', b], c: ['DOUBLE', c], d: ['BIGINT', d],
    })})`);
    expect(index.size).toBe(Number(count));
  });

  test('without null equality, keys with a null get -1; lookup adds nothing', () => {
    const index = new KeyIndex([new Int32(), new Utf8()], { nullsEqual: false });
    const ids = index.insert([col(new Int32(), [1, null, 1, 2]), col(new Utf8(), ['a', 'a', 'a', null])]);
    expect([...ids]).toEqual([0, -1, 0, -1]);
    const found = index.lookup([col(new Int32(), [1, 1, 3, null]), col(new Utf8(), ['a', 'b', 'a', 'a'])]);
    expect([...found]).toEqual([0, -1, -1, -1]);
    expect(index.size).toBe(1);
  });

  test('dictionaries hash by value (different dictionaries, same ids) and come back decoded', () => {
    const type = new Dictionary(new Utf8(), new Int8());
    const index = new KeyIndex([type], { nullsEqual: true });
    expect([...index.insert([col(type, ['p', 'q', 'p', null])])]).toEqual([0, 1, 0, 2]);
    expect([...index.insert([col(type, ['q', 'r', null])])]).toEqual([1, 3, 2]);
    expect(String(index.keys()[0].type)).toBe('Utf8');
    expect(valuesOf(index.keys()[0])).toEqual(['p', 'q', null, 'r']);
  });

  test('many distinct keys (table growth), timestamps, sliced input', () => {
    const m = 100_000;
    const ts = new KeyIndex([new TimestampMillisecond('UTC')], { nullsEqual: true });
    const data = col(new TimestampMillisecond('UTC'), Array.from({ length: m }, (_, i) => (i % 50_000) * 1000));
    const ids = ts.insert([data.slice(10, m - 10)]);
    expect(ts.size).toBe(50_000);
    expect(ids[0]).toBe(0);
    expect(ids[50_000]).toBe(0);
    expect(valuesOf(ts.keys()[0])[1]).toBe(11_000n);
  });
});
