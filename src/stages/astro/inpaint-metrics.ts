// `astro.inpaint-metrics`: how well image columns rebuild a reference where a mask says pixels
// were rebuilt, one row per image column: the rows scored, the masked pixels, PSNR over all of
// them (mean squared error pooled over every masked pixel; peak `peak`, the data's range), the
// flux error of all of them together, and the mean over rows of each row's absolute flux error.
// Pixels outside the mask are not scored: every method returns them unchanged.
import { Field, Float64, Schema, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorValues } from '../../arrow/tensor.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { imageGrid, requireSameGrid } from './lib/image-grid.ts';
import { maskedFluxError, maskedPsnr, maskedSums, type MaskedSums } from './lib/masked-scores.ts';

const params = z.object({
  images: z.array(z.string().min(1)).min(1),
  reference: z.string().min(1).describe('the truth (or, on real data, the image as observed: then the flux error is the flux added)'),
  mask: z.string().min(1).default('mask'),
  peak: z.number().positive().default(255).describe('the PSNR peak: the data range (255 for 8-bit images)'),
}).strict();

const metricsSchema = new Schema(['image', 'rows', 'masked_pixels', 'psnr_db', 'flux', 'reference_flux', 'flux_error', 'mean_abs_flux_error']
  .map((name, i) => new Field(name, i === 0 ? new Utf8() : new Float64(), false)));

export const inpaintMetrics = defineReduce({
  name: 'astro.inpaint-metrics',
  kind: 'reduce',
  version: '1',
  description: 'PSNR and flux error of image columns against a reference inside a mask; one row per image column.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const grid = imageGrid(input, p.reference);
    for (const c of [...p.images, p.mask]) requireSameGrid(input, c, grid, p.reference);
    return metricsSchema;
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input] }) {
    const { height, width } = imageGrid(input, p.reference);
    const size = height * width;
    const totals = p.images.map(() => ({ rows: 0, absFluxError: 0, sums: { pixels: 0, squaredError: 0, flux: 0, referenceFlux: 0 } as MaskedSums }));
    return {
      push(batch) {
        const [reference, mask] = [tensorValues(batch, p.reference), tensorValues(batch, p.mask)];
        p.images.forEach((c, k) => {
          const image = tensorValues(batch, c);
          for (let r = 0; r < batch.numRows; r++) {
            const s = maskedSums(image.subarray(r * size, (r + 1) * size), reference.subarray(r * size, (r + 1) * size), mask.subarray(r * size, (r + 1) * size));
            if (s.pixels === 0) continue;
            const t = totals[k];
            t.rows++;
            t.absFluxError += Math.abs(maskedFluxError(s));
            for (const key of ['pixels', 'squaredError', 'flux', 'referenceFlux'] as const) t.sums[key] += s[key];
          }
        });
      },
      end() {
        const column = (pick: (t: (typeof totals)[number]) => number) => makeData({ type: new Float64(), length: totals.length, nullCount: 0, data: Float64Array.from(totals, pick) });
        return makeBatch(metricsSchema, [vectorFromArray(p.images, new Utf8()).data[0], column((t) => t.rows), column((t) => t.sums.pixels),
          column((t) => maskedPsnr(t.sums, p.peak)), column((t) => t.sums.flux), column((t) => t.sums.referenceFlux),
          column((t) => maskedFluxError(t.sums)), column((t) => t.absFluxError / t.rows)], totals.length);
      },
    };
  },
});
