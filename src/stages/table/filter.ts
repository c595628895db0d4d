// STUB: replaced by the real stage.
import { z } from 'zod';
import { defineMap } from '../../workflow/stage.ts';

export const filter = defineMap({
  name: 'table.filter', kind: 'map', version: '0', description: 'not implemented yet', params: z.object({}).passthrough(),
  outputSchema: () => { throw new Error('not implemented'); },
  create: () => { throw new Error('not implemented'); },
});
