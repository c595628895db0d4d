// Volume columns: tensors whose shape differs from row to row (CT series of any slice count,
// volumes resampled to 1 mm), as Arrow's canonical extension `arrow.variable_shape_tensor`:
// Struct<data: List<float>, shape: FixedSizeList<Int32>[ndim]>, row-major values. Where every row
// has one shape, tensor.ts's fixed_shape_tensor is the simpler column.
import { Field, FixedSizeList, Float32, Float64, Int32, List, Struct, Type, makeData, type Data, type RecordBatch, type Schema } from 'apache-arrow';
import { requireColumn } from './columns.ts';
import { ColumnTypeError } from '../workflow/errors.ts';
import type { FloatArray, FloatKind } from './tensor.ts';

export interface VolumeInfo {
  ndim: number;
  kind: FloatKind;
  dimNames?: string[];
}

export interface Volume {
  values: FloatArray;
  /** Row-major: the slowest axis first. */
  shape: number[];
}

export function volumeField(name: string, { ndim, kind, dimNames }: VolumeInfo, nullable = false): Field {
  const value = kind === 'float64' ? new Float64() : new Float32();
  const type = new Struct([
    new Field('data', new List(new Field('item', value, false)), false),
    new Field('shape', new FixedSizeList(ndim, new Field('item', new Int32(), false)), false),
  ]);
  return new Field(name, type, nullable, new Map([
    ['ARROW:extension:name', 'arrow.variable_shape_tensor'],
    ['ARROW:extension:metadata', JSON.stringify(dimNames ? { dim_names: dimNames } : {})],
  ]));
}

/** The dimensions and value type of volume column `name`; a ColumnTypeError if it is not one. */
export function volumeInfo(schema: Schema, name: string): VolumeInfo {
  const field = requireColumn(schema, name);
  const fail = (why: string) => new ColumnTypeError(name, `a float32/float64 arrow.variable_shape_tensor (${why})`, String(field.type));
  if (field.metadata.get('ARROW:extension:name') !== 'arrow.variable_shape_tensor') throw fail('no variable_shape_tensor extension metadata');
  if (field.type.typeId !== Type.Struct) throw fail('not a struct');
  const [data, shape] = (field.type as Struct).children;
  if (data?.name !== 'data' || data.type.typeId !== Type.List || shape?.name !== 'shape' || shape.type.typeId !== Type.FixedSizeList) throw fail('not struct<data: list, shape: fixed_size_list>');
  const valueType = (data.type as List).children[0].type;
  if (valueType.typeId !== Type.Float || (valueType as Float32).precision === 0) throw fail('values are not float32/float64');
  const meta = JSON.parse(field.metadata.get('ARROW:extension:metadata') ?? '{}') as { dim_names?: string[] };
  return { ndim: (shape.type as FixedSizeList).listSize, kind: (valueType as Float32 | Float64).precision === 2 ? 'float64' : 'float32', dimNames: meta.dim_names };
}

/** Row `row` of volume column `name`: its shape and a view of its values (no copy). */
export function volumeAt(batch: RecordBatch, name: string, row: number): Volume {
  const data = batch.getChild(name)!.data[0];
  const [list, shapes] = data.children;
  const at = data.offset + row;
  const offsets = list.valueOffsets as Int32Array;
  const values = (list.children[0].values as FloatArray).subarray(offsets[list.offset + at], offsets[list.offset + at + 1]);
  const ndim = (shapes.type as FixedSizeList).listSize;
  const shape = Array.from((shapes.children[0].values as Int32Array).subarray((shapes.offset + at) * ndim, (shapes.offset + at + 1) * ndim));
  return { values, shape };
}

/** A volume column's Data from one volume a row. */
export function volumeData(field: Field, volumes: Volume[]): Data {
  const type = field.type as Struct;
  const listType = type.children[0].type as List;
  const ndim = (type.children[1].type as FixedSizeList).listSize;
  const float64 = (listType.children[0].type as Float32).precision === 2;
  const total = volumes.reduce((a, v) => a + v.values.length, 0);
  const values = float64 ? new Float64Array(total) : new Float32Array(total);
  const offsets = new Int32Array(volumes.length + 1);
  const shapes = new Int32Array(volumes.length * ndim);
  volumes.forEach((v, i) => {
    if (v.shape.length !== ndim) throw new Error(`a volume of ${v.shape.length} dimensions in a column of ${ndim}`);
    if (v.shape.reduce((a, b) => a * b, 1) !== v.values.length) throw new Error(`shape ${v.shape.join(' × ')} does not hold ${v.values.length} values`);
    values.set(v.values, offsets[i]);
    offsets[i + 1] = offsets[i] + v.values.length;
    shapes.set(v.shape, i * ndim);
  });
  const list = makeData({ type: listType, length: volumes.length, nullCount: 0, valueOffsets: offsets, child: makeData({ type: listType.children[0].type, length: total, nullCount: 0, data: values }) });
  const shape = makeData({ type: type.children[1].type as FixedSizeList, length: volumes.length, nullCount: 0, child: makeData({ type: new Int32(), length: shapes.length, nullCount: 0, data: shapes }) });
  return makeData({ type, length: volumes.length, nullCount: 0, children: [list, shape] });
}
