// For stages that add columns to their input's: the output schema (refusing a name already taken),
// float64 columns with NaN standing for null, and number columns read as float64.
import { Field, Float64, makeData, Schema, type RecordBatch } from 'apache-arrow';
import { makeBatch } from './batch.ts';
import { isNumeric } from './types.ts';
import { requireColumnOf } from './columns.ts';
import { SchemaError } from '../workflow/errors.ts';

/** `input` with `fields` appended; a SchemaError if a name is taken. */
export function withColumns(input: Schema, fields: Field[]): Schema {
  for (const { name } of fields) if (input.fields.some((f) => f.name === name)) throw new SchemaError(`the input already has a column '${name}'`);
  return new Schema([...input.fields, ...fields], input.metadata);
}

/** `input` with nullable float64 columns `names` appended. */
export const withFloatColumns = (input: Schema, names: string[]) => withColumns(input, names.map((n) => new Field(n, new Float64(), true)));

export const requireNumbers = (input: Schema, columns: string[]) => columns.forEach((c) => requireColumnOf(input, c, isNumeric, 'a number'));

/** A float64 column from values, NaN meaning null. */
export function floatData(values: Float64Array) {
  let nulls = 0;
  const bits = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (Number.isNaN(v)) nulls++;
    else bits[i >> 3] |= 1 << (i & 7);
  });
  return makeData({ type: new Float64(), length: values.length, nullCount: nulls, data: values, nullBitmap: nulls ? bits : undefined });
}

/** The batch with float columns appended (NaN = null). */
export const appendFloats = (batch: RecordBatch, schema: Schema, columns: Float64Array[]) =>
  makeBatch(schema, [...batch.data.children, ...columns.map(floatData)], batch.numRows);

/** A numeric column's values as float64, null as NaN. */
export function numbers(batch: RecordBatch, column: string): Float64Array {
  const vector = batch.getChild(column)!;
  return Float64Array.from({ length: batch.numRows }, (_, i) => {
    const v = vector.get(i);
    return v === null ? NaN : Number(v);
  });
}

/** Every row's features, row after row: a number column (width 1, null as NaN) or a tensor column's values. */
export function featureRows(batch: RecordBatch, column: string): { x: Float64Array; width: number } {
  const data = batch.getChild(column)!.data[0];
  if (data.children.length === 0) return { x: numbers(batch, column), width: 1 };
  const width = (data.type as { listSize: number }).listSize;
  return { x: Float64Array.from((data.children[0].values as Float32Array | Float64Array).subarray(0, batch.numRows * width)), width };
}
