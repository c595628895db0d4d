// Runs a sink stage on the main thread: writes its input, partition by partition, under temporary
// names. The runner commits every sink together once the whole run has succeeded; a committed
// sink's files are then kept in the cache. Files the cache can put back are not written again: a
// whole sink's, or, for a sink that writes a file per partition, each partition's on its own.
import { join, relative } from 'node:path';
import type { SinkRecord } from '../cache/store.ts';
import { StageRunError } from '../workflow/errors.ts';
import type { OutputRecord, PartitionInfo, SinkStage, SinkWriter } from '../workflow/stage.ts';
import type { StageNode } from './plan.ts';
import type { RunContext } from './runner.ts';

export async function runSink(node: StageNode, ctx: RunContext): Promise<SinkWriter> {
  const { stage: resolved } = node;
  const stage = resolved.stage as SinkStage;
  const stats = ctx.stats.get(node.id)!;
  const input = ctx.input(node.id, 0);
  const { store, keys } = ctx.tasks;
  const names = keys.stages.get(resolved.inputs[0])!.names;
  const partitions: PartitionInfo[] = names.map((key, index) => ({ index, key }));
  // A sink writing a file per partition: per partition, its kept record, or undefined where it is
  // written (the input wants only those). Any other sink: its kept record, or undefined.
  const kept = ctx.tasks.restorableParts.get(node.id);
  const whole = ctx.tasks.restorable.get(node.id);
  const perPartition = kept !== undefined;
  for (const record of kept ?? [whole]) {
    if (!record) continue;
    stats.tasks += record.partitions;
    stats.cached += record.partitions;
    stats.rowsIn += record.rowsIn;
    stats.rowsOut += record.rowsIn;
  }
  const nothingToWrite = whole !== undefined || (kept !== undefined && kept.length > 0 && kept.every(Boolean));
  // The input is read even when nothing is written: it wants no partition then, so nothing is held
  // in it, and upstream still replays what must reach this run's quarantine.
  const writer = nothingToWrite ? undefined
    : await stage.open(resolved.params, { schema: resolved.schema, outDir: ctx.outDir, stageId: node.id, partitions });
  if (writer) ctx.openedSinks.push(writer);
  const rowsOf = new Map<number, number>();
  let partition: PartitionInfo | undefined;
  for (let item = input.poll() ?? (await input.next()); item; item = input.poll() ?? (await input.next())) {
    if (!writer) continue;
    const started = performance.now();
    try {
      if (item.kind === 'start') {
        partition = item.partition;
        await writer.startPartition(partition);
      } else if (item.kind === 'batch') {
        await writer.write(item.batch);
        stats.rowsIn += item.batch.numRows;
        stats.rowsOut += item.batch.numRows;
        rowsOf.set(partition!.index, (rowsOf.get(partition!.index) ?? 0) + item.batch.numRows);
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

  const restore = async (record: SinkRecord, partition?: number): Promise<OutputRecord[]> => {
    const records: OutputRecord[] = [];
    for (const o of record.outputs) {
      const path = join(ctx.outDir, o.path);
      await store!.restoreFile(o.sha256, path);
      records.push({ path, sha256: o.sha256, bytes: o.bytes, ...(partition !== undefined ? { partition } : {}) });
    }
    return records;
  };
  const keep = async (records: OutputRecord[], key: string, rowsIn: number, count: number) => {
    const outputs = records.map((r) => ({ path: relative(ctx.outDir, r.path), sha256: r.sha256, bytes: r.bytes }));
    await store?.writeSinkRecord(key, { outputs, rowsIn, partitions: count }, ctx.outDir);
  };

  return {
    startPartition() {}, write() {}, endPartition() {},
    async commit(): Promise<OutputRecord[]> {
      if (whole) return restore(whole);
      const written = writer ? await writer.commit() : [];
      if (!perPartition) {
        await keep(written, keys.sinks.get(node.id)!, stats.rowsIn, stats.tasks);
        return written;
      }
      const partKeys = keys.sinkPartitions.get(node.id)!;
      const out: OutputRecord[] = [];
      for (const j of partitions.keys()) {
        const record = kept![j];
        if (record) out.push(...(await restore(record, j)));
        else {
          const mine = written.filter((r) => r.partition === j);
          await keep(mine, partKeys[j], rowsOf.get(j) ?? 0, 1);
          out.push(...mine);
        }
      }
      return out;
    },
    abort: async () => writer?.abort(),
  };
}
