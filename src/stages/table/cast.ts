// `table.cast`: converts columns to other types, safely. Numbers convert when the value fits
// exactly (overflow or a lost fraction is an error naming the column, row and value); text parses
// as numbers, booleans and ISO 8601 dates and timestamps; anything scalar formats as text;
// timestamps change unit (exactly) or time zone (same instant), become dates (the UTC day) and
// come from dates or integers (epoch counts in the unit); booleans and integers convert both ways.
import { Field, RecordBatch, Schema, Struct, makeData, type DataType } from 'apache-arrow';
import { z } from 'zod';
import { canCast, castData } from '../../arrow/cast.ts';
import { parseType, typeName } from '../../arrow/types.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { SchemaError, messageOf } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';

const params = z.object({
  columns: z.record(z.string(), z.string().min(1))
    .describe("Column -> type name, e.g. {count: int32, when: 'timestamp[ms, UTC]', day: date32, id: utf8}"),
}).strict();

export const cast = defineMap({
  name: 'table.cast',
  kind: 'map',
  version: '1',
  description: 'Converts columns to other types, failing on any value the new type cannot hold exactly.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const targets = new Map<string, DataType>();
    for (const [name, typeText] of Object.entries(p.columns)) {
      const field = requireColumn(input, name);
      let to: DataType;
      try {
        to = parseType(typeText);
      } catch (error) {
        throw new SchemaError(`column '${name}': ${messageOf(error)}`);
      }
      if (!canCast(field.type, to)) {
        throw new SchemaError(`cannot cast column '${name}' from ${typeName(field.type)} to ${typeName(to)}`);
      }
      targets.set(name, to);
    }
    return new Schema(input.fields.map((f) => {
      const to = targets.get(f.name);
      return to ? new Field(f.name, to, f.nullable, f.metadata) : f;
    }), input.metadata);
  },
  create(p, { outputSchema }) {
    const type = new Struct(outputSchema.fields);
    const changed = outputSchema.fields.map((f) => Object.hasOwn(p.columns, f.name));
    return (batch) => {
      const children = batch.data.children.map((child, i) =>
        changed[i] ? castData(child, outputSchema.fields[i].type, outputSchema.fields[i].name) : child);
      return new RecordBatch(outputSchema, makeData({ type, length: batch.numRows, nullCount: 0, children }));
    };
  },
});
