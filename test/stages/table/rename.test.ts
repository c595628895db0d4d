import { Int32, Utf8 } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { rename } from '../../../src/stages/table/rename.ts';
import { MissingColumnError, SchemaError } from '../../../src/workflow/errors.ts';
import { batchOf, rowsOf, runMap, schemaOf } from './fixtures.ts';

const batch = batchOf({ a: [new Int32(), [1, 2]], b: [new Utf8(), ['x', null]], c: [new Int32(), [3, 4]] });

describe('table.rename', () => {
  test('renames in place, keeping order, types and data', async () => {
    const { schema, batches } = await runMap(rename, { columns: { a: 'alpha', c: 'gamma' } }, [batch]);
    expect(schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['alpha:Int32', 'b:Utf8', 'gamma:Int32']);
    expect(batches[0].schema.fields.map((f) => f.name)).toEqual(['alpha', 'b', 'gamma']);
    expect(rowsOf(batches)).toEqual([[1, 'x', 3], [2, null, 4]]);
  });

  test('swapping two names is fine', () => {
    const schema = schemaOf(rename, { columns: { a: 'c', c: 'a' } }, [batch.schema]);
    expect(schema.fields.map((f) => f.name)).toEqual(['c', 'b', 'a']);
  });

  test('an unknown old name is a MissingColumnError; a clash is a SchemaError', () => {
    expect(() => schemaOf(rename, { columns: { zz: 'y' } }, [batch.schema])).toThrow(MissingColumnError);
    expect(() => schemaOf(rename, { columns: { a: 'b' } }, [batch.schema]))
      .toThrow(new SchemaError("renaming gives two columns the name 'b' (from 'a' and 'b')"));
    expect(() => schemaOf(rename, { columns: { a: 'x', c: 'x' } }, [batch.schema])).toThrow(SchemaError);
  });
});
