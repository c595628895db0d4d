import { Int32 } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { limit } from '../../../src/stages/table/limit.ts';
import { batchOf, rowsOf, runReduce } from './fixtures.ts';

const range = (start: number, n: number) => batchOf({ i: [new Int32(), Array.from({ length: n }, (_, k) => start + k)] });
// Three partitions of two batches of 4 rows: 0..23.
const input = [[[range(0, 4), range(4, 4)], [range(8, 4), range(12, 4)], [range(16, 4), range(20, 4)]]];

describe('table.limit', () => {
  test('the first rows after the offset, across batches and partitions, in one output partition', async () => {
    const { partitions } = await runReduce(limit, { rows: 7, offset: 3 }, input);
    expect(partitions).toHaveLength(1);
    expect(rowsOf(partitions[0]).flat()).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  test('stops reading once it has enough rows', async () => {
    const { read } = await runReduce(limit, { rows: 5 }, input);
    expect(read).toBe(2);
    const zero = await runReduce(limit, { rows: 0 }, input);
    expect(zero.read).toBe(1);
    expect(zero.partitions.flat()).toHaveLength(0);
  });

  test('an offset past the end gives no rows; more rows than there are gives them all', async () => {
    expect((await runReduce(limit, { rows: 5, offset: 100 }, input)).partitions.flat()).toHaveLength(0);
    expect(rowsOf((await runReduce(limit, { rows: 100 }, input)).partitions[0])).toHaveLength(24);
  });

  test('params', () => {
    expect(limit.params.safeParse({ rows: -1 }).success).toBe(false);
    expect(limit.params.safeParse({ rows: 1.5 }).success).toBe(false);
    expect(limit.params.safeParse({}).success).toBe(false);
    expect(limit.params.parse({ rows: 3 })).toEqual({ rows: 3, offset: 0 });
  });
});
