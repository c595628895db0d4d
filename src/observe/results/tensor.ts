// One row's tensor from an output's batches — fixed-shape (FITS images, range–Doppler maps) or
// variable-shape (CT volumes) — and planes of it, shrunk for display.
import { Type, type FixedSizeList, type RecordBatch, type Schema } from 'apache-arrow';
import { volumeAt } from '../../arrow/volume.ts';
import { outputBatches, type OpenOutput } from './read-output.ts';

export interface Tensor { values: ArrayLike<number>; shape: number[] }
export interface Plane { values: Float64Array; width: number; height: number }

/** Row `row` of the output as the batch holding it and the row's index in that batch; reading stops there. */
export async function batchWithRow(open: OpenOutput, row: number): Promise<{ batch: RecordBatch; index: number }> {
  let seen = 0;
  for await (const batch of outputBatches(open)) {
    if (row < seen + batch.numRows) return { batch, index: row - seen };
    seen += batch.numRows;
  }
  throw new Error(`it has ${seen} row(s), no row ${row}`);
}

export function tensorAt(batch: RecordBatch, schema: Schema, column: string, row: number): Tensor {
  const field = schema.fields.find((f) => f.name === column);
  if (!field) throw new Error(`no column '${column}' (it has ${schema.fields.map((f) => f.name).join(', ')})`);
  const extension = field.metadata.get('ARROW:extension:name');
  if (extension === 'arrow.variable_shape_tensor') return volumeAt(batch, column, row);
  if (field.type.typeId === Type.FixedSizeList) {
    const size = (field.type as FixedSizeList).listSize;
    const meta = JSON.parse(field.metadata.get('ARROW:extension:metadata') ?? '{}') as { shape?: number[] };
    const data = batch.getChild(column)!.data[0];
    const values = data.children[0].values as ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> };
    if (typeof (values as { subarray?: unknown }).subarray !== 'function' || values.length === 0 || typeof values[0] !== 'number') throw new Error(`column '${column}' does not hold numbers`);
    const start = (data.offset + data.children[0].offset + row) * size;
    return { values: values.subarray(start, start + size), shape: meta.shape ?? [size] };
  }
  throw new Error(`column '${column}' is not a tensor (an arrow.fixed_shape_tensor or arrow.variable_shape_tensor), it is ${field.type}`);
}

/** The 2-D plane of a tensor: itself when 2-D, slice `index` along the first axis when 3-D (or more, trailing axes first). */
export function planeOf(t: Tensor, index: number): Plane {
  const shape = t.shape.filter((d, i) => d !== 1 || i >= t.shape.length - 2);
  if (shape.length < 2) throw new Error(`a tensor of shape [${t.shape.join(', ')}] is not an image`);
  const [height, width] = shape.slice(-2);
  const planes = t.values.length / (width * height);
  if (!(index >= 0 && index < planes)) throw new Error(`slice ${index} is outside 0 … ${planes - 1}`);
  const values = new Float64Array(width * height);
  const base = index * width * height;
  for (let i = 0; i < values.length; i++) values[i] = t.values[base + i];
  return { values, width, height };
}

/** Planes along each of the three axes of a 3-D tensor, through (k, j, i). */
export function orthogonalPlanes(t: Tensor, [k, j, i]: [number, number, number]): Plane[] {
  const [nk, nj, ni] = t.shape.slice(-3);
  const v = t.values;
  const axial = { width: ni, height: nj, values: Float64Array.from({ length: nj * ni }, (_, p) => v[k * nj * ni + p]) };
  const coronal = { width: ni, height: nk, values: Float64Array.from({ length: nk * ni }, (_, p) => v[Math.floor(p / ni) * nj * ni + j * ni + (p % ni)]) };
  const sagittal = { width: nj, height: nk, values: Float64Array.from({ length: nk * nj }, (_, p) => v[Math.floor(p / nj) * nj * ni + (p % nj) * ni + i]) };
  return [axial, coronal, sagittal];
}

/** Shrinks by a whole factor so the long side is at most `max`: block means (finite values), or block maxima for masks. */
export function shrink(p: Plane, max: number, how: 'mean' | 'max' = 'mean'): Plane & { factor: number } {
  const factor = Math.max(1, Math.ceil(Math.max(p.width, p.height) / max));
  if (factor === 1) return { ...p, factor };
  const [w, h] = [Math.floor(p.width / factor), Math.floor(p.height / factor)];
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0, n = 0, top = -Infinity;
      for (let dy = 0; dy < factor; dy++) {
        for (let dx = 0; dx < factor; dx++) {
          const v = p.values[(y * factor + dy) * p.width + x * factor + dx];
          if (!Number.isFinite(v)) continue;
          sum += v; n++; if (v > top) top = v;
        }
      }
      out[y * w + x] = n === 0 ? NaN : how === 'max' ? top : sum / n;
    }
  }
  return { values: out, width: w, height: h, factor };
}

/** Mirrors a plane in place: up–down (FITS, whose first row is the bottom) and/or left–right. */
export function flip(p: Plane, vertical: boolean, horizontal = false): Plane {
  const { width: w, height: h } = p;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = p.values[(vertical ? h - 1 - y : y) * w + (horizontal ? w - 1 - x : x)];
  return { values: out, width: w, height: h };
}
