// The stage contract: what every built-in stage, connector and user stage file implements.
// Stages are plain objects; the engine only ever sees this interface, never a domain module.
import type { RecordBatch, Schema } from 'apache-arrow';
import type { z } from 'zod';
import type { S3ObjectRef } from '../io/s3-object.ts';

export type StageKind = 'source' | 'map' | 'reduce' | 'sink' | 'model';

/** One partition of a stream: the unit of caching, retry and distribution. */
export interface PartitionInfo {
  /** Position in the stream, from 0. */
  index: number;
  /** A stable name: the source file for sources, the input partition's key downstream. */
  key: string;
}

/** What a stage sees when its output schema is worked out (before any data is read). */
export interface SchemaContext<P> {
  params: P;
  /** Schemas of the `from` stages, in the order `from` lists them. */
  inputs: Schema[];
  /** Folder of the workflow file: relative paths in params resolve against it. */
  baseDir: string;
}

/** What a source sees while it finds its partitions. */
export interface DiscoverContext {
  /** Folder of the workflow file: relative paths in params resolve against it. */
  baseDir: string;
  /**
   * The folders the run may read, as real paths: a source opens no file whose real path (links
   * followed) lies elsewhere (`matchFiles` checks what it matches). Absent outside a run (`quiver inspect`).
   */
  readRoots?: string[];
  /** The stage's policy (default 'fail'): under skip or quarantine, a sample's bad rows must not stop discovery. */
  onError?: OnError;
}

interface StageBase<P> {
  /** The name workflow files `use`, e.g. `table.filter`. */
  name: string;
  kind: StageKind;
  /** Implementation version: change it whenever the same params may give different output. */
  version: string;
  description: string;
  /** Params schema; parse failures become validation problems naming the stage. */
  params: z.ZodType<P>;
  /** How many `from` inputs the stage takes (default: none for sources, exactly one otherwise). */
  inputs?: { min: number; max: number };
  /**
   * Files or folders the stage reads besides a source's `path` (a model artifact), relative to the
   * workflow folder: the sandbox judges them as it judges `path`, before the stage is built.
   */
  reads?(params: P): string[];
  /** What else decides the output besides params and inputs (a model artifact's hash): part of the cache key. */
  fingerprint?(params: P, ctx: { baseDir: string }): string;
}

/** What a stage does with rows it cannot read or process (a workflow's `onError`). */
export type OnError = 'fail' | 'skip' | 'quarantine';

/** Serialisable description of a piece of a source partition that a worker reads. */
export interface Chunk {
  [key: string]: unknown;
  /** Approximate bytes, for grouping small chunks and bounding what is in flight. */
  bytes?: number;
  /** Rows the chunk holds, when known (a Parquet row group): what is set aside if it cannot be read. */
  rows?: number;
  /** Set by discovery for a file it could not read: why. The engine sets the chunk aside or fails, naming the file; `read` never sees it. */
  unreadable?: string;
}

export interface SourcePartition {
  /** Stable name: for files, the path relative to the workflow folder (so it means the same on every machine). */
  key: string;
  /** The input file, absolute, when the partition is one. */
  file?: string;
  /**
   * The S3 object, when the partition is one (then `key` is its s3:// URL): its ETag, size and
   * version stand for its content in the cache key, as a content hash would mean reading it whole.
   */
  object?: S3ObjectRef;
  /** Anything else that decides the partition's output besides `file`'s bytes (a sidecar's text): part of its cache key. */
  fingerprint?: string;
  /** Input file sizes etc., for progress and planning. */
  bytes?: number;
  /** Discovery could not read the file: why (its one chunk carries the same reason). */
  unreadable?: string;
  /** The chunks of this partition, in order; called on the main thread, must be cheap per chunk. */
  chunks(): AsyncIterable<Chunk> | Iterable<Chunk>;
}

export interface SourceStage<P = any> extends StageBase<P> {
  kind: 'source';
  /** File extensions this source reads (`.csv`), so `quiver inspect` can pick it. */
  extensions?: string[];
  /**
   * Main thread: the output schema and the partitions, reading metadata only. A file that cannot
   * be read becomes a partition with `unreadable` set (see src/io/file-discovery.ts), so one bad
   * file of a glob is set aside or named by the run, not the end of the whole workflow.
   */
  discover(params: P, ctx: DiscoverContext): Promise<{ schema: Schema; partitions: SourcePartition[] }>;
  /** Worker: the batches of one chunk, in order. */
  read(chunk: Chunk, params: P, ctx: ReadContext): AsyncIterable<RecordBatch> | Iterable<RecordBatch>;
}

export interface ReadContext {
  schema: Schema;
  partition: PartitionInfo;
  /**
   * Sets aside `rows` rows the source cannot read (one bad CSV line, a damaged row group) and
   * reading goes on; the reason names where (file:line). Absent when the stage's policy is 'fail':
   * then the source throws an InputError instead.
   */
  reject?(reason: string, rows?: number): void;
}

export type MapFunction = (batch: RecordBatch, partition: PartitionInfo) => RecordBatch | null | Promise<RecordBatch | null>;

export interface MapStage<P = any> extends StageBase<P> {
  kind: 'map' | 'model';
  outputSchema(ctx: SchemaContext<P>): Schema;
  /** Worker: called once per worker per stage instance; returns the per-batch function. */
  create(params: P, ctx: { inputSchema: Schema; outputSchema: Schema; baseDir: string }): MapFunction | Promise<MapFunction>;
  /**
   * A stage that removes what identifies people (medical.deidentify) says how: the engine applies
   * `rows` to rows quarantined by it or by a stage upstream of it (whatever columns they have),
   * and writes the files those stages read as `file(name)` in errors, logs and quarantine rows.
   */
  privacy?(params: P): Privacy;
}

/** See MapStage.privacy. */
export interface Privacy {
  rows(batch: RecordBatch): RecordBatch;
  file(name: string): string;
}

type Emitted = void | null | RecordBatch | RecordBatch[];
export type Emit = Emitted | Promise<Emitted>;

/** Where a pushed batch comes from. */
export interface ReduceInput {
  input: number;
  partition: PartitionInfo;
}

/**
 * Stateful consumer of ordered input; runs once, on the main thread. `progress` (in create's
 * context) tells what a long step is doing (a training epoch and its losses): the progress line
 * shows it and the run log keeps it.
 */
export interface Reducer {
  push(batch: RecordBatch, at: ReduceInput): Emit;
  endPartition?(at: ReduceInput): Emit;
  end?(): Emit;
  /** True once no more input can change the output (a limit was reached): reading stops. */
  isDone?(): boolean;
}

export interface ReduceStage<P = any> extends StageBase<P> {
  kind: 'reduce';
  outputSchema(ctx: SchemaContext<P>): Schema;
  /**
   * 'partition': each input partition read opens an output partition, and what is emitted while
   * reading it goes there; 'all': everything goes to one output partition.
   */
  scope(params: P): 'partition' | 'all';
  /** Inputs read completely before the others (a join's build side); they open no output partitions. */
  buildInputs?(params: P): number[];
  create(params: P, ctx: { inputSchemas: Schema[]; outputSchema: Schema; baseDir: string; progress?: (note: string) => void }): Reducer;
}

/** A file a sink made, as the run record lists it. */
export interface OutputRecord {
  path: string;
  sha256: string;
  bytes: number;
  /** For a sink that writes a file per partition: the partition (index) the file holds. */
  partition?: number;
}

export interface SinkWriter {
  startPartition(partition: PartitionInfo): void | Promise<void>;
  write(batch: RecordBatch): void | Promise<void>;
  endPartition(partition: PartitionInfo): void | Promise<void>;
  /** Makes the outputs visible, complete (temporary name, fsync, rename). */
  commit(): Promise<OutputRecord[]>;
  /** Removes everything written so far. */
  abort(): Promise<void>;
}

export interface SinkStage<P = any> extends StageBase<P> {
  kind: 'sink';
  /** Optional: can this format hold the input schema? Throw a SchemaError if not. */
  check?(ctx: SchemaContext<P>): void;
  /**
   * For a sink that writes a file per partition: each partition's file, relative to the output
   * folder, given every partition. Each file is then cached on its own (keyed by its name and its
   * partition's data), and only new or changed partitions are written. Undefined otherwise.
   */
  partitionFiles?(params: P, partitions: PartitionInfo[]): string[] | undefined;
  /** `partitions`: every partition the input has, in order, including any the writer will not be given. */
  open(params: P, ctx: { schema: Schema; outDir: string; stageId: string; partitions?: PartitionInfo[] }): SinkWriter | Promise<SinkWriter>;
}

export type Stage<P = any> = SourceStage<P> | MapStage<P> | ReduceStage<P> | SinkStage<P>;

/** Identity helpers that give stage objects their parameter types. */
export const defineSource = <P>(stage: SourceStage<P>) => stage;
export const defineMap = <P>(stage: MapStage<P>) => stage;
export const defineReduce = <P>(stage: ReduceStage<P>) => stage;
export const defineSink = <P>(stage: SinkStage<P>) => stage;

export function isStage(value: unknown): value is Stage {
  const v = value as Stage | undefined;
  return !!v && typeof v.name === 'string' && ['source', 'map', 'model', 'reduce', 'sink'].includes(v.kind);
}
