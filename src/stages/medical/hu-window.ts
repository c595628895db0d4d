// `medical.hu-window`: clips a volume to [min, max] (a CT window, in HU) and, with `to`, maps that
// window linearly onto [to[0], to[1]]. Clip before any integer cast: the seed's pipeline cast HU
// straight to uint8, which wraps (−1000 HU becomes 24, air turns grey); here values leave this
// stage inside the range a later cast can hold, and sink.nifti refuses any that are not.
import { z } from 'zod';
import { defineMap } from '../../workflow/stage.ts';
import { gridVolume, requireVolumes, withGrids } from './lib/volume-rows.ts';

const params = z.object({
  min: z.number().default(-1000),
  max: z.number().default(400),
  to: z.tuple([z.number(), z.number()]).optional().describe('map [min, max] onto this range (e.g. [0, 255] before a uint8 cast)'),
  column: z.string().min(1).default('data'),
}).strict().refine((p) => p.max > p.min, { message: 'max must be above min' });

/** Values clipped to [min, max], then mapped onto `to` when given. */
export function windowValues(values: ArrayLike<number>, min: number, max: number, to?: [number, number]): Float32Array {
  const [lo, hi] = to ?? [min, max];
  const gain = (hi - lo) / (max - min);
  return Float32Array.from(values, (v) => lo + (Math.min(max, Math.max(min, v)) - min) * gain);
}

export const huWindow = defineMap({
  name: 'medical.hu-window',
  kind: 'map',
  version: '1',
  description: 'Clips volumes to a HU window (and maps it onto a range): always before an integer cast, which would wrap.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireVolumes(input, p.column);
    return input;
  },
  create(p) {
    return (batch) => withGrids(batch, Array.from({ length: batch.numRows }, (_, r) => {
      const v = gridVolume(batch, r, p.column);
      return { ...v, values: windowValues(v.values, p.min, p.max, p.to) };
    }), p.column);
  },
});
