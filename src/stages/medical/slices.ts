// `medical.slices`: volumes cut into axial slices for a 2-D model, one row per slice (array axis k:
// superior after medical.orient). Each slice is resampled onto `size` × `size` pixels of `pixel_mm`,
// centred on the slice, so every scanner's images reach the model at one scale. A pixel averages
// s × s bilinear samples (s: pixel_mm over the finest in-plane spacing, rounded up), so a 0.6-mm
// slice shrunk to 4 mm does not alias; beyond the volume it takes the volume's lowest value (air,
// for CT). With `mask`, that column's slices become `label`: 1 where at least half the pixel is
// inside. Keeps the input's plain columns (file, series) and adds `slice`, `pixel_mm`, `image` and
// maybe `label`; medical.stack puts predictions made on them back onto the volume's grid.
import { Field, Float64, Int32, makeData, Schema, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { takeBatch } from '../../arrow/take.ts';
import { tensorData, tensorField } from '../../arrow/tensor.ts';
import { bilinear } from '../../numeric/bilinear.ts';
import { defineMap } from '../../workflow/stage.ts';
import { floatData, withColumns } from '../../arrow/added-columns.ts';
import { gridVolume, requireVolumes } from './lib/volume-rows.ts';

const params = z.object({
  size: z.number().int().min(8).default(96).describe('pixels along each side of a slice image'),
  pixel_mm: z.number().positive().default(4).describe('mm a pixel; size × pixel_mm should cover the widest body'),
  column: z.string().min(1).default('data'),
  mask: z.string().min(1).optional().describe('a mask column on the row\'s grid to slice into `label`'),
}).strict();

/** Voxel coordinate, along an in-plane axis of `n` voxels `spacing` mm apart, of slice pixel `u` (of `size` pixels `pixelMm` apart): the two grids share their centre. */
export const voxelOf = (u: number, size: number, pixelMm: number, n: number, spacing: number) => ((u - (size - 1) / 2) * pixelMm) / spacing + (n - 1) / 2;

/** The inverse of voxelOf: slice pixel coordinate of voxel coordinate `i`. */
export const pixelOf = (i: number, n: number, spacing: number, size: number, pixelMm: number) => ((i - (n - 1) / 2) * spacing) / pixelMm + (size - 1) / 2;

/** The input's columns that are plain values (not volumes, tensors or geometry). */
const plainFields = (input: Schema) => input.fields.filter((f) => !f.type.children?.length);

/** One axial plane (`values` of ni × nj voxels at spacing si, sj) averaged onto size × size pixels of pixelMm. */
function slicePlane(values: Float32Array, ni: number, nj: number, si: number, sj: number, size: number, pixelMm: number, outside: number, out: Float32Array) {
  const s = Math.min(16, Math.max(1, Math.ceil(pixelMm / Math.min(si, sj) - 1e-9)));
  const offsets = Array.from({ length: s }, (_, a) => (a + 0.5) / s - 0.5);
  const plane = { values, width: ni, height: nj };
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      let sum = 0;
      for (const dv of offsets) {
        const j = voxelOf(v + dv, size, pixelMm, nj, sj);
        for (const du of offsets) sum += bilinear(plane, voxelOf(u + du, size, pixelMm, ni, si), j, outside);
      }
      out[v * size + u] = sum / (s * s);
    }
  }
}

export const slices = defineMap({
  name: 'medical.slices',
  kind: 'map',
  version: '1',
  description: 'Volumes as one row per axial slice, resampled to size × size pixels of pixel_mm (anti-aliased); a mask column becomes `label`.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireVolumes(input, p.column);
    if (p.mask) requireVolumes(input, p.mask);
    const image = (name: string) => tensorField(name, { shape: [p.size, p.size], kind: 'float32', dimNames: ['row', 'column'] });
    return withColumns(new Schema(plainFields(input), input.metadata), [
      new Field('slice', new Int32(), false), new Field('pixel_mm', new Float64(), false), image('image'), ...(p.mask ? [image('label')] : []),
    ]);
  },
  create(p, { inputSchema, outputSchema }) {
    const plain = plainFields(inputSchema);
    const pixels = p.size * p.size;
    return (batch: RecordBatch) => {
      const volumes = Array.from({ length: batch.numRows }, (_, r) => gridVolume(batch, r, p.column));
      const n = volumes.reduce((total, v) => total + v.shape[0], 0);
      const rows = new Int32Array(n);
      const index = new Int32Array(n);
      const image = new Float32Array(n * pixels);
      const label = new Float32Array(p.mask ? n * pixels : 0);
      let at = 0;
      volumes.forEach((v, r) => {
        const [nk, nj, ni] = v.shape;
        const [, sj, si] = v.spacing;
        let lowest = Infinity;
        for (const x of v.values) if (x < lowest) lowest = x;
        const mask = p.mask ? gridVolume(batch, r, p.mask).values : undefined;
        for (let k = 0; k < nk; k++, at++) {
          const plane = (values: Float32Array) => values.subarray(k * ni * nj, (k + 1) * ni * nj);
          slicePlane(plane(v.values), ni, nj, si, sj, p.size, p.pixel_mm, lowest, image.subarray(at * pixels, (at + 1) * pixels));
          if (mask) {
            const share = label.subarray(at * pixels, (at + 1) * pixels);
            slicePlane(plane(mask), ni, nj, si, sj, p.size, p.pixel_mm, 0, share);
            share.forEach((x, i) => (share[i] = x >= 0.5 ? 1 : 0));
          }
          rows[at] = r;
          index[at] = k;
        }
      });
      const kept = takeBatch(makeBatch(new Schema(plain), plain.map((f) => batch.data.children[batch.schema.fields.indexOf(f)]), batch.numRows), rows);
      const fields = outputSchema.fields;
      return makeBatch(outputSchema, [
        ...kept.data.children,
        makeData({ type: new Int32(), length: n, nullCount: 0, data: index }),
        floatData(new Float64Array(n).fill(p.pixel_mm)),
        tensorData(fields[plain.length + 2], image, n),
        ...(p.mask ? [tensorData(fields[plain.length + 3], label, n)] : []),
      ], n);
    };
  },
});
