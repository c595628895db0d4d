// Entry point of a worker thread: unpacks task requests, runs them with the stage catalog each one
// names, and moves the output bytes back to the main thread without copying them. A failure comes
// back as a value (errors lose their kind between threads).
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { runTask } from '../src/engine/run-task.ts';
import { unpackSegment, unpackUnits, type PackedRequest } from '../src/engine/task-codec.ts';
import { taskFailure } from '../src/engine/task-error.ts';
import type { SegmentSpec, TaskReply, TaskResult } from '../src/engine/task.ts';
import { StageCatalog } from '../src/workflow/catalog.ts';
import { compiled, packageRoot } from '../src/workflow/own-code.ts';

// Compiled, this file is the thread's entry (no thread.mjs): in a worker process, the imports of
// stage files unpacked from bundles are resolved against this quiver (bundle-imports.mjs) here.
if (compiled && workerData?.bundles) register(new URL('workers/bundle-imports.mjs', packageRoot), { data: { bundles: workerData.bundles } });

const segments = new Map<string, SegmentSpec>();

class MovableResult {
  constructor(private readonly result: TaskResult) {}
  get [Piscina.transferableSymbol]() {
    return [...this.result.outputs, ...this.result.rejected.map((r) => r.bytes)].flatMap((o) => (o ? [o.buffer] : []));
  }
  get [Piscina.valueSymbol](): TaskReply {
    return { result: this.result };
  }
}

export default async function (packed: PackedRequest) {
  let segment = segments.get(packed.key);
  if (!segment) segments.set(packed.key, (segment = unpackSegment(packed.segment)));
  const units = unpackUnits(packed);
  try {
    // A request without units (LocalExecutor.warm) loads the catalog ahead of the tasks that need it.
    if (units.length === 0) await StageCatalog.load(segment.catalog);
    const result = await runTask({ segment, units, fresh: packed.fresh });
    return Piscina.move(new MovableResult(result) as never);
  } catch (error) {
    return { failure: taskFailure(error, [segment.source?.id ?? [], ...segment.maps.map((m) => m.id)].flat()) } satisfies TaskReply;
  }
}
