// `table.rename`: new names for some columns; data, types and column order are unchanged.
import { Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { z } from 'zod';
import { requireColumn } from '../../arrow/columns.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';

const params = z.object({
  columns: z.record(z.string(), z.string().min(1)).describe('Old name -> new name, e.g. {temp: temperature_c}'),
}).strict();

export const rename = defineMap({
  name: 'table.rename',
  kind: 'map',
  version: '1',
  description: 'Renames columns, keeping their data, types and order.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    for (const old of Object.keys(p.columns)) requireColumn(input, old);
    const fields = input.fields.map((f) => {
      const name = p.columns[f.name] ?? f.name;
      return name === f.name ? f : new Field(name, f.type, f.nullable, f.metadata);
    });
    // Swaps (a -> b, b -> a) are fine; two columns ending up with one name are not.
    fields.forEach((f, i) => {
      const first = fields.findIndex((g) => g.name === f.name);
      if (first !== i) {
        const [a, b] = [input.fields[first].name, input.fields[i].name];
        throw new SchemaError(`renaming gives two columns the name '${f.name}' (from '${a}' and '${b}')`);
      }
    });
    return new Schema(fields, input.metadata);
  },
  create(_, { outputSchema }) {
    const type = new Struct(outputSchema.fields);
    return (batch) => new RecordBatch(outputSchema, makeData({
      type, length: batch.numRows, nullCount: 0, children: batch.data.children,
    }));
  },
});
