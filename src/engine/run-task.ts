// Executes a task request inside a worker: reads each unit (a source chunk, or batches sent in),
// pushes its batches through the segment's fused map stages, and collects what leaves the segment.
import type { RecordBatch, Schema } from 'apache-arrow';
import { decodeBatches, decodeSchema, encodeBatches } from '../arrow/ipc.ts';
import { StageCatalog } from '../workflow/catalog.ts';
import { messageOf, StageRunError, UnreadableFile } from '../workflow/errors.ts';
import type { MapFunction, SourceStage } from '../workflow/stage.ts';
import { checkSchema } from './check-schema.ts';
import { withheldError, withoutBatchValues } from './withheld-values.ts';
import { applyTolerantly, rejectedRows, rejection, unreadableRows } from './rejected-rows.ts';
import type { Rejected, SegmentSpec, StageCounts, StageRef, TaskRequest, TaskResult } from './task.ts';

type OnError = NonNullable<StageRef['onError']>;

interface Instance {
  source?: { id: string; stage: SourceStage; params: unknown; schema: Schema; onError: OnError };
  inputSchema: Schema;
  maps: { id: string; fn: MapFunction; schema: Schema; inputSchema: Schema; onError: OnError; withholdValues: boolean }[];
  /** children[i + 1] = maps fed by node i (-1 is the root). */
  children: number[][];
  /** exitOf[i + 1] = exit index of node i, or -1. */
  exitOf: number[];
}

const instances = new Map<string, Promise<Instance>>();

async function instantiate(spec: SegmentSpec): Promise<Instance> {
  const catalog = await StageCatalog.load(spec.catalog);
  const inputSchema = decodeSchema(spec.inputSchema);
  const schemas = new Map<number, Schema>([[-1, inputSchema]]);
  let source: Instance['source'];
  if (spec.source) {
    const ref = spec.source;
    const stage = await building(ref.id, () => catalog.resolve(ref.use, spec.codeDir ?? spec.baseDir));
    if (stage.kind !== 'source') throw new StageRunError(ref.id, `'${ref.use}' is not a source`);
    source = { id: ref.id, stage, params: ref.params, schema: inputSchema, onError: ref.onError ?? 'fail' };
  }
  const maps: Instance['maps'] = [];
  for (const [i, ref] of spec.maps.entries()) {
    const map = await building(ref.id, async () => {
      const stage = await catalog.resolve(ref.use, spec.codeDir ?? spec.baseDir);
      if (stage.kind !== 'map' && stage.kind !== 'model') throw new Error(`'${ref.use}' is not a map`);
      const input = schemas.get(ref.parent)!;
      const schema = stage.outputSchema({ params: ref.params, inputs: [input], baseDir: spec.baseDir });
      const fn = await stage.create(ref.params, { inputSchema: input, outputSchema: schema, baseDir: spec.baseDir });
      return { id: ref.id, fn, schema, inputSchema: input, onError: ref.onError ?? 'fail', withholdValues: !!ref.withholdValues };
    });
    schemas.set(i, map.schema);
    maps.push(map);
  }
  const children = [[], ...spec.maps.map(() => [])] as number[][];
  spec.maps.forEach((m, i) => children[m.parent + 1].push(i));
  const exitOf = [-1, ...spec.maps.map(() => -1)];
  spec.exits.forEach((node, exit) => (exitOf[node + 1] = exit));
  return { source, inputSchema, maps, children, exitOf };
}

/** Builds one stage, naming it in what goes wrong (an unknown `use`, a `create` that throws). */
async function building<T>(id: string, build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (error) {
    throw error instanceof StageRunError ? error : new StageRunError(id, error);
  }
}

/** The segment's stages: built once per worker for all its tasks, or afresh for a retry. */
function instanceFor(segment: SegmentSpec, fresh = false): Promise<Instance> {
  if (fresh) instances.delete(segment.key);
  let pending = instances.get(segment.key);
  if (!pending) {
    pending = instantiate(segment);
    instances.set(segment.key, pending);
    pending.catch(() => instances.delete(segment.key));
  }
  return pending;
}

export async function runTask(request: TaskRequest): Promise<TaskResult> {
  const { segment, units } = request;
  if (units.length === 0) return { outputs: segment.exits.map(() => null), batchCounts: segment.exits.map(() => []), counts: [], rejected: [] };
  const run = new TaskRun(await instanceFor(segment, request.fresh), request);
  for (const u of units.keys()) await run.unit(u);
  return run.result();
}

/** One request's work: its units through the segment's stages, and what leaves them. */
class TaskRun {
  private readonly counts: StageCounts[][];
  private readonly rejected: Rejected[] = [];
  private readonly exitBatches: RecordBatch[][];
  private readonly batchCounts: number[][];
  /** Index of the first map among the counts (the source, if any, is 0). */
  private readonly offset: number;

  constructor(private readonly instance: Instance, private readonly request: TaskRequest) {
    this.offset = instance.source ? 1 : 0;
    this.counts = request.units.map(() => this.zero());
    this.exitBatches = request.segment.exits.map(() => []);
    this.batchCounts = request.segment.exits.map(() => request.units.map(() => 0));
  }

  private zero(): StageCounts[] {
    return Array.from({ length: this.offset + this.instance.maps.length }, () => ({ rowsIn: 0, rowsOut: 0, quarantined: 0, seconds: 0 }));
  }

  private reject(stage: number, u: number, rows: RecordBatch, policy: OnError, count?: number): void {
    this.rejected.push(rejection(stage, u, rows, policy, count));
  }

  async unit(u: number): Promise<void> {
    const unit = this.request.units[u];
    if (unit.input) {
      for (const batch of decodeBatches(unit.input).batches) await this.deliver(u, -1, batch);
      return;
    }
    const source = this.instance.source!;
    const chunk = unit.chunk!;
    const counts = this.counts[u];
    // Where this unit's output starts, to take it back if the chunk turns out unreadable.
    const kept = { batches: this.exitBatches.map((b) => b.length), rejected: this.rejected.length };
    // Rows the source sets aside one by one (a bad CSV line) while the rest of the chunk goes on.
    const rejectRows = source.onError === 'fail' ? undefined : (reason: string, rows = 1) => {
      this.reject(0, u, unreadableRows(source.schema, reason, rows, source.id, unit.partition.key), source.onError, rows);
      counts[0].quarantined += rows;
    };
    let mark = performance.now();
    try {
      if (chunk.unreadable !== undefined) throw new UnreadableFile(unit.partition.key, chunk.unreadable);
      for await (const batch of source.stage.read(chunk, source.params, { schema: source.schema, partition: unit.partition, reject: rejectRows })) {
        counts[0].seconds += (performance.now() - mark) / 1000;
        counts[0].rowsOut += batch.numRows;
        checkSchema(source.id, batch.schema, source.schema);
        if (batch.numRows > 0) await this.deliver(u, -1, batch);
        mark = performance.now();
      }
    } catch (error) {
      if (error instanceof StageRunError) throw error;
      if (source.onError === 'fail') throw new StageRunError(source.id, error, { file: unit.partition.key });
      // The whole chunk is set aside: as many rows as it holds, when the source said.
      this.exitBatches.forEach((b, exit) => {
        b.length = kept.batches[exit];
        this.batchCounts[exit][u] = 0;
      });
      this.rejected.length = kept.rejected;
      this.counts[u] = this.zero();
      const rows = chunk.rows ?? 1;
      this.counts[u][0].quarantined = rows;
      this.reject(0, u, unreadableRows(source.schema, messageOf(error), rows, source.id, unit.partition.key), source.onError, rows);
    }
  }

  /** Passes `batch`, the output of `node` (-1: the segment's input), to the maps it feeds and to its exit. */
  private async deliver(u: number, node: number, batch: RecordBatch): Promise<void> {
    const { instance } = this;
    const partition = this.request.units[u].partition;
    const exit = instance.exitOf[node + 1];
    if (exit >= 0) {
      this.exitBatches[exit].push(batch);
      this.batchCounts[exit][u]++;
    }
    for (const child of instance.children[node + 1]) {
      const map = instance.maps[child];
      const c = this.counts[u][child + this.offset];
      const started = performance.now();
      let outs: (RecordBatch | null)[];
      try {
        outs = [await map.fn(batch, partition)];
      } catch (thrown) {
        const error = map.withholdValues ? withheldError(thrown, batch) : thrown;
        if (map.onError === 'fail') throw new StageRunError(map.id, error, { partition: partition.key });
        const tolerated = await applyTolerantly(map.fn, batch, partition, error);
        outs = tolerated.outputs;
        const failed = map.withholdValues ? tolerated.failed.map((f) => ({ ...f, error: withoutBatchValues(f.error, batch) })) : tolerated.failed;
        this.reject(child + this.offset, u, rejectedRows(batch, failed, map.id, partition.key), map.onError);
        c.quarantined += tolerated.failed.length;
      }
      c.seconds += (performance.now() - started) / 1000;
      c.rowsIn += batch.numRows;
      for (const out of outs) {
        if (!out) continue;
        checkSchema(map.id, out.schema, map.schema);
        c.rowsOut += out.numRows;
        if (out.numRows > 0) await this.deliver(u, child, out);
      }
    }
  }

  result(): TaskResult {
    const outputs = this.exitBatches.map((batches) => (batches.length ? encodeBatches(batches[0].schema, batches) : null));
    return { outputs, batchCounts: this.batchCounts, counts: this.counts, rejected: this.rejected };
  }
}
