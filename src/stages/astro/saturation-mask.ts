// `astro.saturation-mask`: the pixels an over-exposure spoiled, as a 0/1 image column `mask`:
// pixels at or above the saturation `level`, the bleeding streaks along the CCD columns (a run of
// pixels at or above `bleed_level` up or down a column from a saturated one) and everything within
// `dilate` pixels of them (blooming's tails and compression's ringing sit just outside). Images are
// rows × columns; a CCD's readout columns are the tensor's columns (bleeding runs along its rows).
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../arrow/tensor.ts';
import { defineMap } from '../../workflow/stage.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { imageGrid } from './lib/image-grid.ts';
import { saturationMask } from './lib/saturation.ts';

const params = z.object({
  column: z.string().min(1).default('data').describe('a 2-D image column'),
  level: z.number().describe('saturation: values at or above it (255 in an 8-bit Helioviewer image)'),
  bleed_level: z.number().optional().describe('pixels at or above this in a column run holding a saturated pixel bleed (default: the level)'),
  dilate: z.number().int().min(0).default(1).describe('pixels added around the mask in every direction'),
  name: z.string().min(1).default('mask'),
}).strict().refine((p) => p.bleed_level === undefined || p.bleed_level <= p.level, { message: 'bleed_level must not exceed level' });

export const saturationMaskStage = defineMap({
  name: 'astro.saturation-mask',
  kind: 'map',
  version: '1',
  description: "Adds a 0/1 'mask' of saturated pixels, their bleeding along CCD columns, dilated.",
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const { height, width } = imageGrid(input, p.column);
    return withColumns(input, [tensorField(p.name, { shape: [height, width], dimNames: ['y', 'x'], kind: 'float32' })]);
  },
  create(p, { inputSchema, outputSchema }) {
    const grid = imageGrid(inputSchema, p.column);
    const size = grid.height * grid.width;
    return (batch) => {
      const images = tensorValues(batch, p.column);
      const masks = new Float32Array(batch.numRows * size);
      for (let r = 0; r < batch.numRows; r++) {
        masks.set(saturationMask(images.subarray(r * size, (r + 1) * size), grid, { level: p.level, bleedLevel: p.bleed_level, dilate: p.dilate }), r * size);
      }
      return makeBatch(outputSchema, [...batch.data.children, tensorData(outputSchema.fields.at(-1)!, masks, batch.numRows)], batch.numRows);
    };
  },
});
