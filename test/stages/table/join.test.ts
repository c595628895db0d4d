import { Float64, Int32, Int64, Utf8, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { join } from '../../../src/stages/table/join.ts';
import { ColumnTypeError, MissingColumnError, SchemaError } from '../../../src/workflow/errors.ts';
import { duckdb } from '../../helpers.ts';
import { batchOf, random, rowsOf, runReduce, schemaOf, sqlTable } from './fixtures.ts';

const rand = random(9);
const pick = <T>(options: T[]) => options[Math.floor(rand() * options.length)];

const nl = 400;
const nr = 150;
const left = {
  lid: Array.from({ length: nl }, (_, i) => i),
  k: Array.from({ length: nl }, () => pick([null, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 40])),
  s: Array.from({ length: nl }, () => pick([null, 'a', 'b', 'c'])),
  v: Array.from({ length: nl }, () => pick([null, rand()])),
};
const right = {
  rid: Array.from({ length: nr }, (_, i) => i),
  k: Array.from({ length: nr }, () => pick([null, 1, 2, 3, 5, 8, 13, 21, 34])),
  s: Array.from({ length: nr }, () => pick([null, 'a', 'b', 'd'])),
  v: Array.from({ length: nr }, () => pick([null, 'x', 'y'])),
};

function leftBatches(size: number, per: number): RecordBatch[][] {
  const out: RecordBatch[] = [];
  for (let a = 0; a < nl; a += size) {
    const sl = <T>(c: T[]) => c.slice(a, a + size);
    out.push(batchOf({ lid: [new Int32(), sl(left.lid)], k: [new Int64(), sl(left.k).map((v) => (v === null ? null : BigInt(v)))], s: [new Utf8(), sl(left.s)], v: [new Float64(), sl(left.v)] }));
  }
  return Array.from({ length: Math.ceil(out.length / per) }, (_, i) => out.slice(i * per, (i + 1) * per));
}
function rightBatches(size: number): RecordBatch[][] {
  const out: RecordBatch[] = [];
  for (let a = 0; a < nr; a += size) {
    const sl = <T>(c: T[]) => c.slice(a, a + size);
    out.push(batchOf({ rid: [new Int32(), sl(right.rid)], k: [new Int64(), sl(right.k).map((v) => (v === null ? null : BigInt(v)))], s: [new Utf8(), sl(right.s)], v: [new Utf8(), sl(right.v)] }));
  }
  return [out.slice(0, 2), out.slice(2)]; // two partitions on the build side too
}

const l = sqlTable({ lid: ['INTEGER', left.lid], k: ['BIGINT', left.k], s: ['VARCHAR', left.s], v: ['DOUBLE', left.v] });
const r = sqlTable({ rid: ['INTEGER', right.rid], k: ['BIGINT', right.k], s: ['VARCHAR', right.s], v: ['VARCHAR', right.v] }).replace(/ t\(/, ' u(');

describe('table.join against DuckDB', () => {
  test('inner on one key: left columns, then right ones (shared key once, clash suffixed), left order then right order', async () => {
    const { schema, partitions } = await runReduce(join, { on: 'k' }, [leftBatches(64, 2), rightBatches(40)]);
    expect(schema.fields.map((f) => f.name)).toEqual(['lid', 'k', 's', 'v', 'rid', 's_right', 'v_right']);
    const expected = await duckdb(`SELECT t.*, u.rid, u.s, u.v FROM ${l} JOIN ${r} ON t.k = u.k ORDER BY t.lid, u.rid`);
    expect(rowsOf(partitions.flat())).toEqual(expected);
  });

  test('left join on two keys keeps unmatched left rows with null right columns', async () => {
    const { schema, partitions } = await runReduce(join, { on: ['k', 's'], how: 'left', suffix: '_r' }, [leftBatches(50, 3), rightBatches(33)]);
    expect(schema.fields.map((f) => f.name)).toEqual(['lid', 'k', 's', 'v', 'rid', 'v_r']);
    expect(schema.fields.slice(4).every((f) => f.nullable)).toBe(true);
    const expected = await duckdb(`SELECT t.*, u.rid, u.v FROM ${l} LEFT JOIN ${r} ON t.k = u.k AND t.s = u.s ORDER BY t.lid, u.rid`);
    expect(rowsOf(partitions.flat())).toEqual(expected);
  });

  test('semi and anti give left rows with and without a match (null keys never match)', async () => {
    for (const how of ['semi', 'anti'] as const) {
      const { schema, partitions } = await runReduce(join, { on: 'k', how }, [leftBatches(64, 1), rightBatches(50)]);
      expect(schema.fields.map((f) => f.name)).toEqual(['lid', 'k', 's', 'v']);
      const expected = await duckdb(`SELECT * FROM ${l} ${how.toUpperCase()} JOIN ${r} ON t.k = u.k ORDER BY t.lid`);
      expect(rowsOf(partitions.flat())).toEqual(expected);
    }
  });

  test('keys with different names on each side: the right key is kept', async () => {
    const { schema, partitions } = await runReduce(join, { on: { left: 's', right: 'v' } }, [leftBatches(100, 1), rightBatches(150)]);
    expect(schema.fields.map((f) => f.name)).toEqual(['lid', 'k', 's', 'v', 'rid', 'k_right', 's_right', 'v_right']);
    const expected = await duckdb(`SELECT t.*, u.* FROM ${l} JOIN ${r} ON t.s = u.v ORDER BY t.lid, u.rid`);
    expect(rowsOf(partitions.flat())).toEqual(expected);
  });
});

describe('table.join', () => {
  test('outputs follow the left partitions', async () => {
    const input = leftBatches(100, 2); // 2 partitions
    const { partitions } = await runReduce(join, { on: 'k', how: 'left' }, [input, rightBatches(150)]);
    expect(partitions).toHaveLength(2);
    expect(new Set(rowsOf(partitions[0]).map((row) => row[0] as number)).size).toBe(200);
    expect(rowsOf(partitions[1]).every((row) => (row[0] as number) >= 200)).toBe(true);
  });

  test('an empty right side: inner gives nothing, left gives every left row with nulls', async () => {
    const emptyRight = [[batchOf({ k: [new Int64(), []], w: [new Utf8(), []] })]];
    const inner = await runReduce(join, { on: 'k' }, [leftBatches(400, 1), emptyRight]);
    expect(inner.partitions.flat()).toHaveLength(0);
    const outer = await runReduce(join, { on: 'k', how: 'left' }, [leftBatches(400, 1), emptyRight]);
    const rows = rowsOf(outer.partitions.flat());
    expect(rows).toHaveLength(nl);
    expect(rows.every((row) => row[4] === null)).toBe(true);
  });

  test('many matches per left row are split into batches of at most 65,536 rows', async () => {
    const l1 = batchOf({ k: [new Int32(), [1, 2, 1]] });
    const r1 = batchOf({ k: [new Int32(), Array.from({ length: 40_000 }, () => 1)], i: [new Int32(), Array.from({ length: 40_000 }, (_, i) => i)] });
    const { partitions } = await runReduce(join, { on: 'k' }, [[[l1]], [[r1]]]);
    expect(partitions[0].map((b) => b.numRows)).toEqual([65_536, 14_464]);
    const rows = rowsOf(partitions[0]);
    expect(rows[39_999]).toEqual([1, 39_999]);
    expect(rows[40_000]).toEqual([1, 0]);
  });

  test('validation: key types must match (naming the right column), missing keys, clashing suffix', () => {
    const ls = leftBatches(nl, 1)[0][0].schema;
    const rs = rightBatches(nr)[0][0].schema;
    const int32Keys = batchOf({ k: [new Int32(), [1]] }).schema;
    let error: unknown;
    try {
      schemaOf(join, { on: 'k' }, [ls, int32Keys]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ColumnTypeError);
    expect(error).toMatchObject({ column: 'k', expected: 'int64', actual: 'int32', input: 1 });
    expect(() => schemaOf(join, { on: 'lid' }, [ls, rs])).toThrow(MissingColumnError);
    expect(() => schemaOf(join, { on: 'lid' }, [ls, rs])).toThrow(expect.objectContaining({ input: 1 }));
    expect(() => schemaOf(join, { on: 'rid' }, [ls, rs])).toThrow(expect.objectContaining({ input: 0 }));
    expect(() => schemaOf(join, { on: { left: ['k', 's'], right: ['k'] } }, [ls, rs])).toThrow(SchemaError);
    const clash = batchOf({ k: [new Int64(), [1n]], s: [new Utf8(), ['a']], s_right: [new Utf8(), ['b']] }).schema;
    expect(() => schemaOf(join, { on: 'k' }, [clash, rs])).toThrow("right column 's' clashes with a left column, and so does 's_right'");
    expect(join.params.safeParse({ on: 'k', how: 'outer' }).success).toBe(false);
    expect(join.inputs).toEqual({ min: 2, max: 2 });
  });
});
