// `table.derive`: adds columns computed by expressions, in the order given. Each expression sees
// the input columns and the columns derived before it; a name that already exists is replaced in
// place (and later expressions see the new values). The language is in ./lib/expression/README.md.
import { Field, makeData, RecordBatch, Schema, Struct } from 'apache-arrow';
import { z } from 'zod';
import { MissingColumnError, SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { compileExpression, type CompiledExpression } from './lib/expression/index.ts';

const params = z.object({
  columns: z.record(z.string().min(1), z.string().min(1))
    .refine((c) => Object.keys(c).length > 0, 'give at least one column, as name: expression')
    .describe('new column name -> expression, e.g. {range: "high - low", ret: "log(close / open)"}'),
}).strict();

interface Step {
  /** Position of the column in the output (an input column's position when it is replaced). */
  index: number;
  compiled: CompiledExpression;
}

/** Compiles the expressions one after the other, each against the schema the earlier ones made. */
function plan(columns: Record<string, string>, input: Schema): { schema: Schema; steps: Step[] } {
  const fields = [...input.fields];
  const derived = new Set<string>();
  const names = Object.keys(columns);
  const steps: Step[] = [];
  for (const [k, name] of names.entries()) {
    const text = columns[name];
    let compiled: CompiledExpression;
    try {
      compiled = compileExpression(text, new Schema(fields), { derived });
    } catch (error) {
      if (error instanceof MissingColumnError) {
        if (names.slice(k + 1).includes(error.column)) {
          throw new SchemaError(`column '${name}' = '${text}' uses '${error.column}', which is derived after it (a derived column can use only the input and the columns listed before it)`);
        }
        throw new MissingColumnError(error.column, input.fields.map((f) => f.name));
      }
      // A ColumnTypeError names an input column: validation turns it into a sentence about both stages.
      if (error instanceof SchemaError) throw new SchemaError(`column '${name}': ${error.message}`);
      throw error;
    }
    const field = new Field(name, compiled.type, true);
    const existing = fields.findIndex((f) => f.name === name);
    const index = existing >= 0 ? existing : fields.length;
    fields[index] = field;
    derived.add(name);
    steps.push({ index, compiled });
  }
  return { schema: new Schema(fields, input.metadata), steps };
}

export const derive = defineMap({
  name: 'table.derive',
  kind: 'map',
  version: '1',
  description: 'Adds (or replaces) columns computed by expressions, in the order given; later ones may use earlier ones.',
  params,
  outputSchema: ({ params, inputs: [input] }) => plan(params.columns, input).schema,
  create(params, { inputSchema, outputSchema }) {
    const { steps } = plan(params.columns, inputSchema);
    const type = new Struct(outputSchema.fields);
    return (batch) => {
      const n = batch.numRows;
      const children = [...batch.data.children];
      for (const step of steps) children[step.index] = step.compiled.evaluateColumns(children, n);
      return new RecordBatch(outputSchema, makeData({ type, length: n, children }));
    };
  },
});
