// The task cache as the runners use it, one node at a time (DESIGN.md §1). While a partition is
// computed, what it outputs goes to stream entries; once it has ended, its entries are committed in
// the background, in partition order and streams before records, so the store never holds part of
// a partition and a record never names a stream that is not there. What is cached is replayed in
// its place on a later run: streams batch by batch, sink files put back as they were.
import type { RecordBatch, Schema } from 'apache-arrow';
import { relative } from 'node:path';
import type { Store, StreamWriter } from '../cache/store.ts';
import type { FileStamp } from '../cache/store.ts';
import { sinkFile } from '../io/file-sink.ts';
import type { OutputRecord } from '../workflow/stage.ts';

/** What a stage did for one partition, kept beside its output. */
export interface TaskRecord {
  rowsIn: number;
  rowsOut: number;
  quarantined: number;
  /** Seconds the stage spent computing it, when it was computed. */
  seconds: number;
}

/** The files a sink wrote (for a whole sink, or one partition's file), by sha256. */
export interface SinkRecord {
  /** Paths relative to the output folder. */
  outputs: { path: string; sha256: string; bytes: number }[];
  rowsIn: number;
  partitions: number;
  /** Per output: its kept file's stamp (see FileStamp). */
  kept?: FileStamp[];
}

/** A sink's record, if every file it lists is still kept, unchanged since. */
export async function readSinkRecord(store: Store, key: string): Promise<SinkRecord | undefined> {
  const record = await store.readRecord<SinkRecord>('sink', key);
  if (!record) return undefined;
  for (const [i, o] of record.outputs.entries()) if (!(await store.hasFile(o.sha256, record.kept?.[i]))) return undefined;
  return record;
}

/**
 * One partition's entries while it is computed; streams open on their first batch. An entry that
 * is already stored is written again all the same: the same key gives the same bytes.
 */
export class OpenPartition {
  private readonly writers = new Map<string, StreamWriter>();

  constructor(private readonly store: Store) {}

  /** Returns a promise only when the store's writer is behind. */
  write(key: string, schema: Schema, batch: RecordBatch): Promise<void> | undefined {
    let writer = this.writers.get(key);
    if (!writer) this.writers.set(key, (writer = this.store.writeStream(key, schema)));
    return writer.write(batch);
  }

  commitStreams(): Promise<unknown> {
    return Promise.all([...this.writers.values()].map((w) => w.commit()));
  }

  async abort(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.abort()));
  }
}

export class PartitionCache {
  private readonly commits: Promise<void>[] = [];
  private readonly open = new Set<OpenPartition>();

  /** No store (--no-cache): nothing is kept and nothing replayed. */
  constructor(readonly store: Store | undefined) {}

  /** Starts a partition's entries (none without a store). */
  start(): OpenPartition | undefined {
    if (!this.store) return undefined;
    const partition = new OpenPartition(this.store);
    this.open.add(partition);
    return partition;
  }

  /** Commits the partition's streams, then `records`, after every partition committed before it. */
  commit(partition: OpenPartition | undefined, records: { key: string; record: TaskRecord }[]): void {
    const store = this.store;
    if (!store || !partition) return;
    this.open.delete(partition);
    const streams = partition.commitStreams();
    streams.catch(() => undefined); // observed below, after the partitions before it
    // One partition after another: thousands of small partitions must not open thousands of files at once.
    const previous = this.commits.at(-1)?.catch(() => undefined);
    const commit = (async () => {
      await previous;
      await streams;
      await Promise.all(records.map((r) => store.writeRecord('task', r.key, r.record)));
    })();
    commit.catch(() => undefined); // settle() reports it
    this.commits.push(commit);
  }

  /** Drops a partition that did not end (reading stopped inside it): it is not cached. */
  async drop(partition: OpenPartition | undefined): Promise<void> {
    if (!partition) return;
    this.open.delete(partition);
    await partition.abort();
  }

  record(key: string): Promise<TaskRecord | undefined> {
    return this.store?.readRecord<TaskRecord>('task', key) ?? Promise.resolve(undefined);
  }

  /** A committed stream's batches, as they were emitted. */
  replay(key: string): AsyncGenerator<RecordBatch> {
    return this.store!.readStream(key);
  }

  /** Keeps a sink's committed files and its record (paths in `outputs` are absolute). */
  async keepFiles(key: string, outDir: string, outputs: OutputRecord[], rowsIn: number, partitions: number): Promise<void> {
    const store = this.store;
    if (!store) return;
    const kept: FileStamp[] = [];
    for (const o of outputs) kept.push(await store.keepFile(o.path, o.sha256));
    const files = outputs.map((o) => ({ path: relative(outDir, o.path), sha256: o.sha256, bytes: o.bytes }));
    await store.writeRecord('sink', key, { outputs: files, rowsIn, partitions, kept } satisfies SinkRecord);
  }

  /** Puts a sink's kept files back into the output folder. */
  async restoreFiles(record: SinkRecord, outDir: string, partition?: number): Promise<OutputRecord[]> {
    const restored: OutputRecord[] = [];
    for (const o of record.outputs) {
      const path = sinkFile(outDir, o.path); // the folder may have changed since: a link planted there is not followed
      await this.store!.restoreFile(o.sha256, path);
      restored.push({ path, sha256: o.sha256, bytes: o.bytes, ...(partition !== undefined ? { partition } : {}) });
    }
    return restored;
  }

  /** Waits for every commit; fails if one could not be written. */
  async settle(): Promise<void> {
    await Promise.all(this.commits);
  }

  /** Drops every partition still open and waits for the commits under way. */
  async abort(): Promise<void> {
    const open = [...this.open];
    this.open.clear();
    await Promise.all(open.map((p) => p.abort()));
    await Promise.allSettled(this.commits);
  }
}
