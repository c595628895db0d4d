// `table.select`: keeps the named columns, in the order the params list them. Zero-copy: the
// output batch reuses the input's column data.
import { RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { z } from 'zod';
import { requireColumn } from '../../arrow/columns.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';

const params = z.object({
  columns: z.array(z.string().min(1)).min(1).describe('The columns to keep, in the order they should come out'),
}).strict();

export const select = defineMap({
  name: 'table.select',
  kind: 'map',
  version: '1',
  description: 'Keeps the listed columns, in the listed order, and drops the others.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const twice = p.columns.find((c, i) => p.columns.indexOf(c) !== i);
    if (twice !== undefined) throw new SchemaError(`column '${twice}' is listed twice in 'columns'`);
    return new Schema(p.columns.map((c) => requireColumn(input, c)), input.metadata);
  },
  create(p, { inputSchema, outputSchema }) {
    const indices = p.columns.map((c) => inputSchema.fields.findIndex((f) => f.name === c));
    const type = new Struct(outputSchema.fields);
    return (batch) => new RecordBatch(outputSchema, makeData({
      type, length: batch.numRows, nullCount: 0, children: indices.map((i) => batch.data.children[i]),
    }));
  },
});
