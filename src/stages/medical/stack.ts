// `medical.stack`: per-slice predictions (medical.slices rows scored by model.apply) put back onto
// their volumes' grids, `from: [volumes, predictions]`. Each voxel of slice k takes slice k's
// prediction interpolated (bilinear) at the voxel's place, and is in the mask where that reaches
// `threshold`; beyond the prediction's square it is not. Rows pair by `series` and `slice`; a
// volume missing any of its slices is an error, not a mask with a gap. Adds `mask` to the volumes.
import { type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { tensorInfo } from '../../arrow/tensor.ts';
import { bilinear } from '../../numeric/bilinear.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { pixelOf } from './slices.ts';
import { appendVolumes, gridVolume, requireVolumes, withVolumeColumns } from './lib/volume-rows.ts';

const params = z.object({
  column: z.string().min(1).default('prediction').describe('the slices\' prediction column (a square tensor)'),
  threshold: z.number().default(0.5),
  name: z.string().min(1).default('mask').describe('the volume column to add'),
}).strict();

export const stack = defineReduce({
  name: 'medical.stack',
  kind: 'reduce',
  version: '1',
  description: 'Per-slice predictions put back onto their volumes\' grids (bilinear, thresholded) as a mask column; from: [volumes, predictions].',
  params,
  inputs: { min: 2, max: 2 },
  outputSchema({ params: p, inputs: [volumes, predictions] }) {
    requireVolumes(volumes);
    requireColumn(volumes, 'series');
    for (const name of ['series', 'slice', 'pixel_mm']) requireColumn(predictions, name);
    const { shape } = tensorInfo(predictions, p.column);
    if (shape.length !== 2 || shape[0] !== shape[1]) throw new Error(`'${p.column}' must hold square images, not ${shape.join(' × ')}`);
    return withVolumeColumns(volumes, [p.name]);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [, predictions], outputSchema }) {
    const size = tensorInfo(predictions, p.column).shape[0];
    const volumes: RecordBatch[] = [];
    const planes = new Map<string, { values: Float32Array; pixelMm: number }>();
    return {
      push(batch: RecordBatch, at) {
        if (at.input === 0) {
          volumes.push(batch);
          return;
        }
        const values = batch.getChild(p.column)!;
        for (let r = 0; r < batch.numRows; r++) {
          const key = `${batch.getChild('series')!.get(r)}\0${batch.getChild('slice')!.get(r)}`;
          planes.set(key, { values: Float32Array.from(values.get(r)!.toArray() as Float32Array), pixelMm: Number(batch.getChild('pixel_mm')!.get(r)) });
        }
      },
      end() {
        return volumes.map((batch) => appendVolumes(batch, outputSchema, [Array.from({ length: batch.numRows }, (_, r) => {
          const v = gridVolume(batch, r);
          const series = String(batch.getChild('series')!.get(r));
          const [nk, nj, ni] = v.shape;
          const [, sj, si] = v.spacing;
          const mask = new Float32Array(v.values.length);
          for (let k = 0; k < nk; k++) {
            const plane = planes.get(`${series}\0${k}`);
            if (!plane) throw new Error(`series ${series} (${batch.getChild('_source')?.get(r)}) has no prediction for slice ${k} of ${nk}`);
            const image = { values: plane.values, width: size, height: size };
            for (let j = 0; j < nj; j++) {
              const y = pixelOf(j, nj, sj, size, plane.pixelMm);
              for (let i = 0; i < ni; i++) {
                const x = pixelOf(i, ni, si, size, plane.pixelMm);
                mask[(k * nj + j) * ni + i] = bilinear(image, x, y, 0) >= p.threshold ? 1 : 0;
              }
            }
          }
          return { values: mask, shape: v.shape };
        })]));
      },
    };
  },
});
