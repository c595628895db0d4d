// Runs a sink stage on the main thread: writes its input, partition by partition, under temporary
// names. The runner commits every sink together once the whole run has succeeded; a committed
// sink's files are then kept in the cache. Files the cache can put back are not written again: a
// whole sink's, or, for a sink that writes a file per partition, each partition's on its own.
import type { StageStats } from '../provenance/stage-stats.ts';
import { StageRunError } from '../workflow/errors.ts';
import type { OutputRecord, PartitionInfo, SinkStage, SinkWriter } from '../workflow/stage.ts';
import type { ResolvedStage } from '../workflow/validate.ts';
import { PartitionCache, type SinkRecord } from './partition-cache.ts';
import type { StageNode } from './plan.ts';
import type { RunContext } from './run-context.ts';

export class SinkRunner {
  private readonly resolved: ResolvedStage;
  private readonly stats: StageStats;
  private readonly cache: PartitionCache;
  /** Every partition the input has, in order. */
  private readonly partitions: PartitionInfo[];
  /** A sink writing a file per partition: per partition, its kept record, or undefined where it is written. */
  private readonly kept?: (SinkRecord | undefined)[];
  /** Any other sink: its kept record, if its files can be put back. */
  private readonly whole?: SinkRecord;
  private writer?: SinkWriter;
  private partition?: PartitionInfo;
  /** Rows written per partition index. */
  private readonly rowsOf = new Map<number, number>();

  constructor(private readonly node: StageNode, private readonly ctx: RunContext) {
    this.resolved = node.stage;
    this.stats = ctx.stats.get(node.id)!;
    this.cache = new PartitionCache(ctx.tasks.store);
    this.partitions = ctx.tasks.keys.stages.get(this.resolved.inputs[0])!.names.map((key, index) => ({ index, key }));
    this.kept = ctx.tasks.restorableParts.get(node.id);
    this.whole = ctx.tasks.restorable.get(node.id);
  }

  async run(): Promise<void> {
    for (const record of this.kept ?? [this.whole]) {
      if (!record) continue;
      this.stats.tasks += record.partitions;
      this.stats.cached += record.partitions;
      this.stats.rowsIn += record.rowsIn;
      this.stats.rowsOut += record.rowsIn;
    }
    const nothingToWrite = this.whole !== undefined || (this.kept !== undefined && this.kept.length > 0 && this.kept.every(Boolean));
    if (!nothingToWrite) {
      const { params, schema } = this.resolved;
      this.writer = await (this.resolved.stage as SinkStage).open(params, { schema, outDir: this.ctx.outDir, stageId: this.node.id, partitions: this.partitions });
    }
    // The input is read even when nothing is written: it wants no partition then, so nothing is held
    // in it, and upstream still replays what must reach this run's quarantine.
    const input = this.ctx.input(this.node.id, 0);
    const writer = this.writer;
    for (let item = input.poll() ?? (await input.next()); item; item = input.poll() ?? (await input.next())) {
      if (!writer) continue;
      const started = performance.now();
      try {
        if (item.kind === 'start') {
          this.partition = item.partition;
          await writer.startPartition(item.partition);
        } else if (item.kind === 'batch') {
          await writer.write(item.batch);
          this.stats.rowsIn += item.batch.numRows;
          this.stats.rowsOut += item.batch.numRows;
          const j = this.partition!.index;
          this.rowsOf.set(j, (this.rowsOf.get(j) ?? 0) + item.batch.numRows);
        } else {
          await writer.endPartition(item.partition);
          this.stats.tasks++;
        }
      } catch (error) {
        throw new StageRunError(this.node.id, error, { partition: this.partition?.key });
      } finally {
        this.stats.seconds += (performance.now() - started) / 1000;
      }
    }
  }

  /** Makes the outputs visible (written or put back from the cache) and keeps those written. */
  async commit(): Promise<OutputRecord[]> {
    const { outDir, tasks } = this.ctx;
    if (this.whole) return this.cache.restoreFiles(this.whole, outDir);
    const written = this.writer ? await this.writer.commit() : [];
    if (!this.kept) {
      await this.cache.keepFiles(tasks.keys.sinks.get(this.node.id)!, outDir, written, this.stats.rowsIn, this.stats.tasks);
      return written;
    }
    const partKeys = tasks.keys.sinkPartitions.get(this.node.id)!;
    const out: OutputRecord[] = [];
    for (const j of this.partitions.keys()) {
      const record = this.kept[j];
      if (record) out.push(...(await this.cache.restoreFiles(record, outDir, j)));
      else {
        const mine = written.filter((r) => r.partition === j);
        await this.cache.keepFiles(partKeys[j], outDir, mine, this.rowsOf.get(j) ?? 0, 1);
        out.push(...mine);
      }
    }
    return out;
  }

  /** Removes whatever was written (the run failed). */
  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}
