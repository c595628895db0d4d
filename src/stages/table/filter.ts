// `table.filter`: keeps the rows where a bool expression is true. A null result drops the row, as
// SQL's WHERE does. The expression language is described in ./lib/expression/README.md.
import { Type, type Schema } from 'apache-arrow';
import { z } from 'zod';
import { filterBatch } from '../../arrow/take.ts';
import { typeName } from '../../arrow/types.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { compileExpression, type CompiledExpression } from './lib/expression/index.ts';

const params = z.object({
  where: z.string().min(1).describe('a bool expression over the columns, e.g. "close > open and volume > 0"'),
}).strict();

function compile(where: string, schema: Schema): CompiledExpression {
  const compiled = compileExpression(where, schema);
  if (compiled.type.typeId !== Type.Bool) {
    const hint = compiled.type.typeId === Type.Int || compiled.type.typeId === Type.Float ? ` (did you mean a comparison, such as '${where} > 0'?)` : '';
    throw new SchemaError(`'where' must be a bool expression, but '${where}' is ${typeName(compiled.type)}${hint}`);
  }
  return compiled;
}

export const filter = defineMap({
  name: 'table.filter',
  kind: 'map',
  version: '1',
  description: 'Keeps the rows where the `where` expression is true (null counts as false).',
  params,
  // Compiling checks every name and type, so `quiver validate` reports mistakes before reading data.
  outputSchema({ params, inputs: [input] }) {
    compile(params.where, input);
    return input;
  },
  create(params, { inputSchema }) {
    const compiled = compile(params.where, inputSchema);
    return (batch) => filterBatch(batch, compiled.mask(batch.data.children, batch.numRows));
  },
});
