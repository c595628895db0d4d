import { Float64, Int64, List, Field, Int32, Utf8, TimestampMillisecond } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { cast } from '../../../src/stages/table/cast.ts';
import { MissingColumnError, SchemaError } from '../../../src/workflow/errors.ts';
import { batchOf, rowsOf, runMap, schemaOf } from './fixtures.ts';

const batch = batchOf({
  id: [new Utf8(), ['1', '2', null]],
  x: [new Float64(), [1, 2.5, null]],
  when: [new Utf8(), ['2020-01-01T00:00:00Z', null, '2020-01-02']],
  n: [new Int64(), [1n, 2n, 3n]],
});

describe('table.cast', () => {
  test('casts the named columns, leaves the others', async () => {
    const { schema, batches } = await runMap(cast, { columns: { id: 'int32', when: 'timestamp[ms, UTC]', n: 'utf8' } }, [batch]);
    expect(schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['id:Int32', 'x:Float64', 'when:Timestamp<MILLISECOND, UTC>', 'n:Utf8']);
    expect(rowsOf(batches)).toEqual([[1, 1, 1577836800000n, '1'], [2, 2.5, null, '2'], [null, null, 1577923200000n, '3']]);
    expect(batches[0].data.children[1]).toBe(batch.data.children[1]);
  });

  test('a value the type cannot hold fails with column, row and value', async () => {
    await expect(runMap(cast, { columns: { x: 'int32' } }, [batch])).rejects.toThrow("cannot cast column 'x' to int32: row 1 of the batch, value 2.5, which has a fraction");
  });

  test('validation: unknown column, unknown type, unsupported cast naming the column and both types', () => {
    expect(() => schemaOf(cast, { columns: { nope: 'int32' } }, [batch.schema])).toThrow(MissingColumnError);
    expect(() => schemaOf(cast, { columns: { x: 'int33' } }, [batch.schema])).toThrow(SchemaError);
    expect(() => schemaOf(cast, { columns: { x: 'int33' } }, [batch.schema])).toThrow("column 'x': unknown type 'int33'");
    expect(() => schemaOf(cast, { columns: { x: 'timestamp[ms]' } }, [batch.schema]))
      .toThrow(new SchemaError("cannot cast column 'x' from float64 to timestamp[ms]"));
    const lists = batchOf({ l: [new List(new Field('item', new Int32(), true)), [[1]]] });
    expect(() => schemaOf(cast, { columns: { l: 'utf8' } }, [lists.schema])).toThrow("cannot cast column 'l' from list<int32> to utf8");
  });

  test('a time zone change is metadata only', async () => {
    const ts = batchOf({ t: [new TimestampMillisecond('UTC'), [1000, null]] });
    const { batches } = await runMap(cast, { columns: { t: 'timestamp[ms, America/New_York]' } }, [ts]);
    expect(rowsOf(batches)).toEqual([[1000n], [null]]);
  });
});
