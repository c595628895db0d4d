// Worker threads start here: TypeScript support first (tsx registers its loader in this thread,
// which Node 20 does not inherit from the main thread), then the task runner. In a worker process
// (`quiver worker`), stage files come from unpacked bundles, whose imports of quiver and of
// packages are resolved against this quiver (bundle-imports.mjs), registered last so it runs first.
import { register as registerHooks } from 'node:module';
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
if (workerData?.bundles) registerHooks('./bundle-imports.mjs', import.meta.url, { data: { bundles: workerData.bundles } });
const { default: runTaskRequest } = await import('./task-worker.ts');

export default runTaskRequest;
