// Entry point of a worker thread: runs task requests with the built-in stage catalog and moves
// the output bytes back to the main thread without copying them.
import { Piscina } from 'piscina';
import { runTask } from '../src/engine/run-task.ts';
import type { TaskRequest, TaskResult } from '../src/engine/task.ts';
import { builtinCatalog } from '../src/stages/index.ts';

class MovableResult {
  constructor(private readonly result: TaskResult) {}
  get [Piscina.transferableSymbol]() {
    return this.result.outputs.flatMap((o) => (o ? [o.buffer] : []));
  }
  get [Piscina.valueSymbol]() {
    return this.result;
  }
}

export default async function (request: TaskRequest) {
  return Piscina.move(new MovableResult(await runTask(request, builtinCatalog)) as never);
}
