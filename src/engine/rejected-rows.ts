// Rows a stage rejects (onError: skip | quarantine), found inside a worker. A map stage that throws
// on a batch is tried again on halves of it until the rows it fails on are single rows: those are
// rejected with the stage's message, the rest go on. A source chunk that cannot be read becomes
// one rejected row with its columns null. Quarantined rows keep the stage's input columns and gain
// `_error`, `_stage` and `_source` (DESIGN.md §4): a `_source` the rows already have is kept (where
// it is null, the partition's name fills it), never added twice.
import { Field, makeVector, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { makeBatch } from '../arrow/batch.ts';
import { encodeBatches } from '../arrow/ipc.ts';
import { nullData } from '../arrow/nulls.ts';
import { takeBatch } from '../arrow/take.ts';
import { messageOf, RejectedRows } from '../workflow/errors.ts';
import type { MapFunction, PartitionInfo } from '../workflow/stage.ts';
import type { Rejected, StageRef } from './task.ts';

export interface Tolerated {
  outputs: RecordBatch[];
  /** Row indices of the input batch that failed, with why. */
  failed: { row: number; error: string }[];
}

const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);

/** Applies `fn`, splitting the batch around the rows it throws on. */
export async function applyTolerantly(fn: MapFunction, batch: RecordBatch, partition: PartitionInfo, first?: unknown): Promise<Tolerated> {
  if (first === undefined) {
    try {
      const out = await fn(batch, partition);
      return { outputs: out ? [out] : [], failed: [] };
    } catch (error) {
      first = error;
    }
  }
  if (first instanceof RejectedRows && first.rows.length > 0) {
    // The stage said which rows: set those aside and run it on the others.
    const rejected = new Set(first.rows);
    const others = Int32Array.from({ length: batch.numRows }, (_, i) => i).filter((i) => !rejected.has(i));
    const rest = others.length ? await applyTolerantly(fn, takeBatch(batch, others), partition) : { outputs: [], failed: [] };
    const failed = [...first.rows.map((row) => ({ row, error: first.reason })), ...rest.failed.map((f) => ({ row: others[f.row], error: f.error }))];
    return { outputs: rest.outputs, failed: failed.sort((a, b) => a.row - b.row) };
  }
  if (batch.numRows <= 1) return { outputs: [], failed: batch.numRows ? [{ row: 0, error: messageOf(first) }] : [] };
  const mid = batch.numRows >> 1;
  const left = await applyTolerantly(fn, takeBatch(batch, range(0, mid)), partition);
  const right = await applyTolerantly(fn, takeBatch(batch, range(mid, batch.numRows)), partition);
  return {
    outputs: [...left.outputs, ...right.outputs],
    failed: [...left.failed, ...right.failed.map((f) => ({ row: f.row + mid, error: f.error }))],
  };
}

const schemas = new WeakMap<Schema, Schema>();
const added = new Set(['_error', '_stage', '_source']);

/** The quarantine file's schema for a stage whose input has `schema`: every other column nullable, then the three. */
export function quarantineSchema(schema: Schema): Schema {
  let out = schemas.get(schema);
  if (!out) {
    out = new Schema([
      ...schema.fields.filter((f) => !added.has(f.name)).map((f) => new Field(f.name, f.type, true, f.metadata)),
      new Field('_error', new Utf8(), false), new Field('_stage', new Utf8(), false), new Field('_source', new Utf8(), false),
    ], schema.metadata);
    schemas.set(schema, out);
  }
  return out;
}

function withReasons(schema: Schema, columns: RecordBatch['data']['children'], errors: string[], stage: string, source: string): RecordBatch {
  const text = (values: string[]) => vectorFromArray(values, new Utf8()).data[0];
  const n = errors.length;
  const own = schema.fields.findIndex((f) => f.name === '_source');
  const ownSources = own < 0 ? undefined : makeVector(columns[own]);
  const sources = Array.from({ length: n }, (_, r) => (ownSources?.get(r) as string | null | undefined) ?? source);
  const kept = columns.filter((_, i) => !added.has(schema.fields[i].name));
  return makeBatch(quarantineSchema(schema), [...kept, text(errors), text(Array(n).fill(stage)), text(sources)], n);
}

/** The failed rows of `batch`, ready for the quarantine file. */
export function rejectedRows(batch: RecordBatch, failed: Tolerated['failed'], stage: string, source: string): RecordBatch {
  const taken = takeBatch(batch, Int32Array.from(failed, (f) => f.row));
  return withReasons(batch.schema, taken.data.children, failed.map((f) => f.error), stage, source);
}

/**
 * One row standing for `rows` rows a source could not read (a bad line, a lost row group, a file
 * discovery could not list): its columns null, the count in its reason when more than one.
 */
export function unreadableRows(schema: Schema, reason: string, rows: number, stage: string, source: string): RecordBatch {
  const why = rows === 1 ? reason : `${reason} [${rows} rows set aside]`;
  return withReasons(schema, schema.fields.map((f) => nullData(f.type, 1)), [why], stage, source);
}

/**
 * What a task reports of rows stage `stage` set aside in unit `unit`: the rows themselves only
 * under quarantine; `count` when `rows` stands for more (unreadableRows).
 */
export function rejection(stage: number, unit: number, rows: RecordBatch, policy: StageRef['onError'], count = rows.numRows): Rejected {
  return { stage, unit, rows: count, bytes: policy === 'quarantine' ? encodeBatches(rows.schema, [rows]) : null };
}
