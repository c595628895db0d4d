// Worker threads start here: TypeScript support first (tsx registers its loader in this thread,
// which Node 20 does not inherit from the main thread), then the task runner.
import { register } from 'tsx/esm/api';

register();
const { default: runTaskRequest } = await import('./task-worker.ts');

export default runTaskRequest;
