import {
  Bool, Dictionary, Field, Float32, Float64, Int16, Int32, Int64, Int8, List, TimestampMillisecond, Uint64, Utf8, type RecordBatch,
} from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { aggregate } from '../../../src/stages/table/aggregate.ts';
import { ColumnTypeError, MissingColumnError, SchemaError } from '../../../src/workflow/errors.ts';
import { duckdb } from '../../helpers.ts';
import { batchOf, dataOf, random, rowsOf, runReduce, schemaOf, sqlTable } from './fixtures.ts';

/** Cells equal: numbers to 1e-12 relative (NaN equals NaN), everything else exactly. */
function expectClose(actual: unknown[][], expected: unknown[][]) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, r) => row.forEach((a, c) => {
    const e = expected[r][c];
    if (typeof a === 'number' && typeof e === 'number') {
      if (Number.isNaN(e) || !Number.isFinite(e)) expect(a, `row ${r} column ${c}`).toBe(e);
      else expect(Math.abs(a - e), `row ${r} column ${c}: ${a} vs ${e}`).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(a), Math.abs(e)));
    } else {
      expect(a, `row ${r} column ${c}`).toEqual(e);
    }
  }));
}

const rand = random(5);
const n = 3000;
const pick = <T>(options: T[]) => options[Math.floor(rand() * options.length)];
const ids = Array.from({ length: n }, (_, i) => i);
const g = Array.from({ length: n }, () => pick([null, 1, 2, 3, 4, 5, -7]));
const s = Array.from({ length: n }, () => pick([null, 'red', 'green', 'blue', '']));
const i32 = Array.from({ length: n }, () => pick([null, 2147483647, -2147483648, Math.floor(rand() * 1000) - 500]));
const i64 = Array.from({ length: n }, () => pick([null, 2n ** 50n + 3n, -(2n ** 49n), BigInt(Math.floor(rand() * 1e6))]));
const y = Array.from({ length: n }, () => pick([null, rand() * 1e6, -rand(), 1e-3 * rand(), 12345.678]));
const x = Array.from({ length: n }, () => pick([null, NaN, -Infinity, rand() * 10, -rand()]));
const t = Array.from({ length: n }, () => pick([null, -5000, 0, Math.floor(rand() * 1e12)]));
const b = Array.from({ length: n }, () => pick([null, true, false]));
const w = Array.from({ length: n }, () => pick([null, 'α', 'b', 'ab', 'zz', 'Z']));

function batches(size: number): RecordBatch[][] {
  const out: RecordBatch[] = [];
  for (let start = 0; start < n; start += size) {
    const end = Math.min(n, start + size);
    const slice = <T>(a: T[]) => a.slice(start, end);
    out.push(batchOf({
      id: [new Int32(), slice(ids)], g: [new Int16(), slice(g)], s: [new Utf8(), slice(s)], i32: [new Int32(), slice(i32)],
      i64: [new Int64(), slice(i64)], y: [new Float64(), slice(y)], x: [new Float64(), slice(x)],
      t: [new TimestampMillisecond('UTC'), slice(t)], b: [new Bool(), slice(b)], w: [new Utf8(), slice(w)],
    }));
  }
  return [out.slice(0, 3), out.slice(3)];
}

const table = sqlTable({
  id: ['INTEGER', ids], g: ['SMALLINT', g], s: ['VARCHAR', s], i32: ['INTEGER', i32], i64: ['BIGINT', i64], y: ['DOUBLE', y],
  x: ['DOUBLE', x], t: ['BIGINT', t], b: ['BOOLEAN', b], w: ['VARCHAR', w],
});

// Our functions and the DuckDB expression computing the same thing (nulls ignored, first/last in row order).
const functions: Record<string, [string, string]> = {
  rows: ['count(*)', 'count(*)'],
  ys: ['count(y)', 'count(y)'],
  colours: ['count_distinct(s)', 'count(DISTINCT s)'],
  words: ['count_distinct(w)', 'count(DISTINCT w)'],
  sum_i32: ['sum(i32)', 'sum(i32)'],
  sum_i64: ['sum(i64)', 'sum(i64)'],
  sum_y: ['sum(y)', 'fsum(y)'],
  mean_y: ['mean(y)', 'avg(y)'],
  mean_i64: ['mean(i64)', 'avg(i64)'],
  std_y: ['std(y)', 'stddev_samp(y)'],
  var_i32: ['var(i32)', 'var_samp(i32)'],
  min_x: ['min(x)', 'min(x)'],
  max_x: ['max(x)', 'max(x)'],
  min_i64: ['min(i64)', 'min(i64)'],
  max_t: ['max(t)', 'max(t)'],
  min_w: ['min(w)', 'min(w)'],
  max_w: ['max(w)', 'max(w)'],
  first_x: ['first(x)', 'first(x ORDER BY id) FILTER (WHERE x IS NOT NULL)'],
  last_w: ['last(w)', 'last(w ORDER BY id) FILTER (WHERE w IS NOT NULL)'],
  first_t: ['first(t)', 'first(t ORDER BY id) FILTER (WHERE t IS NOT NULL)'],
  min_b: ['min(b)', 'bool_and(b)'],
  max_b: ['max(b)', 'bool_or(b)'],
};
const ours = Object.fromEntries(Object.entries(functions).map(([k, [f]]) => [k, f]));
const theirs = Object.entries(functions).map(([k, [, sql]]) => `${sql} AS ${k}`).join(', ');

describe('table.aggregate against DuckDB', () => {
  test('grouped by two keys (nulls form their own group), groups in order of first appearance', async () => {
    const { schema, partitions } = await runReduce(aggregate, { by: ['g', 's'], aggregates: ours }, [batches(256)]);
    expect(schema.fields.map((f) => f.name)).toEqual(['g', 's', ...Object.keys(functions)]);
    const expected = await duckdb(`SELECT g, s, ${theirs} FROM ${table} GROUP BY g, s ORDER BY min(id)`);
    expect(partitions).toHaveLength(1);
    expectClose(rowsOf(partitions[0]), expected);
  });

  test('without keys: one row for everything', async () => {
    const { partitions } = await runReduce(aggregate, { aggregates: ours }, [batches(1000)]);
    expectClose(rowsOf(partitions[0]), await duckdb(`SELECT ${theirs} FROM ${table}`));
  });

  test('scope partition: each partition on its own', async () => {
    const input = batches(500); // partitions: ids 0-1499, 1500-2999
    const { partitions } = await runReduce(aggregate, { by: 's', aggregates: { n: 'count(*)', total: 'sum(i64)' }, scope: 'partition' }, [input]);
    expect(partitions).toHaveLength(2);
    for (const [p, where] of ['id < 1500', 'id >= 1500'].entries()) {
      expectClose(rowsOf(partitions[p]), await duckdb(`SELECT s, count(*), sum(i64) FROM ${table} WHERE ${where} GROUP BY s ORDER BY min(id)`));
    }
  });

  test('float sums are compensated: exact where naive summation loses everything', async () => {
    const values = Array.from({ length: 3000 }, (_, i) => [1e16, 1.25, -1e16, 3.5e-3][i % 4]);
    const batch = batchOf({ v: [new Float64(), values] });
    const { partitions } = await runReduce(aggregate, { aggregates: { total: 'sum(v)', mean: 'mean(v)' } }, [[[batch.slice(0, 1111), batch.slice(1111)]]]);
    const [[exact]] = await duckdb(`SELECT sum(CAST(v AS DECIMAL(38, 6)))::DOUBLE FROM ${sqlTable({ v: ['DOUBLE', values] })}`);
    expectClose(rowsOf(partitions[0]), [[exact, (exact as number) / 3000]]);
  });
});

describe('table.aggregate', () => {
  test('no keys and no rows: one row, counts 0 and the rest null, as in SQL', async () => {
    const empty = batchOf({ v: [new Float64(), []], s: [new Utf8(), []] });
    const { partitions } = await runReduce(aggregate, {
      aggregates: { n: 'count(*)', c: 'count(v)', d: 'count_distinct(s)', total: 'sum(v)', low: 'min(s)', sd: 'std(v)' },
    }, [[[empty]]]);
    expect(rowsOf(partitions[0])).toEqual([[0n, 0n, 0n, null, null, null]]);
    const grouped = await runReduce(aggregate, { by: 's', aggregates: { n: 'count(*)' } }, [[[empty]]]);
    expect(grouped.partitions.flat()).toHaveLength(0);
  });

  test('result types: int sums are int64 (exact beyond 2^53), min/max/first/last keep the type', async () => {
    const batch = batchOf({
      k: [new Int8(), [1, 1, 1, 2]],
      u: [new Uint64(), [2n ** 63n, 2n ** 62n, 5n, 1n]],
      f: [new Float32(), [0.5, 1.5, null, 2]],
      v: [new Int64(), [2n ** 62n, 2n ** 62n - 1n, -3n, 7n]],
    });
    const { schema, partitions } = await runReduce(aggregate, {
      by: 'k', aggregates: { big: 'sum(v)', top: 'max(u)', fmin: 'min(f)', fsum: 'sum(f)', last: 'last(f)', one: 'var(v)' },
    }, [[[batch]]]);
    expect(schema.fields.map((f) => String(f.type))).toEqual(['Int8', 'Int64', 'Uint64', 'Float32', 'Float64', 'Float32', 'Float64']);
    const rows = rowsOf(partitions[0]);
    expect(rows[0].slice(0, 6)).toEqual([1, 2n ** 63n - 4n, 2n ** 63n, 0.5, 2, 1.5]);
    expect(rows[1]).toEqual([2, 7n, 1n, 2, 2, 2, null]);
  });

  test('a sum beyond int64 is an error naming the column', async () => {
    const batch = batchOf({ v: [new Int64(), [2n ** 62n, 2n ** 62n]] });
    await expect(runReduce(aggregate, { aggregates: { s: 'sum(v)' } }, [[[batch]]])).rejects.toThrow("the sum of column 'v' (9223372036854775808) overflows int64");
  });

  test('dictionary keys and values are grouped by value and come out decoded', async () => {
    const type = new Dictionary(new Utf8(), new Int32());
    const one = batchOf({ k: [type, ['a', 'b', 'a']], v: [type, ['x', 'y', 'z']] });
    const two = batchOf({ k: [type, ['b', null]], v: [type, ['w', 'q']] });
    const { schema, partitions } = await runReduce(aggregate, { by: 'k', aggregates: { lo: 'min(v)', n: 'count_distinct(v)' } }, [[[one, two]]]);
    expect(schema.fields.map((f) => String(f.type))).toEqual(['Utf8', 'Utf8', 'Int64']);
    expect(rowsOf(partitions[0])).toEqual([['a', 'x', 2n], ['b', 'w', 2n], [null, 'q', 1n]]);
  });

  test('1e6 rows in 16 batches aggregate correctly', async () => {
    const m = 1_000_000;
    const keys = new Int32Array(m);
    const vals = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      keys[i] = i % 1000;
      vals[i] = i;
    }
    const batch = batchOf({ k: dataOf(new Int32(), keys), v: dataOf(new Float64(), vals) });
    const input = Array.from({ length: 16 }, (_, i) => batch.slice(i * 62_500, (i + 1) * 62_500));
    const { partitions } = await runReduce(aggregate, { by: 'k', aggregates: { n: 'count(*)', s: 'sum(v)', m: 'max(v)' } }, [[input]]);
    const rows = rowsOf(partitions[0]);
    expect(rows).toHaveLength(1000);
    expect(rows[7]).toEqual([7, 1000n, 7 * 1000 + 1000 * 999 * 1000 / 2, 999_007]);
  });

  test('validation: missing columns, types, unknown functions, clashing names', () => {
    const schema = batches(n)[0][0].schema;
    const check = (p: unknown) => () => schemaOf(aggregate, p, [schema]);
    expect(check({ by: 'nope', aggregates: { n: 'count(*)' } })).toThrow(MissingColumnError);
    expect(check({ aggregates: { n: 'sum(nope)' } })).toThrow(MissingColumnError);
    expect(check({ aggregates: { n: 'sum(s)' } })).toThrow(new ColumnTypeError('s', 'a number', 'utf8'));
    expect(check({ aggregates: { n: 'mean(t)' } })).toThrow(ColumnTypeError);
    expect(check({ aggregates: { n: 'median(y)' } })).toThrow(SchemaError);
    expect(check({ aggregates: { n: 'median(y)' } })).toThrow("aggregate 'n': 'median(y)' is not fn(column) with fn one of count, count_distinct");
    expect(check({ aggregates: { n: 'sum(*)' } })).toThrow('only count takes *');
    expect(check({ by: 'g', aggregates: { g: 'count(*)' } })).toThrow("the output would have two columns named 'g'");
    expect(check({})).toThrow(SchemaError);
    const lists = batchOf({ l: [new List(new Field('item', new Int32(), true)), [[1]]] }).schema;
    expect(() => schemaOf(aggregate, { by: 'l', aggregates: { n: 'count(*)' } }, [lists])).toThrow(ColumnTypeError);
    expect(schemaOf(aggregate, { aggregates: { n: 'count(l)', f: 'count( "l" )' } }, [lists]).fields.map((f) => String(f.type))).toEqual(['Int64', 'Int64']);
  });
});
