// `medical.measure`: per-volume measurements inside a mask (or the whole volume) → one table row
// each, keeping the row's plain columns (text and numbers; volumes and geometry dropped): the mask's volume (mL, from the affine's voxel volume), mean, 15th percentile (Perc15, a
// lung-density measure) and median HU inside it, and the share of its voxels below `emphysema_hu` (−950 HU: the emphysema
// index, LAA-950). Measure on the scanner's grid where you can: trilinear resampling smooths the
// HU histogram and moves the index.
import { Field, Float64, Int32, Schema, Type, makeData } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { volumeInfo } from '../../arrow/volume.ts';
import { percentile } from '../../numeric/percentile.ts';
import { defineMap } from '../../workflow/stage.ts';
import { floatData, withColumns } from '../../arrow/added-columns.ts';
import { gridVolume, requireVolumes, voxelVolume } from './lib/volume-rows.ts';

const params = z.object({
  mask: z.string().min(1).optional().describe('a mask volume column (1 inside); none: the whole volume'),
  column: z.string().min(1).default('data'),
  emphysema_hu: z.number().default(-950),
}).strict();

const measures = ['volume_ml', 'mean_hu', 'p15_hu', 'median_hu', 'emphysema_index'] as const;
const measureFields = [new Field('voxels', new Int32(), false), ...measures.map((m) => new Field(m, new Float64(), true))];

/** The input's plain columns (text, numbers: not volumes or other lists), which rows keep. */
const plainFields = (input: Schema) => input.fields.filter((f) => ![Type.List, Type.FixedSizeList, Type.Struct].includes(f.type.typeId));

export function measureMask(values: ArrayLike<number>, mask: ArrayLike<number>, voxelMl: number, emphysemaHu: number) {
  const inside: number[] = [];
  for (let p = 0; p < values.length; p++) if (mask[p] > 0) inside.push(values[p]);
  const sorted = Float32Array.from(inside).sort();
  const sum = inside.reduce((a, b) => a + b, 0);
  return {
    voxels: inside.length, volume_ml: inside.length * voxelMl, mean_hu: inside.length ? sum / inside.length : NaN,
    p15_hu: percentile(sorted, 15), median_hu: percentile(sorted, 50),
    emphysema_index: inside.length ? inside.filter((v) => v < emphysemaHu).length / inside.length : NaN,
  };
}

export const measure = defineMap({
  name: 'medical.measure',
  kind: 'map',
  version: '1',
  description: 'Per-volume measurements in a mask: volume (mL), mean, 15th percentile and median HU, emphysema index (share below −950 HU).',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireVolumes(input, p.column);
    if (p.mask) volumeInfo(input, p.mask);
    return withColumns(new Schema(plainFields(input)), measureFields);
  },
  create(p, { outputSchema }) {
    return (batch) => {
      const rows = Array.from({ length: batch.numRows }, (_, r) => {
        const v = gridVolume(batch, r, p.column);
        const mask = p.mask ? gridVolume(batch, r, p.mask).values : new Uint8Array(v.values.length).fill(1);
        return measureMask(v.values, mask, voxelVolume(v.affine) / 1000, p.emphysema_hu);
      });
      const kept = plainFields(batch.schema).map((f) => batch.getChild(f.name)!.data[0]);
      return makeBatch(outputSchema, [
        ...kept, makeData({ type: new Int32(), length: rows.length, nullCount: 0, data: Int32Array.from(rows, (m) => m.voxels) }),
        ...measures.map((m) => floatData(Float64Array.from(rows, (row) => row[m]))),
      ], rows.length);
    };
  },
});
