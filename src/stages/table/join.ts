// STUB: replaced by the real stage.
import { z } from 'zod';
import { defineReduce } from '../../workflow/stage.ts';

export const join = defineReduce({
  name: 'table.join', kind: 'reduce', version: '0', description: 'not implemented yet', params: z.object({}).passthrough(),
  outputSchema: () => { throw new Error('not implemented'); },
  scope: () => 'all', create: () => { throw new Error('not implemented'); },
});
