// A bounded, ordered stream of partitions and batches between two stages.
// `put` waits while the bytes held exceed the budget (backpressure). A spilling channel never
// waits: past its budget it writes batches to a temporary file, for edges that would otherwise
// deadlock (two branches of one source meeting again in a join or concat).
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { RecordBatch } from 'apache-arrow';
import { batchBytes, decodeBatches, encodeBatches } from '../arrow/ipc.ts';
import type { PartitionInfo } from '../workflow/stage.ts';

export type Item =
  | { kind: 'start'; partition: PartitionInfo }
  | { kind: 'batch'; batch: RecordBatch }
  | { kind: 'end'; partition: PartitionInfo };

type Held = { item: Item; bytes: number } | { spilled: { offset: number; length: number } };

export interface ChannelOptions {
  budgetBytes: number;
  /** A file to spill to instead of waiting when over budget. */
  spillFile?: string;
  /** The partitions (by index) the reader wants; the others are dropped on the way in. */
  wants?: Set<number>;
}

export class Channel implements AsyncIterable<Item> {
  private readonly held: Held[] = [];
  private head = 0;
  private bytes = 0;
  private closed = false;
  /** The reader stopped early (a limit was reached): what is still written is not wanted. */
  private abandoned = false;
  private error: unknown;
  private wakeReader?: () => void;
  private readonly wakeWriters: (() => void)[] = [];
  private spill?: { fd: number; size: number; path: string };
  /** Inside a partition the reader does not want. */
  private dropping = false;
  /** Most bytes held in memory at once, for tests and benchmarks. */
  peakBytes = 0;

  constructor(private readonly options: ChannelOptions) {}

  /** Bytes of batches held past which a writer waits (or the channel spills). */
  get budgetBytes(): number {
    return this.options.budgetBytes;
  }

  /** The reader has stopped; nothing more is wanted. */
  get isAbandoned(): boolean {
    return this.abandoned;
  }

  get spilledBytes(): number {
    return this.spill?.size ?? 0;
  }

  /** Does the reader want this partition? */
  wants(partition: number): boolean {
    return !this.abandoned && (this.options.wants?.has(partition) ?? true);
  }

  /** Adds an item; returns a promise only when the writer has to wait for room. */
  put(item: Item): Promise<void> | undefined {
    if (item.kind !== 'batch' && this.options.wants && !this.options.wants.has(item.partition.index)) {
      this.dropping = item.kind === 'start';
      return undefined;
    }
    if (this.dropping) return undefined;
    const bytes = item.kind === 'batch' ? batchBytes(item.batch) : 0;
    if (this.mustWait(bytes)) {
      if (this.options.spillFile && item.kind === 'batch') return this.spillBatch(item.batch);
      return this.putLater(item, bytes);
    }
    this.accept(item, bytes);
    return undefined;
  }

  private mustWait(bytes: number): boolean {
    return bytes > 0 && !this.error && !this.abandoned && this.bytes > 0 && this.bytes + bytes > this.options.budgetBytes;
  }

  private async putLater(item: Item, bytes: number): Promise<void> {
    while (this.mustWait(bytes)) await new Promise<void>((resolve) => this.wakeWriters.push(resolve));
    this.accept(item, bytes);
  }

  private accept(item: Item, bytes: number): void {
    if (this.error) throw this.error;
    if (this.abandoned) return;
    if (this.closed) throw new Error('write to a closed channel');
    this.held.push({ item, bytes });
    this.bytes += bytes;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    this.wakeReader?.();
  }

  private spillBatch(batch: RecordBatch): undefined {
    if (!this.spill) {
      const path = this.options.spillFile!;
      this.spill = { fd: openSync(path, 'w+'), size: 0, path };
    }
    const bytes = encodeBatches(batch.schema, [batch]);
    writeSync(this.spill.fd, bytes, 0, bytes.byteLength, this.spill.size);
    this.held.push({ spilled: { offset: this.spill.size, length: bytes.byteLength } });
    this.spill.size += bytes.byteLength;
    this.wakeReader?.();
    return undefined;
  }

  /** No more items will come. */
  close(): void {
    this.closed = true;
    this.wakeReader?.();
  }

  /** Ends the stream with an error on both sides (the run is failing). */
  fail(error: unknown): void {
    if (this.error) return;
    this.error = error;
    this.wakeReader?.();
    this.wakeWriters.splice(0).forEach((wake) => wake());
    this.release();
  }

  /** The next item if one is ready (without waiting), else undefined. */
  poll(): Item | undefined {
    if (this.error) throw this.error;
    return this.head < this.held.length ? this.take() : undefined;
  }

  /** The next item, waiting for it; undefined once the channel is closed and drained. */
  async next(): Promise<Item | undefined> {
    while (true) {
      const item = this.poll();
      if (item || this.closed) return item;
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
      this.wakeReader = undefined;
    }
  }

  /** For-await reading, for places where a promise per item does not matter. */
  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    try {
      for (let item = await this.next(); item; item = await this.next()) yield item;
    } finally {
      this.abandon();
    }
  }

  /** The reader wants nothing more: drop what is held and let writers go on without waiting. */
  abandon(): void {
    if (this.abandoned) return;
    this.abandoned = true;
    this.held.length = this.head = this.bytes = 0;
    this.wakeWriters.splice(0).forEach((wake) => wake());
    this.release();
  }

  private take(): Item {
    const held = this.held[this.head];
    this.held[this.head++] = undefined as unknown as Held;
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held.splice(0, this.head);
      this.head = 0;
    }
    if ('spilled' in held) {
      const { offset, length } = held.spilled;
      const bytes = new Uint8Array(length);
      readSync(this.spill!.fd, bytes, 0, length, offset);
      return { kind: 'batch', batch: decodeBatches(bytes).batches[0] };
    }
    this.bytes -= held.bytes;
    if (held.bytes > 0) this.wakeWriters.splice(0).forEach((wake) => wake());
    return held.item;
  }

  private release() {
    if (!this.spill) return;
    closeSync(this.spill.fd);
    rmSync(this.spill.path, { force: true });
    this.spill = undefined;
  }
}

/** Puts an item into every channel; returns a promise only if one of them makes it wait. */
export function putAll(channels: Channel[], item: Item, from = 0): Promise<void> | undefined {
  for (let i = from; i < channels.length; i++) {
    const waiting = channels[i].put(item);
    if (waiting) return waiting.then(() => putAll(channels, item, i + 1));
  }
  return undefined;
}
