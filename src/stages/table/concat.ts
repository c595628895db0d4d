// `table.concat`: the rows of several inputs with the same columns, one after the other. Every
// input partition becomes an output partition, inputs in `from` order; batches pass through as
// they are (only relabelled with the output schema).
import { Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { z } from 'zod';
import { sameType, typeName } from '../../arrow/types.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { ColumnTypeError, SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';

const params = z.object({}).strict();

export const concat = defineReduce({
  name: 'table.concat',
  kind: 'reduce',
  version: '1',
  description: 'Appends the rows of all inputs, in `from` order; their columns must match by name, type and order.',
  params,
  inputs: { min: 2, max: Infinity },
  outputSchema({ inputs }) {
    const [first] = inputs;
    const names = first.fields.map((f) => f.name);
    inputs.forEach((schema, input) => {
      if (input === 0) return;
      first.fields.forEach((expected, i) => {
        const field = requireColumn(schema, expected.name, input);
        if (!sameType(field.type, expected.type)) {
          throw new ColumnTypeError(field.name, typeName(expected.type), typeName(field.type), input);
        }
        if (schema.fields[i] !== field) {
          throw new SchemaError(`input ${input} has the columns in another order (${schema.fields.map((f) => f.name).join(', ')}; expected ${names.join(', ')})`);
        }
      });
      const extra = schema.fields.filter((f) => !names.includes(f.name)).map((f) => f.name);
      if (extra.length) throw new SchemaError(`input ${input} has columns the first input lacks: ${extra.join(', ')}`);
    });
    // A column is nullable in the output if it is in any input.
    return new Schema(first.fields.map((f, i) =>
      new Field(f.name, f.type, inputs.some((s) => s.fields[i].nullable), f.metadata)), first.metadata);
  },
  scope: () => 'partition',
  create(_, { outputSchema }) {
    const type = new Struct(outputSchema.fields);
    return {
      push: (batch) => new RecordBatch(outputSchema, makeData({ type, length: batch.numRows, nullCount: 0, children: batch.data.children })),
    };
  },
});
