import { Float64, Int32, Utf8 } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { select } from '../../../src/stages/table/select.ts';
import { MissingColumnError, SchemaError } from '../../../src/workflow/errors.ts';
import { batchOf, rowsOf, runMap, schemaOf } from './fixtures.ts';

const batch = batchOf({ a: [new Int32(), [1, 2, null]], b: [new Utf8(), ['x', null, 'z']], c: [new Float64(), [0.5, 1.5, 2.5]] });

describe('table.select', () => {
  test('keeps the listed columns in the listed order, sharing their data', async () => {
    const { schema, batches } = await runMap(select, { columns: ['c', 'a'] }, [batch, batch.slice(1, 3)]);
    expect(schema.fields.map((f) => f.name)).toEqual(['c', 'a']);
    expect(rowsOf(batches)).toEqual([[0.5, 1], [1.5, 2], [2.5, null], [1.5, 2], [2.5, null]]);
    expect(batches[0].data.children[0]).toBe(batch.data.children[2]);
  });

  test('a missing column names the column and what is there', () => {
    expect(() => schemaOf(select, { columns: ['a', 'nope'] }, [batch.schema])).toThrow(MissingColumnError);
    expect(() => schemaOf(select, { columns: ['nope'] }, [batch.schema])).toThrow("needs column 'nope', which is not there (columns: a, b, c)");
  });

  test('params: at least one column, no repeats, nothing unknown', () => {
    expect(select.params.safeParse({ columns: [] }).success).toBe(false);
    expect(select.params.safeParse({ columns: ['a'], extra: 1 }).success).toBe(false);
    expect(() => schemaOf(select, { columns: ['a', 'a'] }, [batch.schema])).toThrow(SchemaError);
  });
});
