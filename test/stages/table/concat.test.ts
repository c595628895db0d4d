import { Float64, Int32, Int64, Utf8 } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { concat } from '../../../src/stages/table/concat.ts';
import { ColumnTypeError, MissingColumnError, SchemaError } from '../../../src/workflow/errors.ts';
import { batchOf, rowsOf, runReduce, schemaOf } from './fixtures.ts';

const ab = (a: number[], b: string[]) => batchOf({ a: [new Int32(), a], b: [new Utf8(), b] });

describe('table.concat', () => {
  test('every input partition becomes an output partition, inputs in from order, batches unchanged', async () => {
    const first = [[ab([1, 2], ['x', 'y'])], [ab([3], ['z']), ab([4], ['w'])]];
    const second = [[ab([5], ['v'])]];
    const third = [[], [ab([6], ['u'])]];
    const { partitions } = await runReduce(concat, {}, [first, second, third]);
    expect(partitions.map((p) => rowsOf(p))).toEqual([
      [[1, 'x'], [2, 'y']], [[3, 'z'], [4, 'w']], [[5, 'v']], [], [[6, 'u']],
    ]);
    expect(partitions[1][1].data.children[0]).toBe(first[1][1].data.children[0]);
  });

  test('schemas must match by name, type and order; errors name the input', () => {
    const base = ab([1], ['x']).schema;
    const missing = batchOf({ a: [new Int32(), [1]] }).schema;
    const retyped = batchOf({ a: [new Int64(), [1n]], b: [new Utf8(), ['x']] }).schema;
    const reordered = batchOf({ b: [new Utf8(), ['x']], a: [new Int32(), [1]] }).schema;
    const extra = batchOf({ a: [new Int32(), [1]], b: [new Utf8(), ['x']], c: [new Float64(), [1]] }).schema;
    expect(() => schemaOf(concat, {}, [base, base, missing])).toThrow(MissingColumnError);
    expect(() => schemaOf(concat, {}, [base, missing])).toThrow(expect.objectContaining({ input: 1, column: 'b' }));
    expect(() => schemaOf(concat, {}, [base, retyped])).toThrow(new ColumnTypeError('a', 'int32', 'int64', 1));
    expect(() => schemaOf(concat, {}, [base, reordered])).toThrow(SchemaError);
    expect(() => schemaOf(concat, {}, [base, extra])).toThrow('input 1 has columns the first input lacks: c');
  });
});
