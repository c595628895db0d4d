// Runs a sink stage on the main thread: writes its input, partition by partition, under temporary
// names. The runner commits every sink together once the whole run has succeeded; a committed
// sink's files are then kept in the cache. A sink the cache can put back reads nothing.
import { join, relative } from 'node:path';
import { StageRunError } from '../workflow/errors.ts';
import type { OutputRecord, PartitionInfo, SinkStage, SinkWriter } from '../workflow/stage.ts';
import type { StageNode } from './plan.ts';
import type { RunContext } from './runner.ts';

export async function runSink(node: StageNode, ctx: RunContext): Promise<SinkWriter> {
  const { stage: resolved } = node;
  const stage = resolved.stage as SinkStage;
  const stats = ctx.stats.get(node.id)!;
  const input = ctx.input(node.id, 0);
  const { store, restorable } = ctx.tasks;
  const key = ctx.tasks.keys.sinks.get(node.id)!;

  const kept = restorable.get(node.id);
  if (kept) {
    // The input is left open, not abandoned: it wants no partition, so nothing is held in it, and
    // upstream still replays what must reach this run's quarantine.
    stats.tasks = stats.cached = kept.partitions;
    stats.rowsIn = stats.rowsOut = kept.rowsIn;
    return {
      startPartition() {}, write() {}, endPartition() {},
      async commit(): Promise<OutputRecord[]> {
        const records: OutputRecord[] = [];
        for (const o of kept.outputs) {
          const path = join(ctx.outDir, o.path);
          await store!.restoreFile(o.sha256, path);
          records.push({ ...o, path });
        }
        return records;
      },
      async abort() {},
    };
  }

  const writer = await stage.open(resolved.params, { schema: resolved.schema, outDir: ctx.outDir, stageId: node.id });
  ctx.openedSinks.push(writer);
  let partition: PartitionInfo | undefined;
  for (let item = input.poll() ?? (await input.next()); item; item = input.poll() ?? (await input.next())) {
    const started = performance.now();
    try {
      if (item.kind === 'start') {
        partition = item.partition;
        await writer.startPartition(partition);
      } else if (item.kind === 'batch') {
        await writer.write(item.batch);
        stats.rowsIn += item.batch.numRows;
        stats.rowsOut += item.batch.numRows;
      } else {
        await writer.endPartition(item.partition);
        stats.tasks++;
      }
    } catch (error) {
      throw new StageRunError(node.id, error, { partition: partition?.key });
    } finally {
      stats.seconds += (performance.now() - started) / 1000;
    }
  }
  if (!store) return writer;
  return {
    startPartition() {}, write() {}, endPartition() {},
    async commit() {
      const records = await writer.commit();
      const outputs = records.map((r) => ({ ...r, path: relative(ctx.outDir, r.path) }));
      await store.writeSinkRecord(key, { outputs, rowsIn: stats.rowsIn, partitions: stats.tasks }, ctx.outDir);
      return records;
    },
    abort: () => writer.abort(),
  };
}
