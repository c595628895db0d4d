// The worker thread of fuzz.test.ts: TypeScript support first (as workers/thread.mjs does), then
// one read per message, answered with its outcome.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { outcomeOf } = await import('./fuzz-read.ts');

parentPort.on('message', async ({ id, task }) => {
  parentPort.postMessage({ id, outcome: await outcomeOf(task) });
});
parentPort.postMessage({ ready: true });
