// The cache's file format for one stage output partition: a sequence of records, each an 8-byte
// little-endian length and an Arrow IPC stream of a few batches (about 1 MiB), closed by a zero
// length. Batches are stored as they were emitted, so a replay gives the same batch boundaries —
// and the same bytes downstream — as the run that computed them.
import type { RecordBatch, Schema } from 'apache-arrow';
import { open } from 'node:fs/promises';
import { batchBytes, decodeBatches, encodeBatches } from '../arrow/ipc.ts';
import { OutputFile } from '../io/output-file.ts';

const recordTargetBytes = 1 << 20;

/** Groups batches into records of about 1 MiB, each given as its length prefix and its bytes. */
export class RecordPacker {
  private pending: RecordBatch[] = [];
  private pendingBytes = 0;

  constructor(private readonly schema: Schema) {}

  /** The next record, once about 1 MiB of batches are in. */
  add(batch: RecordBatch): Uint8Array[] | undefined {
    this.pending.push(batch);
    this.pendingBytes += batchBytes(batch);
    return this.pendingBytes >= recordTargetBytes ? this.flush() : undefined;
  }

  /** What is left as a last record, then the end marker. */
  end(): Uint8Array[] {
    return [...this.flush(), lengthPrefix(0)];
  }

  private flush(): Uint8Array[] {
    if (this.pending.length === 0) return [];
    const bytes = encodeBatches(this.schema, this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return [lengthPrefix(bytes.byteLength), bytes];
  }
}

/**
 * A stream entry in a file of its own: the packer's records written as they come (by a writer
 * thread), the file moved into place at commit.
 */
export class StreamFileWriter {
  private readonly file: OutputFile;

  constructor(path: string) {
    // No fsync: a killed process loses nothing from the page cache, and after a machine crash a cut
    // entry is told by its missing end marker. No sha256: the key names the entry.
    this.file = new OutputFile(path, { durable: false, hashed: false });
  }

  /** Returns a promise only when the writer thread is behind. */
  write(parts: Uint8Array[]): Promise<void> | undefined {
    // Failures surface on the last write's promise and in commit(); the others are not needed.
    let written: Promise<void> | undefined;
    for (const part of parts) {
      written = this.file.write(part, { owned: true });
      written.catch(() => undefined);
    }
    // Wait only when the writer thread is behind; otherwise writing overlaps with the run.
    return this.file.backlogged ? written : undefined;
  }

  /** Writes the last records (the end marker among them) and moves the file into place. */
  async commit(last: Uint8Array[]): Promise<void> {
    this.write(last);
    await this.file.finish();
    await this.file.commit();
  }

  abort(): Promise<void> {
    return this.file.abort();
  }
}

function lengthPrefix(n: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
  return bytes;
}

/** The batches of a stream file, in order; fails if the file is cut short. */
export async function* readStreamFile(path: string): AsyncGenerator<RecordBatch> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const header = new Uint8Array(8);
    let position = 0;
    for (;;) {
      if (position + 8 > size) throw cutShort(path, position);
      await handle.read(header, 0, 8, position);
      const length = Number(new DataView(header.buffer).getBigUint64(0, true));
      position += 8;
      if (length === 0) return;
      if (position + length > size) throw cutShort(path, position);
      const bytes = new Uint8Array(length);
      await handle.read(bytes, 0, length, position);
      position += length;
      yield* decodeBatches(bytes).batches;
    }
  } finally {
    await handle.close();
  }
}

/** The batches of a stream held in memory (a packed entry), in order; fails if it is cut short. */
export function* decodeStreamBytes(bytes: Uint8Array, where: string): Generator<RecordBatch> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  for (;;) {
    if (position + 8 > bytes.byteLength) throw cutShort(where, position);
    const length = Number(view.getBigUint64(position, true));
    position += 8;
    if (length === 0) return;
    if (position + length > bytes.byteLength) throw cutShort(where, position);
    yield* decodeBatches(bytes.subarray(position, position + length)).batches;
    position += length;
  }
}

/** Only a machine crash while an entry was written leaves one like this (entries are not fsynced). */
const cutShort = (path: string, position: number) =>
  new Error(`cache entry ${path} is cut short at byte ${position} (a machine crash while it was written?); ` +
    'run again with --no-cache, or clear the cache with quiver cache prune --keep-runs 0');
