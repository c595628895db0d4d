// The row every volume source gives (source.dicom, source.nifti), so medical stages take either:
//   _source    the file (a series: its first file)
//   series     a short hash naming the series (or file) without its UID
//   modality   CT, MR, … where the file says
//   data       float32 volume [slice, row, column] (arrow.variable_shape_tensor), physical units
//   spacing    mm along the array axes: slice, row, column
//   affine     voxel (i = column, j = row, k = slice) → RAS mm, 4 × 4 row-major (NIfTI's convention)
//   origin     RAS mm of voxel (0, 0, 0); direction: the affine's columns as unit vectors (3 × 3)
//   header     what else the file said, as JSON (never patient attributes), with `orientation`:
//              the axis codes of i, j, k as the file stores them ('LPS', 'RAS', …, as nibabel's
//              aff2axcodes; medical.orient changes the grid, not this record of the file)
import { Field, Schema, Utf8, vectorFromArray, type Data, type RecordBatch } from 'apache-arrow';
import { makeBatch } from './batch.ts';
import { tensorData, tensorField } from './tensor.ts';
import { volumeData, volumeField } from './volume.ts';
import { axisCodes } from '../numeric/orientation.ts';

export const volumeFields = [
  new Field('_source', new Utf8(), false), new Field('series', new Utf8(), false), new Field('modality', new Utf8(), true),
  volumeField('data', { ndim: 3, kind: 'float32', dimNames: ['slice', 'row', 'column'] }),
  tensorField('spacing', { shape: [3], kind: 'float64' }), tensorField('origin', { shape: [3], kind: 'float64' }),
  tensorField('direction', { shape: [3, 3], kind: 'float64' }), tensorField('affine', { shape: [4, 4], kind: 'float64' }),
  new Field('header', new Utf8(), false),
];

export interface VolumeRow {
  source: string;
  series: string;
  modality?: string;
  values: Float32Array;
  /** [slices, rows, columns] */
  shape: number[];
  spacing: number[];
  affine: number[];
  header: object;
}

/** One volume as a one-row batch of `schema` (volumeFields, then `extra` columns' data). */
export function volumeBatch(schema: Schema, v: VolumeRow, extra: Data[] = []): RecordBatch {
  const text = (s: string | undefined) => vectorFromArray([s ?? null], new Utf8()).data[0];
  const g = geometryData(schema, [v]);
  return makeBatch(schema, [
    text(v.source), text(v.series), text(v.modality), volumeData(schema.fields[3], [{ values: v.values, shape: v.shape }]),
    g.spacing, g.origin, g.direction, g.affine, text(JSON.stringify({ ...v.header, orientation: axisCodes(v.affine).join('') })), ...extra,
  ], 1);
}

/** Row `row`'s affine, as a plain array. */
export const affineOf = (batch: RecordBatch, row = 0): number[] => Array.from(batch.getChild('affine')!.get(row)!.toArray() as Float64Array);

/** The geometry columns of rows on `grids`: spacing, origin and direction as the affine gives them, and the affine. */
export function geometryData(schema: Schema, grids: { affine: number[]; spacing: number[] }[]): Record<string, Data> {
  const f64 = (name: string, rows: number[][]) => tensorData(schema.fields.find((f) => f.name === name)!, Float64Array.from(rows.flat()), rows.length);
  return {
    spacing: f64('spacing', grids.map((g) => g.spacing)),
    origin: f64('origin', grids.map(({ affine: a }) => [a[3], a[7], a[11]])),
    direction: f64('direction', grids.map(({ affine: a }) => [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => a[r * 4 + c] / Math.hypot(a[c], a[4 + c], a[8 + c]))))),
    affine: f64('affine', grids.map((g) => g.affine)),
  };
}
