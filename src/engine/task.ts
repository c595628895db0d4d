// The serialisable description of work sent to a worker (thread or process): no closures, only
// stage names, resolved params, schemas as IPC bytes and references to input data.
import type { CatalogRef } from '../workflow/catalog.ts';
import type { Chunk, PartitionInfo } from '../workflow/stage.ts';
import type { TaskFailure } from './task-error.ts';

export interface StageRef {
  id: string;
  /** The `use` of the workflow file (built-in name or `./file.ts#export`). */
  use: string;
  version: string;
  params: unknown;
  /** What a worker does with a batch the stage throws on, or a chunk the source cannot read. */
  onError?: 'fail' | 'skip' | 'quarantine';
  /** The stage handles patient data before de-identification: row values are kept out of its errors (withheld-values.ts). */
  withholdValues?: boolean;
}

/** The stage code of a distributed run as a blob of the shared store (executors/stage-bundle.ts): its sha256, and the workflow folder's place in it ('' for its root; `/`-separated). */
export interface BundleRef {
  sha256: string;
  dir: string;
}

/** What a fused segment computes; the same for every task of the segment. */
export interface SegmentSpec {
  key: string;
  /** Folder of the workflow file, where relative data paths resolve (and stage files, unless `codeDir` says otherwise). */
  baseDir: string;
  /** Where a worker process finds the stage files (`use: ./file.ts#name`): its unpacked copy of `bundle`. */
  codeDir?: string;
  /** The stage code of a distributed run, shipped as a blob of the shared store (stage-bundle.ts). */
  bundle?: BundleRef;
  /** The stage catalog the worker loads to find each stage by its `use`. */
  catalog: CatalogRef;
  /** The source stage whose chunks the segment reads, or none when batches are sent in. */
  source?: StageRef;
  /** Schema entering the segment (the source's output, or the upstream stage's), as IPC schema bytes. */
  inputSchema: Uint8Array;
  maps: (StageRef & { parent: number })[];
  /** For each exit, the index of its stage in `maps`, or -1 for the source. */
  exits: number[];
}

/**
 * One piece of one task: a source chunk, or batches as IPC bytes. A task is a segment × partition;
 * its identity is (segment key, partition key), which every request carries.
 */
export interface TaskUnit {
  partition: PartitionInfo;
  chunk?: Chunk;
  input?: Uint8Array;
}

export interface TaskRequest {
  segment: SegmentSpec;
  units: TaskUnit[];
  /** A retry: the worker builds the segment's stages afresh instead of reusing them. */
  fresh?: boolean;
}

/** Rows a stage rejected under onError skip or quarantine, as IPC bytes (see rejected-rows.ts). */
export interface Rejected {
  /** Index of the stage: the source (if any) first, then `maps`. */
  stage: number;
  unit: number;
  rows: number;
  /** The rows with `_error`, `_stage` and `_source`; null under onError: skip. */
  bytes: Uint8Array | null;
}

export interface StageCounts {
  rowsIn: number;
  rowsOut: number;
  /** Rows rejected under onError skip or quarantine. */
  quarantined: number;
  /** Seconds spent in the stage's own code. */
  seconds: number;
}

export interface TaskResult {
  /** Per exit: one IPC stream holding every unit's output batches, or null if there were none. */
  outputs: (Uint8Array | null)[];
  /** Per exit, per unit: how many of the stream's batches belong to that unit. */
  batchCounts: number[][];
  /** Per unit, per stage: the source (if any) first, then `maps` in order. */
  counts: StageCounts[][];
  rejected: Rejected[];
}

/** What a worker sends back: errors do not cross threads intact, so a failure is a value too. */
export type TaskReply = { result: TaskResult } | { failure: TaskFailure };

/** Runs tasks somewhere: worker threads here, or worker processes elsewhere. */
export interface Executor {
  /** How many requests it can usefully work on at once. */
  readonly concurrency: number;
  /**
   * `keepBuffers`: copy the request's byte arrays instead of moving them (they are needed again for a retry).
   * A failed task rejects with a TaskError; an aborted one with the abort.
   */
  run(request: TaskRequest, options?: { signal?: AbortSignal; keepBuffers?: boolean }): Promise<TaskResult>;
  close(): Promise<void>;
}
