// Test helpers for the table stages and the Arrow kernels: building batches, reading their values
// exactly (64-bit values as bigint, dates as day numbers), and driving a reducer the way
// src/engine/reduce-runner.ts does.
import {
  Field, RecordBatch, Schema, Struct, makeData, makeVector, vectorFromArray, type Data, type DataType,
} from 'apache-arrow';
import { physicalOf } from '../../../src/arrow/values.ts';
import { isValid } from '../../../src/arrow/values.ts';
import type { MapStage, PartitionInfo, ReduceStage } from '../../../src/workflow/stage.ts';

/** A column: Data, or JS values with their type (nulls allowed). */
export type ColumnSpec = Data | [DataType, unknown[]];

/** A batch from named columns. */
export function batchOf(columns: Record<string, ColumnSpec>, nullable = true): RecordBatch {
  const children = Object.values(columns).map((c) => (Array.isArray(c) ? vectorFromArray(c[1] as never, c[0]).data[0] as Data : c));
  const fields = Object.keys(columns).map((name, i) => new Field(name, children[i].type, nullable));
  const length = children[0]?.length ?? 0;
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}

/** Data of `type` from raw typed values, e.g. dataOf(new Int64(), new BigInt64Array([1n])). */
export function dataOf(type: DataType, values: ArrayBufferView, valid?: boolean[]): Data {
  const length = (values as unknown as ArrayLike<unknown>).length;
  let nullBitmap: Uint8Array | undefined;
  if (valid) {
    nullBitmap = new Uint8Array((length + 7) >> 3);
    valid.forEach((v, i) => { if (v) nullBitmap![i >> 3] |= 1 << (i & 7); });
  }
  return makeData({ type, length, data: values, nullBitmap } as never) as Data;
}

/** Row i of a column as an exact JS value: null, number, bigint (64-bit), boolean, string. */
export function cell(data: Data, i: number): unknown {
  if (!isValid(data, i)) return null;
  const kind = physicalOf(data.type);
  if (kind === 'int64' || kind === 'uint64') return (data.values as BigInt64Array)[i];
  if (kind === 'number') return (data.values as Float64Array)[i];
  return makeVector(data).get(i);
}

/** A column's values. */
export const valuesOf = (data: Data): unknown[] => Array.from({ length: data.length }, (_, i) => cell(data, i));

/** All rows of some batches, as arrays of cells. */
export function rowsOf(batches: RecordBatch | readonly RecordBatch[]): unknown[][] {
  const out: unknown[][] = [];
  const list: readonly RecordBatch[] = batches instanceof RecordBatch ? [batches] : (batches as readonly RecordBatch[]);
  for (const b of list) {
    for (let i = 0; i < b.numRows; i++) out.push(b.data.children.map((c: Data) => cell(c, i)));
  }
  return out;
}

/** Calls a map stage: output schema, then the function on each batch. */
export async function runMap<P>(stage: MapStage<P>, raw: unknown, batches: RecordBatch[]): Promise<{ schema: Schema; batches: RecordBatch[] }> {
  const params = stage.params.parse(raw);
  const inputSchema = batches[0].schema;
  const schema = stage.outputSchema({ params, inputs: [inputSchema], baseDir: '.' });
  const fn = await stage.create(params, { inputSchema, outputSchema: schema, baseDir: '.' });
  const out: RecordBatch[] = [];
  for (const b of batches) {
    const r = await fn(b, { index: 0, key: 'p0' });
    if (r) out.push(r);
  }
  return { schema, batches: out };
}

/** The output schema of a stage for some input schemas (throws what validation would report). */
export function schemaOf<P>(stage: MapStage<P> | ReduceStage<P>, raw: unknown, inputs: Schema[]): Schema {
  return stage.outputSchema({ params: stage.params.parse(raw), inputs, baseDir: '.' });
}

/**
 * Runs a reduce stage like the engine: build inputs first, then the others, each partition by
 * partition; returns the output partitions. `inputs[i]` lists input i's partitions of batches.
 */
export async function runReduce<P>(
  stage: ReduceStage<P>, raw: unknown, inputs: RecordBatch[][][], schemas?: Schema[],
): Promise<{ schema: Schema; partitions: RecordBatch[][]; read: number }> {
  const params = stage.params.parse(raw);
  const inputSchemas = schemas ?? inputs.map((partitions) => partitions.flat()[0].schema);
  const schema = stage.outputSchema({ params, inputs: inputSchemas, baseDir: '.' });
  const reducer = stage.create(params, { inputSchemas, outputSchema: schema, baseDir: '.' });
  const scope = stage.scope(params);
  const build = stage.buildInputs?.(params) ?? [];
  const order = [...build, ...inputs.keys()].filter((v, i, all) => all.indexOf(v) === i);
  const partitions: RecordBatch[][] = [];
  let open: RecordBatch[] | undefined;
  let read = 0;
  const take = async (emitted: unknown) => {
    const e = await emitted;
    if (!e) return;
    const list = e instanceof RecordBatch ? [e] : (e as RecordBatch[]);
    for (const b of list) {
      if (!open) {
        if (scope === 'partition') throw new Error('emitted outside a partition');
        open = [];
        partitions.push(open);
      }
      if (b.numRows > 0) open.push(b);
    }
  };
  outer: for (const input of order) {
    const opens = scope === 'partition' && !build.includes(input);
    for (const [index, batches] of inputs[input].entries()) {
      const partition: PartitionInfo = { index, key: `in${input}-p${index}` };
      if (opens) partitions.push((open = []));
      for (const b of batches) {
        read++;
        await take(reducer.push(b, { input, partition }));
        if (reducer.isDone?.()) break outer;
      }
      await take(reducer.endPartition?.({ input, partition }));
      if (opens) open = undefined;
    }
  }
  if (scope === 'partition') open = undefined;
  await take(reducer.end?.());
  if (scope === 'all' && partitions.length === 0) partitions.push([]);
  return { schema, partitions, read };
}

/** SQL literal for a JS value (for VALUES lists given to DuckDB). */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  // Non-integers as text: DuckDB reads a numeric literal as a DECIMAL, which can round differently.
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? `'${v}'` : `'${Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf'}'`;
  return String(v);
}

/** `(VALUES (...), ...) t(a, b)` with typed columns, for DuckDB. */
export function sqlTable(columns: Record<string, [string, unknown[]]>): string {
  const names = Object.keys(columns);
  const n = Object.values(columns)[0][1].length;
  const rows = Array.from({ length: n }, (_, i) =>
    `(${names.map((c) => `CAST(${sqlLiteral(columns[c][1][i])} AS ${columns[c][0]})`).join(', ')})`);
  return `(VALUES ${rows.join(', ')}) t(${names.map((c) => `"${c}"`).join(', ')})`;
}

/** A seeded pseudo-random generator in [0, 1), so tests are repeatable. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}
