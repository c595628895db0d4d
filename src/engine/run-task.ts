// Executes a task request inside a worker: reads each unit (a source chunk, or batches sent in),
// pushes its batches through the segment's fused map stages, and collects what leaves the segment.
import type { RecordBatch, Schema } from 'apache-arrow';
import { decodeBatches, decodeSchema, encodeBatches } from '../arrow/ipc.ts';
import type { StageCatalog } from '../workflow/catalog.ts';
import { StageRunError } from '../workflow/errors.ts';
import type { MapFunction, SourceStage } from '../workflow/stage.ts';
import { checkSchema } from './check-schema.ts';
import type { SegmentSpec, StageCounts, TaskRequest, TaskResult } from './task.ts';

interface Instance {
  source?: { id: string; stage: SourceStage; params: unknown; schema: Schema };
  inputSchema: Schema;
  maps: { id: string; fn: MapFunction; schema: Schema }[];
  /** children[i + 1] = maps fed by node i (-1 is the root). */
  children: number[][];
  /** exitOf[i + 1] = exit index of node i, or -1. */
  exitOf: number[];
}

const instances = new Map<string, Promise<Instance>>();

async function instantiate(spec: SegmentSpec, catalog: StageCatalog): Promise<Instance> {
  const inputSchema = decodeSchema(spec.inputSchema);
  const schemas = new Map<number, Schema>([[-1, inputSchema]]);
  let source: Instance['source'];
  if (spec.source) {
    const stage = await catalog.resolve(spec.source.use, spec.baseDir);
    if (stage.kind !== 'source') throw new Error(`stage '${spec.source.id}' is not a source`);
    source = { id: spec.source.id, stage, params: spec.source.params, schema: inputSchema };
  }
  const maps: Instance['maps'] = [];
  for (const [i, ref] of spec.maps.entries()) {
    const stage = await catalog.resolve(ref.use, spec.baseDir);
    if (stage.kind !== 'map' && stage.kind !== 'model') throw new Error(`stage '${ref.id}' is not a map`);
    const input = schemas.get(ref.parent)!;
    const schema = stage.outputSchema({ params: ref.params, inputs: [input], baseDir: spec.baseDir });
    schemas.set(i, schema);
    const fn = await stage.create(ref.params, { inputSchema: input, outputSchema: schema, baseDir: spec.baseDir });
    maps.push({ id: ref.id, fn, schema });
  }
  const children = [[], ...spec.maps.map(() => [])] as number[][];
  spec.maps.forEach((m, i) => children[m.parent + 1].push(i));
  const exitOf = [-1, ...spec.maps.map(() => -1)];
  spec.exits.forEach((node, exit) => (exitOf[node + 1] = exit));
  return { source, inputSchema, maps, children, exitOf };
}

export async function runTask(request: TaskRequest, catalog: StageCatalog): Promise<TaskResult> {
  const { segment, units } = request;
  if (units.length === 0) return { outputs: segment.exits.map(() => null), batchCounts: segment.exits.map(() => []), counts: [] };
  let pending = instances.get(segment.key);
  if (!pending) {
    pending = instantiate(segment, catalog);
    instances.set(segment.key, pending);
    pending.catch(() => instances.delete(segment.key));
  }
  const instance = await pending;
  const nodes = (instance.source ? 1 : 0) + instance.maps.length;
  const unitCounts: StageCounts[][] = units.map(() => Array.from({ length: nodes }, () => ({ rowsIn: 0, rowsOut: 0, seconds: 0 })));
  const exitBatches: RecordBatch[][] = segment.exits.map(() => []);
  const batchCounts: number[][] = segment.exits.map(() => units.map(() => 0));

  for (const [u, unit] of units.entries()) {
    const counts = unitCounts[u];
    const mapCounts = instance.source ? counts.slice(1) : counts;
    const deliver = async (node: number, batch: RecordBatch): Promise<void> => {
      const exit = instance.exitOf[node + 1];
      if (exit >= 0) {
        exitBatches[exit].push(batch);
        batchCounts[exit][u]++;
      }
      for (const child of instance.children[node + 1]) {
        const map = instance.maps[child];
        const started = performance.now();
        let out: RecordBatch | null;
        try {
          out = await map.fn(batch, unit.partition);
        } catch (error) {
          throw new StageRunError(map.id, error, { partition: unit.partition.key });
        }
        const c = mapCounts[child];
        c.seconds += (performance.now() - started) / 1000;
        c.rowsIn += batch.numRows;
        if (!out) continue;
        checkSchema(map.id, out.schema, map.schema);
        c.rowsOut += out.numRows;
        if (out.numRows > 0) await deliver(child, out);
      }
    };
    if (unit.input) {
      for (const batch of decodeBatches(unit.input).batches) await deliver(-1, batch);
      continue;
    }
    const source = instance.source!;
    let mark = performance.now();
    try {
      for await (const batch of source.stage.read(unit.chunk!, source.params, { schema: source.schema, partition: unit.partition })) {
        counts[0].seconds += (performance.now() - mark) / 1000;
        counts[0].rowsOut += batch.numRows;
        checkSchema(source.id, batch.schema, source.schema);
        if (batch.numRows > 0) await deliver(-1, batch);
        mark = performance.now();
      }
    } catch (error) {
      if (error instanceof StageRunError) throw error;
      throw new StageRunError(source.id, error, { file: unit.partition.key });
    }
  }

  const outputs = exitBatches.map((batches) => (batches.length ? encodeBatches(batches[0].schema, batches) : null));
  return { outputs, batchCounts, counts: unitCounts };
}
