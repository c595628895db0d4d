import { Field, Float64, Int32, Int64, List, TimestampMillisecond, Utf8, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { sort } from '../../../src/stages/table/sort.ts';
import { ColumnTypeError, MissingColumnError } from '../../../src/workflow/errors.ts';
import { duckdb } from '../../helpers.ts';
import { batchOf, random, rowsOf, runReduce, schemaOf, sqlTable } from './fixtures.ts';

const rand = random(11);
const n = 600;
const pick = <T>(options: T[]) => options[Math.floor(rand() * options.length)];
const ids = Array.from({ length: n }, (_, i) => i);
const x = Array.from({ length: n }, () => pick([null, NaN, -1, 0, 2.5, Math.round(rand() * 100) / 8]));
const s = Array.from({ length: n }, () => pick([null, 'a', 'b', 'B', 'é', 'ab', '']));
const t = Array.from({ length: n }, () => pick([null, -86400000, 0, 1000, 1700000000000]));
const k = Array.from({ length: n }, () => pick([null, 1n, -3n, 2n ** 55n]));

/** The table cut into batches of `size` rows, in partitions of `per` batches. */
function partitioned(size: number, per: number): RecordBatch[][] {
  const batches: RecordBatch[] = [];
  for (let start = 0; start < n; start += size) {
    const end = Math.min(n, start + size);
    batches.push(batchOf({
      id: [new Int32(), ids.slice(start, end)],
      x: [new Float64(), x.slice(start, end)],
      s: [new Utf8(), s.slice(start, end)],
      t: [new TimestampMillisecond('UTC'), t.slice(start, end)],
      k: [new Int64(), k.slice(start, end)],
    }));
  }
  const out: RecordBatch[][] = [];
  for (let i = 0; i < batches.length; i += per) out.push(batches.slice(i, i + per));
  return out;
}

const table = sqlTable({ id: ['INTEGER', ids], x: ['DOUBLE', x], s: ['VARCHAR', s], t: ['BIGINT', t], k: ['BIGINT', k] });
const reference = async (orderBy: string, where = 'true') =>
  (await duckdb(`SELECT id FROM ${table} WHERE ${where} ORDER BY ${orderBy}, id`)).map((r) => r[0]);

describe('table.sort', () => {
  test('one column, across batches and partitions, like DuckDB (nulls last, NaN after numbers)', async () => {
    const { partitions } = await runReduce(sort, { by: 'x' }, [partitioned(50, 3)]);
    expect(partitions).toHaveLength(1);
    expect(rowsOf(partitions[0]).map((r) => r[0])).toEqual(await reference('x ASC NULLS LAST'));
  });

  test('several keys with order and null placement', async () => {
    const by = [{ column: 's', order: 'desc', nulls: 'first' }, 'k', { column: 't', order: 'desc' }, { column: 'x', nulls: 'first' }];
    const { partitions } = await runReduce(sort, { by }, [partitioned(64, 2)]);
    expect(rowsOf(partitions[0]).map((r) => r[0]))
      .toEqual(await reference('s DESC NULLS FIRST, k ASC NULLS LAST, t DESC NULLS LAST, x ASC NULLS FIRST'));
  });

  test('scope partition sorts each partition on its own', async () => {
    const input = partitioned(100, 2); // partitions of ids 0-199, 200-399, 400-599
    const { partitions } = await runReduce(sort, { by: [{ column: 't', order: 'desc' }], scope: 'partition' }, [input]);
    expect(partitions).toHaveLength(3);
    for (const [i, p] of partitions.entries()) {
      expect(rowsOf(p).map((r) => r[0])).toEqual(await reference('t DESC NULLS LAST', `id >= ${i * 200} AND id < ${(i + 1) * 200}`));
    }
  });

  test('keeps every column with its row; emits batches of at most 65,536 rows; stable', async () => {
    const m = 140_000;
    const batch = batchOf({
      key: [new Int32(), Array.from({ length: m }, (_, i) => (i * 7919) % 3)],
      row: [new Int32(), Array.from({ length: m }, (_, i) => i)],
    });
    const { partitions } = await runReduce(sort, { by: ['key'] }, [[[batch.slice(0, 70_000), batch.slice(70_000, m)]]]);
    expect(partitions[0].map((b) => b.numRows)).toEqual([65_536, 65_536, 8_928]);
    const rows = rowsOf(partitions[0]) as number[][];
    let ordered = true;
    for (let i = 1; i < m; i++) {
      const [k0, r0] = rows[i - 1];
      const [k1, r1] = rows[i];
      if (!(k0 < k1 || (k0 === k1 && r0 < r1))) ordered = false;
    }
    expect(ordered).toBe(true);
    expect(rows[0]).toEqual([0, 0]);
  });

  test('no input, no output', async () => {
    const empty = batchOf({ x: [new Float64(), []] });
    const { partitions } = await runReduce(sort, { by: 'x' }, [[[empty]]]);
    expect(partitions.flat()).toHaveLength(0);
  });

  test('validation', () => {
    const schema = partitioned(600, 1)[0][0].schema;
    expect(() => schemaOf(sort, { by: ['nope'] }, [schema])).toThrow(MissingColumnError);
    const lists = batchOf({ l: [new List(new Field('item', new Int32(), true)), [[1]]] }).schema;
    expect(() => schemaOf(sort, { by: 'l' }, [lists])).toThrow(ColumnTypeError);
    expect(sort.params.safeParse({ by: [] }).success).toBe(false);
    expect(sort.params.safeParse({ by: [{ column: 'x', order: 'up' }] }).success).toBe(false);
    expect(sort.params.parse({ by: 'x' })).toEqual({ by: [{ column: 'x', order: 'asc', nulls: 'last' }], scope: 'all' });
  });
});
