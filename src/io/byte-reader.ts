// Random access to an input's bytes, wherever they are: a local file, or an S3 object read by
// ranged GETs (s3-object.ts). Readers that look at a footer, then at byte ranges it points to
// (Parquet), use this so that the same checks and messages hold for both.
import { openAsBlob } from 'node:fs';
import { open } from 'node:fs/promises';
import { readAt } from './input-files.ts';

export interface ByteReader {
  /** What errors name: the path relative to the workflow folder, or the s3:// URL. */
  readonly name: string;
  readonly size: number;
  /** Changes whenever the bytes may have: what caches of parsed metadata are keyed by. */
  readonly identity: string;
  /** Exactly `length` bytes at `position`, or an InputError saying what (`what`) was cut short. */
  read(position: number, length: number, what: string): Promise<Uint8Array>;
  /** A Blob over the bytes (for parquet-wasm), reading only the slices asked for. */
  blob(): Promise<Blob>;
  close(): Promise<void>;
  /**
   * Streams read forward (a gzip file): inflate up to `end`, or to the stream's end, after which
   * `size` is exact; a reader that only goes forward forgets the bytes before `from`.
   */
  settle?(end: number, from?: number): Promise<void>;
  /** Where the bytes end, for messages (default: `the file ends at byte SIZE`). */
  endText?(): string;
}

/** A reader of the local file at `path`, shown as `name`; close it after use. */
export async function fileBytes(path: string, name: string): Promise<ByteReader> {
  const handle = await open(path, 'r');
  const info = await handle.stat().catch(async (error) => {
    await handle.close();
    throw error;
  });
  return {
    name,
    size: info.size,
    identity: `${path}\0${info.size}\0${info.mtimeMs}`,
    read: (position, length, what) => readAt(handle, position, length, name, what),
    blob: () => openAsBlob(path),
    close: () => handle.close(),
  };
}
