// What the medical stages share: volume rows (src/arrow/volume-row.ts) changed one at a time. A
// stage gives each row's volume (values, shape, affine, spacing) and gets back a new one, or new
// volumes for added columns; the other columns pass through unchanged.
import { Schema, type Data, type RecordBatch } from 'apache-arrow';
import { makeBatch } from '../../../arrow/batch.ts';
import { volumeAt, volumeData, volumeField, volumeInfo, type Volume } from '../../../arrow/volume.ts';
import { geometryData } from '../../../arrow/volume-row.ts';
import { requireColumn } from '../../../arrow/columns.ts';
import { SchemaError } from '../../../workflow/errors.ts';

export interface Grid {
  /** [slices, rows, columns] */
  shape: number[];
  /** Voxel (i = column, j = row, k = slice) → RAS mm, 4 × 4 row-major. */
  affine: number[];
  /** mm along slice, row, column. */
  spacing: number[];
}

export interface GridVolume extends Grid {
  values: Float32Array;
}


/** Checks an input holds volume rows with column `column`. */
export function requireVolumes(input: Schema, column = 'data') {
  volumeInfo(input, column);
  for (const name of ['spacing', 'origin', 'direction', 'affine']) requireColumn(input, name);
}

/** Row `row`'s volume in `column` with the row's grid. */
export function gridVolume(batch: RecordBatch, row: number, column = 'data'): GridVolume {
  const { values, shape } = volumeAt(batch, column, row);
  const vector = (name: string) => Array.from(batch.getChild(name)!.get(row)!.toArray() as Float64Array);
  if (!(values instanceof Float32Array)) throw new SchemaError(`'${column}' must hold float32 volumes`);
  return { values, shape, affine: vector('affine'), spacing: vector('spacing') };
}

/** The batch with each row's `column` and grid replaced by `volumes` (same order). */
export function withGrids(batch: RecordBatch, volumes: GridVolume[], column = 'data'): RecordBatch {
  return withGridColumns(batch, volumes, { [column]: volumes.map((v) => v.values) });
}

/** The batch on new grids (one a row), with the volume columns named in `columns` replaced (one volume a row, on that grid). */
export function withGridColumns(batch: RecordBatch, grids: Grid[], columns: Record<string, Float32Array[]>): RecordBatch {
  const schema = batch.schema;
  const children = [...batch.data.children];
  const index = (name: string) => schema.fields.findIndex((f) => f.name === name);
  for (const [column, values] of Object.entries(columns)) {
    children[index(column)] = volumeData(schema.fields[index(column)], values.map((v, r) => ({ values: v, shape: grids[r].shape })));
  }
  for (const [name, data] of Object.entries(geometryData(schema, grids))) children[index(name)] = data;
  return makeBatch(schema, children, batch.numRows);
}

/** A volume column `name` of float32 [slice, row, column]. */
export const volumeColumn = (name: string) => volumeField(name, { ndim: 3, kind: 'float32', dimNames: ['slice', 'row', 'column'] });

/** The batch with volume columns appended (their schema given). */
export function appendVolumes(batch: RecordBatch, schema: Schema, columns: Volume[][]): RecordBatch {
  const added: Data[] = columns.map((volumes, i) => volumeData(schema.fields[batch.schema.fields.length + i], volumes));
  return makeBatch(schema, [...batch.data.children, ...added], batch.numRows);
}

/** `input` with volume columns `names` appended; a SchemaError if a name is taken. */
export function withVolumeColumns(input: Schema, names: string[]): Schema {
  for (const name of names) if (input.fields.some((f) => f.name === name)) throw new SchemaError(`the input already has a column '${name}'`);
  return new Schema([...input.fields, ...names.map(volumeColumn)], input.metadata);
}

/** mm³ of one voxel: |det| of the affine's 3 × 3 part (right for sheared grids too). */
export function voxelVolume(affine: number[]): number {
  const [a, b, c, , d, e, f, , g, h, i] = affine;
  return Math.abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g));
}

