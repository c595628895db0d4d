// `table.limit`: the first `rows` rows (after skipping `offset`), in input order. Once enough rows
// are out it reports itself done, and the engine stops reading upstream.
import { z } from 'zod';
import { defineReduce } from '../../workflow/stage.ts';

const params = z.object({
  rows: z.number().int().min(0).describe('How many rows to keep'),
  offset: z.number().int().min(0).default(0).describe('How many rows to skip first (default 0)'),
}).strict();

export const limit = defineReduce({
  name: 'table.limit',
  kind: 'reduce',
  version: '1',
  description: 'Keeps the first `rows` rows after skipping `offset`, and stops reading upstream once it has them.',
  params,
  outputSchema: ({ inputs: [input] }) => input,
  scope: () => 'all',
  create(p) {
    let skip = p.offset;
    let left = p.rows;
    return {
      push(batch) {
        if (left === 0) return null;
        const start = Math.min(skip, batch.numRows);
        skip -= start;
        const end = Math.min(batch.numRows, start + left);
        left -= end - start;
        if (end === start) return null;
        return start === 0 && end === batch.numRows ? batch : batch.slice(start, end);
      },
      isDone: () => left === 0,
    };
  },
});
