// The task cache's storage: what the engine keeps between runs, behind one interface, so that a
// folder on this machine, a folder every machine mounts or a bucket can hold it. The store is
// content-addressed: the engine names every entry by a key (sha256 hex) derived from what decides
// its bytes, and the store never interprets keys or entries.
//   streams  a stage output partition's batches (stream-file.ts)
//   records  small JSON documents about a key: what a task did ('task'), what files a sink wrote ('sink')
//   files    output files' bytes, under their sha256
// Every entry appears complete or not at all, and writing a key twice writes the same bytes, so
// runs that share a store need no lock between them: the first to commit an entry wins.
import type { RecordBatch, Schema } from 'apache-arrow';

export type RecordKind = 'task' | 'sink';

/** A stream being written: invisible until committed. */
export interface StreamWriter {
  /** Returns a promise only when the writer is behind. */
  write(batch: RecordBatch): Promise<void> | undefined;
  /** Makes the stream visible under its key, complete. */
  commit(): Promise<void>;
  /** Drops what was written. */
  abort(): Promise<void>;
}

/**
 * What a kept file looked like when it was kept. A folder store keeps a file as a hard link to the
 * output it came from, so a program that rewrites the output in place rewrites the kept bytes too:
 * a file whose stamp no longer matches is not served.
 */
export interface FileStamp {
  bytes: number;
  mtimeMs: number;
}

/** One entry, as `list` gives it, for pruning. */
export interface StoreEntry {
  kind: 'stream' | RecordKind | 'file';
  /** The key (or the sha256, for files). */
  key: string;
  /** Bytes it holds on its own (a file also linked from an output folder holds none). */
  bytes: number;
}

export interface Store {
  /** Where the store is, for messages. */
  readonly location: string;
  hasStream(key: string): Promise<boolean>;
  writeStream(key: string, schema: Schema): StreamWriter;
  /** The stream's batches as they were written; fails if the entry is damaged. */
  readStream(key: string): AsyncGenerator<RecordBatch>;
  /** The record, or undefined if there is none (or it cannot be read: as good as none). */
  readRecord<T>(kind: RecordKind, key: string): Promise<T | undefined>;
  writeRecord(kind: RecordKind, key: string, value: unknown): Promise<void>;
  /** Keeps a committed output's bytes under their sha256. */
  keepFile(path: string, sha256: string): Promise<FileStamp>;
  /** Is the file kept, and (given its stamp) unchanged since? */
  hasFile(sha256: string, stamp?: FileStamp): Promise<boolean>;
  /** Puts a kept file at `path`, atomically. */
  restoreFile(sha256: string, path: string): Promise<void>;
  list(): AsyncGenerator<StoreEntry>;
  remove(entry: StoreEntry): Promise<void>;
  /** Gives back the space of what was removed, where removing only marks it (after pruning). */
  compact?(): Promise<void>;
}
