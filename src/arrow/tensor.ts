// Tensor columns (DESIGN.md §4): a FixedSizeList of floats carrying the canonical extension
// `arrow.fixed_shape_tensor`, one tensor per row, row-major. Stages read a row's values as a
// typed-array view (no copy) and build output columns from one flat array.
import { Field, FixedSizeList, Float32, Float64, makeData, Type, type Data, type RecordBatch, type Schema } from 'apache-arrow';
import { requireColumn } from './columns.ts';
import { ColumnTypeError } from '../workflow/errors.ts';

export type FloatArray = Float32Array | Float64Array;
export type FloatKind = 'float32' | 'float64';

export interface TensorInfo {
  shape: number[];
  dimNames?: string[];
  kind: FloatKind;
}

export function tensorField(name: string, { shape, dimNames, kind }: TensorInfo, nullable = false): Field {
  const size = shape.reduce((a, b) => a * b, 1);
  const value = kind === 'float64' ? new Float64() : new Float32();
  return new Field(name, new FixedSizeList(size, new Field('value', value, false)), nullable, new Map([
    ['ARROW:extension:name', 'arrow.fixed_shape_tensor'],
    ['ARROW:extension:metadata', JSON.stringify(dimNames ? { shape, dim_names: dimNames } : { shape })],
  ]));
}

/** The shape and value type of tensor column `name`; a ColumnTypeError if it is not a float tensor. */
export function tensorInfo(schema: Schema, name: string): TensorInfo {
  const field = requireColumn(schema, name);
  const fail = (why: string) => new ColumnTypeError(name, `a float32/float64 arrow.fixed_shape_tensor (${why})`, String(field.type));
  if (field.metadata.get('ARROW:extension:name') !== 'arrow.fixed_shape_tensor') throw fail('no tensor extension metadata');
  if (field.type.typeId !== Type.FixedSizeList) throw fail('not a fixed-size list');
  const valueType = (field.type as FixedSizeList).children[0].type;
  if (valueType.typeId !== Type.Float) throw fail('values are not floats');
  const kind: FloatKind = (valueType as Float32 | Float64).precision === 2 ? 'float64' : 'float32';
  if ((valueType as Float32 | Float64).precision === 0) throw fail('float16 values');
  const meta = JSON.parse(field.metadata.get('ARROW:extension:metadata') ?? '{}') as { shape?: number[]; dim_names?: string[] };
  const shape = meta.shape ?? [];
  if (shape.reduce((a, b) => a * b, 1) !== (field.type as FixedSizeList).listSize) throw fail(`shape ${JSON.stringify(shape)} does not fill the list`);
  return { shape, dimNames: meta.dim_names, kind };
}

/** Every row's values of a tensor column, row after row: a view on the batch's memory. */
export function tensorValues(batch: RecordBatch, name: string): FloatArray {
  const data = batch.getChild(name)!.data[0];
  const size = (data.type as FixedSizeList).listSize;
  return (data.children[0].values as FloatArray).subarray(0, batch.numRows * size);
}

/** A tensor column's Data from `rows` tensors laid out one after another in `values`. */
export function tensorData(field: Field, values: FloatArray, rows: number): Data {
  const type = field.type as FixedSizeList;
  const child = makeData({ type: type.children[0].type, length: values.length, nullCount: 0, data: values });
  return makeData({ type, length: rows, nullCount: 0, child });
}

export const newFloatArray = (kind: FloatKind, length: number): FloatArray =>
  kind === 'float64' ? new Float64Array(length) : new Float32Array(length);
