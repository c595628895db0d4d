// `table.require`: rows must satisfy a bool expression (`is_finite(close) and volume >= 0`). A row
// that does not (false or null) is rejected: the run fails naming it, or, with `onError: skip |
// quarantine` on the stage, the row is set aside with the reason and the others go on. The error
// names rows by position, never by their values: a row may identify a patient.
import { Type } from 'apache-arrow';
import { z } from 'zod';
import { typeName } from '../../arrow/types.ts';
import { RejectedRows, SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { compileExpression } from './lib/expression/index.ts';

const params = z.object({
  where: z.string().min(1).describe('a bool expression every row must satisfy, e.g. "is_finite(close) and volume >= 0"'),
}).strict();

export const requireRows = defineMap({
  name: 'table.require',
  kind: 'map',
  version: '1',
  description: 'Rejects the rows where the `where` expression is not true (use onError: quarantine to keep going).',
  params,
  outputSchema({ params, inputs: [input] }) {
    const compiled = compileExpression(params.where, input);
    if (compiled.type.typeId !== Type.Bool) throw new SchemaError(`'where' must be a bool expression, but '${params.where}' is ${typeName(compiled.type)}`);
    return input;
  },
  create(params, { inputSchema }) {
    const compiled = compileExpression(params.where, inputSchema);
    const reason = `does not satisfy ${params.where}`;
    return (batch) => {
      const ok = compiled.mask(batch.data.children, batch.numRows);
      const rows: number[] = [];
      for (let i = 0; i < batch.numRows; i++) if (!ok[i]) rows.push(i);
      if (rows.length === 0) return batch;
      const shown = rows.slice(0, 5).join(', ') + (rows.length > 5 ? ', …' : '');
      throw new RejectedRows(rows, reason, `${rows.length} of the batch's ${batch.numRows} rows do not satisfy ${params.where} (rows ${shown}, counting from 0)`);
    };
  },
});
