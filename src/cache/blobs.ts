// Byte strings named by their sha256, which every machine of a distributed run can read: task
// requests and replies, kept beside the task cache in the shared store. Only names travel
// through the broker (its messages are small); the bytes stay here.
import { createHash } from 'node:crypto';

/**
 * Blobs up to this size may be kept without a flush to the disk (fs-blobs.ts), so a machine crash
 * can leave one cut short under its name.
 */
export const unflushedBytes = 256 * 1024;

/**
 * Whether bytes read as the blob `sha256` are that blob: false only for a small one (see
 * unflushedBytes) whose bytes hash to something else. A large one is not hashed again.
 */
export function whole(bytes: Uint8Array, sha256: string): boolean {
  return bytes.byteLength > unflushedBytes || createHash('sha256').update(bytes).digest('hex') === sha256;
}

/** One blob (or a temporary a writer left behind), as `list` gives it, for pruning. */
export interface BlobEntry {
  /** The sha256, or the temporary's own name. */
  name: string;
  bytes: number;
  /** When it was last written. */
  modifiedMs: number;
}

export interface Blobs {
  readonly location: string;
  /**
   * Keeps the bytes (once: the same bytes have the same name) and returns their sha256. A store
   * may keep a small blob without flushing it to its disk unless `durable` (see fs-blobs.ts).
   */
  put(bytes: Uint8Array, options?: { durable?: boolean }): Promise<string>;
  /** The bytes, or undefined when no such blob is kept here. */
  get(sha256: string): Promise<Uint8Array | undefined>;
  list(): AsyncGenerator<BlobEntry>;
  remove(entry: BlobEntry): Promise<void>;
}
