// Entry point of a worker thread: unpacks task requests, runs them with the built-in stage
// catalog, and moves the output bytes back to the main thread without copying them.
import { Piscina } from 'piscina';
import { runTask } from '../src/engine/run-task.ts';
import { unpackSegment, unpackUnits, type PackedRequest } from '../src/engine/task-codec.ts';
import type { SegmentSpec, TaskResult } from '../src/engine/task.ts';
import { builtinCatalog } from '../src/stages/index.ts';

const segments = new Map<string, SegmentSpec>();

class MovableResult {
  constructor(private readonly result: TaskResult) {}
  get [Piscina.transferableSymbol]() {
    return [...this.result.outputs, ...this.result.rejected.map((r) => r.bytes)].flatMap((o) => (o ? [o.buffer] : []));
  }
  get [Piscina.valueSymbol]() {
    return this.result;
  }
}

export default async function (packed: PackedRequest) {
  let segment = segments.get(packed.key);
  if (!segment) segments.set(packed.key, (segment = unpackSegment(packed.segment)));
  const result = await runTask({ segment, units: unpackUnits(packed), fresh: packed.fresh }, builtinCatalog);
  return Piscina.move(new MovableResult(result) as never);
}
