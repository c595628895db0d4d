// Stage files for the cache tests (`use: <this file>#name`). The fixtures are re-exported from here
// so that the stages' cache keys hash this small file, not test/fixtures/stages.ts, which other
// suites grow: an edit there must not change what these tests expect to be cached.
import { z } from 'zod';
import { defineMap } from '../../src/workflow/stage.ts';

export { burn, double, hang, picky } from '../fixtures/stages.ts';

/**
 * Passes batches on unchanged after a short busy wait whose length depends on the batch's first
 * `id` and on QUIVER_TEST_JITTER (read in the worker, so it never enters a cache key): two runs
 * with different values finish their partitions in different orders.
 */
export const jitter = defineMap({
  name: 'test.jitter', kind: 'map', version: '1', description: 'waits a pseudo-random moment per batch',
  params: z.object({ maxMs: z.number().min(0).default(4) }).strict(),
  outputSchema: ({ inputs }) => inputs[0],
  create: (params) => (batch) => {
    const salt = Number(process.env.QUIVER_TEST_JITTER ?? 0);
    const first = Number(batch.getChild('id')?.get(0) ?? 0);
    let h = (Math.imul(first + 1, 2654435761) ^ Math.imul(salt + 7, 40503)) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 2246822519) >>> 0;
    const until = performance.now() + (h / 2 ** 32) * params.maxMs;
    while (performance.now() < until) { /* busy: a timer would let the batch overtake others less */ }
    return batch;
  },
});
