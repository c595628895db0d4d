// Training material for learned deconvolution (the seed's deepDeconv): random skies, and what an
// interferometer would make of them.
//   source.sky-sim   `count` skies of N × N pixels: a few point sources and small Gaussian blobs of
//                    random flux at random places (seeded), split train / validation / test
//   astro.observe    `from: [beam, skies]` (the beam row astro.dirty-image makes): each sky's dirty
//                    image (sky ⊛ dirty beam, plus Gaussian noise of `noise` × the dirty peak) and its
//                    target (sky ⊛ the clean beam fitted to the dirty one), with the beam beside them
//   astro.image-metrics  PSNR and total-flux error of an image column against a reference column
import { Field, Float64, Schema, Utf8, makeData, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { Random } from '../../numeric/random.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineReduce, defineSource, type Chunk } from '../../workflow/stage.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { cleanBeam, convolve } from './lib/imaging.ts';

const skyParams = z.object({
  count: z.number().int().min(1),
  npix: z.number().int().min(8),
  points: z.tuple([z.number().int().min(0), z.number().int().min(0)]).default([1, 4]).describe('point sources per sky, at least and at most'),
  blobs: z.tuple([z.number().int().min(0), z.number().int().min(0)]).default([0, 2]).describe('Gaussian blobs per sky'),
  flux: z.tuple([z.number().positive(), z.number().positive()]).default([0.1, 1]).describe('flux of each, Jy (log-uniform between)'),
  seed: z.number().int().default(0),
  split: z.object({ train: z.number().min(0), validation: z.number().min(0) }).strict().default({ train: 0.7, validation: 0.15 }),
}).strict();

/** Sky `index` of a seeded set: its own random stream, so any sky can be made alone. */
export function simulateSky(p: z.output<typeof skyParams>, index: number): Float32Array {
  const random = new Random(p.seed * 1_000_003 + index);
  const n = p.npix;
  const sky = new Float32Array(n * n);
  const between = ([a, b]: [number, number]) => a + Math.floor(random.uniform() * (b - a + 1));
  const flux = () => p.flux[0] * (p.flux[1] / p.flux[0]) ** random.uniform();
  const margin = Math.floor(n / 8);
  const place = () => margin + Math.floor(random.uniform() * (n - 2 * margin));
  for (let k = between(p.points); k > 0; k--) sky[place() * n + place()] += flux();
  for (let k = between(p.blobs); k > 0; k--) {
    const [cx, cy, sigma, f] = [place(), place(), 0.8 + 1.5 * random.uniform(), flux()];
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) sky[y * n + x] += (f / (2 * Math.PI * sigma * sigma)) * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma * sigma));
  }
  return sky;
}

export const skySim = defineSource({
  name: 'source.sky-sim',
  kind: 'source',
  version: '1',
  description: 'Random skies of point sources and small blobs (seeded), as image rows with a train/validation/test split.',
  params: skyParams,
  async discover(p) {
    const schema = new Schema([new Field('sky_id', new Float64(), false), tensorField('sky', { shape: [p.npix, p.npix], dimNames: ['y', 'x'], kind: 'float32' }), new Field('split', new Utf8(), false)]);
    return { schema, partitions: [{ key: `sky-sim-${p.seed}`, *chunks(): Iterable<Chunk> { yield { bytes: p.count * p.npix * p.npix * 4 }; } }] };
  },
  *read(_chunk, p, { schema }) {
    const n = p.npix;
    const values = new Float32Array(p.count * n * n);
    for (let i = 0; i < p.count; i++) values.set(simulateSky(p, i), i * n * n);
    const side = (i: number) => (i < p.split.train * p.count ? 'train' : i < (p.split.train + p.split.validation) * p.count ? 'validation' : 'test');
    yield makeBatch(schema, [
      makeData({ type: new Float64(), length: p.count, nullCount: 0, data: Float64Array.from({ length: p.count }, (_, i) => i) }),
      tensorData(schema.fields[1], values, p.count), vectorFromArray(Array.from({ length: p.count }, (_, i) => side(i)), new Utf8()).data[0],
    ], p.count);
  },
});

export const observe = defineReduce({
  name: 'astro.observe',
  kind: 'reduce',
  version: '1',
  description: "Each sky through an interferometer's beam: adds 'dirty' (sky ⊛ beam + noise), 'target' (sky ⊛ clean beam) and 'beam'.",
  params: z.object({ noise: z.number().min(0).default(0.01).describe('Gaussian noise, as a share of the dirty peak'), seed: z.number().int().default(0) }).strict(),
  inputs: { min: 2, max: 2 },
  outputSchema({ inputs: [beam, skies] }) {
    const { shape } = tensorInfo(beam, 'beam');
    if (JSON.stringify(tensorInfo(skies, 'sky').shape) !== JSON.stringify(shape)) throw new SchemaError(`the skies are ${tensorInfo(skies, 'sky').shape.join('×')}, the beam ${shape.join('×')}`);
    return withColumns(skies, ['dirty', 'target', 'beam'].map((name) => tensorField(name, { shape, dimNames: ['y', 'x'], kind: 'float32' })));
  },
  scope: () => 'partition',
  buildInputs: () => [0],
  create(p, { inputSchemas: [beamSchema], outputSchema }) {
    const [n] = tensorInfo(beamSchema, 'beam').shape;
    let beam: Float64Array | undefined;
    let restoring: Float64Array | undefined;
    const random = new Random(p.seed);
    return {
      push(batch: RecordBatch, at) {
        if (at.input === 0) {
          if (batch.numRows > 0) {
            beam = Float64Array.from(tensorValues(batch, 'beam').subarray(0, n * n));
            restoring = cleanBeam(beam, n);
          }
          return null;
        }
        if (!beam || !restoring) throw new Error('the beam input held no beam');
        const skies = tensorValues(batch, 'sky');
        const out = { dirty: new Float32Array(batch.numRows * n * n), target: new Float32Array(batch.numRows * n * n), beam: new Float32Array(batch.numRows * n * n) };
        for (let r = 0; r < batch.numRows; r++) {
          const sky = Float64Array.from(skies.subarray(r * n * n, (r + 1) * n * n));
          const dirty = convolve(sky, beam, n);
          const peak = Math.max(...dirty.map(Math.abs));
          out.dirty.set(dirty.map((v) => v + p.noise * peak * random.normal()), r * n * n);
          out.target.set(convolve(sky, restoring, n), r * n * n);
          out.beam.set(beam, r * n * n);
        }
        const field = (name: string) => outputSchema.fields.find((f) => f.name === name)!;
        return makeBatch(outputSchema, [...batch.data.children, ...(['dirty', 'target', 'beam'] as const).map((k) => tensorData(field(k), out[k], batch.numRows))], batch.numRows);
      },
    };
  },
});

/** PSNR (dB, peak of the reference) and relative total-flux error of an image against a reference. */
export function imageScores(image: ArrayLike<number>, reference: ArrayLike<number>) {
  let se = 0, peak = 0, total = 0, referenceTotal = 0;
  for (let i = 0; i < reference.length; i++) {
    se += (image[i] - reference[i]) ** 2;
    peak = Math.max(peak, Math.abs(reference[i]));
    total += image[i];
    referenceTotal += reference[i];
  }
  const mse = se / reference.length;
  return { psnr: 10 * Math.log10((peak * peak) / mse), flux_error: (total - referenceTotal) / referenceTotal };
}

const metricsSchema = new Schema([new Field('image', new Utf8(), false), new Field('rows', new Float64(), false),
  new Field('psnr_db', new Float64(), false), new Field('flux_error', new Float64(), false), new Field('abs_flux_error', new Float64(), false)]);

export const imageMetrics = defineReduce({
  name: 'astro.image-metrics',
  kind: 'reduce',
  version: '1',
  description: 'Mean PSNR and total-flux error of image columns against a reference image column; one row per image column.',
  params: z.object({ images: z.array(z.string().min(1)).min(1), reference: z.string().min(1) }).strict(),
  outputSchema({ params: p, inputs: [input] }) {
    const shape = JSON.stringify(tensorInfo(input, p.reference).shape);
    for (const c of p.images) if (JSON.stringify(tensorInfo(input, c).shape) !== shape) throw new SchemaError(`'${c}' is not the shape of '${p.reference}'`);
    return metricsSchema;
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input] }) {
    const size = tensorInfo(input, p.reference).shape.reduce((a, b) => a * b, 1);
    const sums = p.images.map(() => ({ psnr: 0, flux: 0, absFlux: 0, rows: 0 }));
    return {
      push(batch) {
        const reference = tensorValues(batch, p.reference);
        p.images.forEach((c, k) => {
          const image = tensorValues(batch, c);
          for (let r = 0; r < batch.numRows; r++) {
            const s = imageScores(image.subarray(r * size, (r + 1) * size), reference.subarray(r * size, (r + 1) * size));
            sums[k].psnr += s.psnr;
            sums[k].flux += s.flux_error;
            sums[k].absFlux += Math.abs(s.flux_error);
            sums[k].rows++;
          }
        });
      },
      end() {
        const column = (pick: (s: (typeof sums)[number]) => number) => makeData({ type: new Float64(), length: sums.length, nullCount: 0, data: Float64Array.from(sums, pick) });
        return makeBatch(metricsSchema, [vectorFromArray(p.images, new Utf8()).data[0], column((s) => s.rows),
          column((s) => s.psnr / s.rows), column((s) => s.flux / s.rows), column((s) => s.absFlux / s.rows)], sums.length);
      },
    };
  },
});
