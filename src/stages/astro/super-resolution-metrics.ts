// `astro.super-resolution-metrics`: how close upsampled images are to the true high-res image, over
// all pixels of all rows together: PSNR (dB) with the reference's data range (max − min) as the
// peak, RMSE in the image's units (gauss for magnetograms), Pearson correlation, and the total
// unsigned flux error Σ|image| / Σ|reference| − 1 (the pixel area cancels).
import { Field, Float64, makeData, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';

/** Running sums over pixel pairs (image value a, reference value b). */
export class FidelitySums {
  n = 0; a = 0; b = 0; aa = 0; bb = 0; ab = 0; se = 0; absA = 0; absB = 0; min = Infinity; max = -Infinity;

  add(image: ArrayLike<number>, reference: ArrayLike<number>): void {
    for (let i = 0; i < reference.length; i++) {
      const [a, b] = [image[i], reference[i]];
      this.n++;
      this.a += a; this.b += b; this.aa += a * a; this.bb += b * b; this.ab += a * b;
      this.se += (a - b) ** 2;
      this.absA += Math.abs(a); this.absB += Math.abs(b);
      if (b < this.min) this.min = b;
      if (b > this.max) this.max = b;
    }
  }

  scores() {
    const rmse = Math.sqrt(this.se / this.n);
    const covariance = this.ab - (this.a * this.b) / this.n;
    const correlation = covariance / Math.sqrt((this.aa - (this.a * this.a) / this.n) * (this.bb - (this.b * this.b) / this.n));
    return { psnr_db: 20 * Math.log10((this.max - this.min) / rmse), rmse, correlation, unsigned_flux_error: this.absA / this.absB - 1, peak: this.max - this.min };
  }
}

const columns = ['psnr_db', 'rmse', 'correlation', 'unsigned_flux_error', 'peak'] as const;
const metricsSchema = new Schema([new Field('image', new Utf8(), false), new Field('pixels', new Float64(), false),
  ...columns.map((c) => new Field(c, new Float64(), false))]);

export const superResolutionMetrics = defineReduce({
  name: 'astro.super-resolution-metrics',
  kind: 'reduce',
  version: '1',
  description: 'PSNR (peak = the reference\'s data range), RMSE, correlation and total unsigned flux error of image columns against a reference image column; one row per image column.',
  params: z.object({ images: z.array(z.string().min(1)).min(1), reference: z.string().min(1).default('high') }).strict(),
  outputSchema({ params: p, inputs: [input] }) {
    const shape = JSON.stringify(tensorInfo(input, p.reference).shape);
    for (const c of p.images) if (JSON.stringify(tensorInfo(input, c).shape) !== shape) throw new SchemaError(`'${c}' (${tensorInfo(input, c).shape.join(' × ')}) is not the shape of '${p.reference}'`);
    return metricsSchema;
  },
  scope: () => 'all',
  create(p) {
    const sums = p.images.map(() => new FidelitySums());
    return {
      push(batch) {
        const reference = tensorValues(batch, p.reference);
        p.images.forEach((c, k) => sums[k].add(tensorValues(batch, c), reference));
      },
      end() {
        const scores = sums.map((s) => s.scores());
        const column = (values: number[]) => makeData({ type: new Float64(), length: values.length, nullCount: 0, data: Float64Array.from(values) });
        return makeBatch(metricsSchema, [vectorFromArray(p.images, new Utf8()).data[0], column(sums.map((s) => s.n)),
          ...columns.map((c) => column(scores.map((s) => s[c])))], sums.length);
      },
    };
  },
});
