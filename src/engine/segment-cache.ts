// Fills the cache as a segment computes: for each partition, every exit's batches go to a stream
// file and every member stage's counts to a record. A partition's entries are committed only when
// the partition has ended (streams first, then records), in the background; an unfinished one is
// thrown away, so the cache never holds part of a partition.
import type { RecordBatch } from 'apache-arrow';
import { segmentMembers } from '../cache/decide.ts';
import { rejectedKey } from '../cache/keys.ts';
import type { StreamFileWriter } from '../cache/stream-file.ts';
import type { PartitionInfo } from '../workflow/stage.ts';
import type { SegmentNode } from './plan.ts';
import type { RunContext } from './runner.ts';
import type { StageCounts } from './task.ts';

export class SegmentCache {
  private readonly members: string[];
  private writers: (StreamFileWriter | undefined)[] = [];
  /** Per member: the rows it rejected in the open partition, when any. */
  private rejected = new Map<number, StreamFileWriter>();
  private partition?: PartitionInfo;
  private counts: StageCounts[] = [];
  private readonly commits: Promise<void>[] = [];

  constructor(private readonly node: SegmentNode, private readonly ctx: RunContext) {
    this.members = segmentMembers(node);
  }

  key(stageId: string, partition: number): string {
    return this.ctx.tasks.keys.stages.get(stageId)!.keys[partition];
  }

  start(partition: PartitionInfo): void {
    const store = this.ctx.tasks.store;
    if (!store) return;
    this.partition = partition;
    this.counts = this.members.map(() => ({ rowsIn: 0, rowsOut: 0, quarantined: 0, seconds: 0 }));
    this.writers = this.node.exits.map((id) => {
      const key = this.key(id, partition.index);
      return store.hasStream(key) ? undefined : store.openStream(key, this.ctx.plan.workflow.byId.get(id)!.schema);
    });
  }

  count(counts: StageCounts[]): void {
    if (!this.partition) return;
    counts.forEach((c, i) => {
      this.counts[i].rowsIn += c.rowsIn;
      this.counts[i].rowsOut += c.rowsOut;
      this.counts[i].quarantined += c.quarantined;
      this.counts[i].seconds += c.seconds;
    });
  }

  /** Returns a promise only when the cache's writer is behind. */
  write(exit: number, batch: RecordBatch): Promise<void> | undefined {
    return this.writers[exit]?.write(batch);
  }

  /** Keeps rows member `stage` rejected, to put them in the quarantine again on a replay. */
  reject(stage: number, batch: RecordBatch): Promise<void> | undefined {
    const store = this.ctx.tasks.store;
    if (!store || !this.partition) return;
    let writer = this.rejected.get(stage);
    if (!writer) {
      writer = store.openStream(rejectedKey(this.key(this.members[stage], this.partition.index)), batch.schema);
      this.rejected.set(stage, writer);
    }
    return writer.write(batch);
  }

  end(): void {
    const store = this.ctx.tasks.store;
    if (!store || !this.partition) return;
    const index = this.partition.index;
    const writers = [...this.writers, ...this.rejected.values()];
    const counts = this.counts;
    this.partition = undefined;
    this.writers = [];
    this.rejected = new Map();
    const finished = Promise.all(writers.map((w) => w?.finish()));
    finished.catch(() => undefined);
    // One partition's records after another's: thousands of small partitions must not open
    // thousands of files at once.
    const previous = this.commits.at(-1)?.catch(() => undefined);
    const commit = (async () => {
      await previous;
      await finished;
      await Promise.all(this.members.map((id, i) => store.writeRecord(this.key(id, index), counts[i])));
    })();
    commit.catch(() => undefined); // settle() reports it
    this.commits.push(commit);
  }

  /** Waits for every committed partition; fails if one could not be written. */
  async settle(): Promise<void> {
    await Promise.all(this.commits);
  }

  /** Drops the partition still open, if any. */
  async abort(): Promise<void> {
    const writers = [...this.writers, ...this.rejected.values()];
    this.writers = [];
    this.rejected = new Map();
    this.partition = undefined;
    await Promise.all(writers.map((w) => w?.abort()));
    await Promise.allSettled(this.commits);
  }
}
