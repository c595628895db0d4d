// STUB: replaced by the real connector.
import { z } from 'zod';
import { defineSink, defineSource } from '../src/workflow/stage.ts';

export const arrowSource = defineSource({
  name: 'source.arrow', kind: 'source', version: '0', description: 'not implemented yet', params: z.object({}).passthrough(),
  discover: () => { throw new Error('not implemented'); },
  read: () => { throw new Error('not implemented'); },
});

export const arrowSink = defineSink({
  name: 'sink.arrow', kind: 'sink', version: '0', description: 'not implemented yet', params: z.object({}).passthrough(),
  open: () => { throw new Error('not implemented'); },
});
