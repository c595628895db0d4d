// STUB: replaced by the real connector.
import { z } from 'zod';
import { defineSink, defineSource } from '../../src/workflow/stage.ts';

export const csvSource = defineSource({
  name: 'source.csv', kind: 'source', version: '0', description: 'not implemented yet', params: z.object({}).passthrough(),
  discover: () => { throw new Error('not implemented'); },
  read: () => { throw new Error('not implemented'); },
});

export const csvSink = defineSink({
  name: 'sink.csv', kind: 'sink', version: '0', description: 'not implemented yet', params: z.object({}).passthrough(),
  open: () => { throw new Error('not implemented'); },
});
