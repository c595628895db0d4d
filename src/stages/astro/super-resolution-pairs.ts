// Material for learned super-resolution (the seed's SPSR-GAN on HMI magnetograms):
//   astro.degrade   what a detector with `scale` times coarser pixels would record: the image
//                   cropped to multiples of `scale` (`high`) and averaged over scale × scale blocks,
//                   plus Gaussian noise of sd `noise` in the image's units (`low`)
//   astro.super-resolution-pairs  training patches: the bicubic upsampling of the whole low-res
//                   image and the correction that makes it the high-res one (high − bicubic), cut
//                   into patch × patch squares every `stride` pixels. The right-hand `validation`
//                   share of each image gives validation patches (a gap of two low-res pixels, the
//                   bicubic kernel's reach, keeps them from seeing training pixels); train patches
//                   are each followed by `copies` variants under a random rotation/mirror (the
//                   8 symmetries of the square) and sign flip (a field reversed is as physical),
//                   which commute with block averaging and bicubic upsampling.
import { createHash } from 'node:crypto';
import { Field, Int32, makeData, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { tensorData, tensorField, tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { bicubicUpsample, blockAverage } from '../../numeric/bicubic.ts';
import { Random } from '../../numeric/random.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';

/** A generator seeded by `seed` and an image's values: the same image gets the same draws however rows are batched. */
function seededBy(seed: number, values: ArrayLike<number>): Random {
  const digest = createHash('sha256').update(String(seed)).update(new Uint8Array(Float64Array.from(values).buffer)).digest();
  return new Random(digest.readUInt32LE(0));
}

const degradeParams = z.object({
  image: z.string().min(1).default('data').describe('a 2-D float tensor column (e.g. what source.fits reads)'),
  scale: z.number().int().min(2).default(4),
  noise: z.number().min(0).default(0).describe('sd of the Gaussian noise added to the low-res image, in the image\'s units'),
  seed: z.number().int().default(0),
}).strict();

export const degrade = defineMap({
  name: 'astro.degrade',
  kind: 'map',
  version: '1',
  description: "An image seen with `scale` times coarser pixels: adds 'high' (cropped to multiples of scale) and 'low' (scale × scale block means plus noise).",
  params: degradeParams,
  outputSchema({ params: p, inputs: [input] }) {
    const { shape } = tensorInfo(input, p.image);
    if (shape.length !== 2) throw new SchemaError(`'${p.image}' must hold 2-D images, not ${shape.length}-D tensors`);
    const [h, w] = shape.map((n) => Math.floor(n / p.scale));
    if (h < 1 || w < 1) throw new SchemaError(`'${p.image}' (${shape.join(' × ')}) is smaller than one ${p.scale} × ${p.scale} block`);
    for (const name of ['high', 'low']) if (input.fields.some((f) => f.name === name)) throw new SchemaError(`the input already has a column '${name}'`);
    return withColumns(input, [tensorField('high', { shape: [h * p.scale, w * p.scale], dimNames: ['y', 'x'], kind: 'float32' }), tensorField('low', { shape: [h, w], dimNames: ['y', 'x'], kind: 'float32' })]);
  },
  create(p, { inputSchema, outputSchema }) {
    const [height, width] = tensorInfo(inputSchema, p.image).shape;
    const [h, w] = [Math.floor(height / p.scale), Math.floor(width / p.scale)];
    return (batch: RecordBatch) => {
      const values = tensorValues(batch, p.image);
      const high = new Float32Array(batch.numRows * h * w * p.scale * p.scale);
      const low = new Float32Array(batch.numRows * h * w);
      for (let r = 0; r < batch.numRows; r++) {
        const image = values.subarray(r * height * width, (r + 1) * height * width);
        const blank = image.findIndex((v) => !Number.isFinite(v));
        if (blank >= 0) throw new Error(`astro.degrade: row ${r} of '${p.image}' has no value at pixel (${Math.floor(blank / width)}, ${blank % width}); block means need every pixel`);
        const random = seededBy(p.seed, image);
        blockAverage(image, height, width, p.scale).forEach((v, i) => (low[r * h * w + i] = v + p.noise * random.normal()));
        for (let y = 0; y < h * p.scale; y++) high.set(image.subarray(y * width, y * width + w * p.scale), (r * h * p.scale + y) * w * p.scale);
      }
      const [highField, lowField] = outputSchema.fields.slice(-2);
      return makeBatch(outputSchema, [...batch.data.children, tensorData(highField, high, batch.numRows), tensorData(lowField, low, batch.numRows)], batch.numRows);
    };
  },
});

const pairParams = z.object({
  high: z.string().min(1).default('high'),
  low: z.string().min(1).default('low'),
  scale: z.number().int().min(2).default(4),
  patch: z.number().int().min(4).default(32).describe('side of the high-res patches'),
  stride: z.number().int().min(1).default(16).describe('high-res pixels between neighbouring patches'),
  validation: z.number().gt(0).lt(1).default(0.2).describe('share of each image (its right-hand side) that gives validation patches'),
  copies: z.number().int().min(0).default(1).describe('rotated/mirrored/sign-flipped variants after each train patch'),
  seed: z.number().int().default(0),
}).strict();

type PairParams = z.output<typeof pairParams>;

/** `patch` under symmetry `k` (bit 0 mirror x, bit 1 mirror y, bit 2 transpose, bit 3 sign flip). */
export function symmetric(patch: Float32Array, side: number, k: number): Float32Array {
  const out = new Float32Array(patch.length);
  const sign = k & 8 ? -1 : 1;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let [sy, sx] = k & 4 ? [x, y] : [y, x];
      if (k & 1) sx = side - 1 - sx;
      if (k & 2) sy = side - 1 - sy;
      out[y * side + x] = sign * patch[sy * side + sx];
    }
  }
  return out;
}

interface Patch { x: number; y: number; copy: number; split: 'train' | 'validation'; bicubic: Float32Array; correction: Float32Array }

/** The patches of one image pair (H × W high-res values and its bicubic upsampling). */
function cutPatches(p: PairParams, high: ArrayLike<number>, bicubic: Float64Array, H: number, W: number, random: Random): Patch[] {
  const P = p.patch;
  const cut = Math.round((1 - p.validation) * W);
  const crop = (from: ArrayLike<number>, x0: number, y0: number, minus?: ArrayLike<number>) => {
    const out = new Float32Array(P * P);
    for (let y = 0; y < P; y++) for (let x = 0; x < P; x++) out[y * P + x] = from[(y0 + y) * W + x0 + x] - (minus ? minus[(y0 + y) * W + x0 + x] : 0);
    return out;
  };
  const patches: Patch[] = [];
  const bands = [{ split: 'train' as const, from: 0, to: cut }, { split: 'validation' as const, from: cut + 2 * p.scale, to: W }];
  for (const band of bands) {
    for (let y0 = 0; y0 + P <= H; y0 += p.stride) {
      for (let x0 = band.from; x0 + P <= band.to; x0 += p.stride) {
        const original = { x: x0, y: y0, copy: 0, split: band.split, bicubic: crop(bicubic, x0, y0), correction: crop(high, x0, y0, bicubic) };
        patches.push(original);
        for (let c = 1; band.split === 'train' && c <= p.copies; c++) {
          const k = 1 + Math.floor(random.uniform() * 15);
          patches.push({ ...original, copy: c, bicubic: symmetric(original.bicubic, P, k), correction: symmetric(original.correction, P, k) });
        }
      }
    }
  }
  return patches;
}

export const superResolutionPairs = defineMap({
  name: 'astro.super-resolution-pairs',
  kind: 'map',
  version: '1',
  description: "Training patches from high/low image pairs: 'bicubic' (the low-res image upsampled) and 'correction' (high − bicubic), with 'split' and augmented copies.",
  params: pairParams,
  outputSchema({ params: p, inputs: [input] }) {
    const [H, W] = tensorInfo(input, p.high).shape;
    const low = tensorInfo(input, p.low).shape;
    if (low.length !== 2 || low[0] * p.scale !== H || low[1] * p.scale !== W) throw new SchemaError(`'${p.low}' (${low.join(' × ')}) must be '${p.high}' (${H} × ${W}) made ${p.scale} times coarser`);
    if (p.patch > H || p.patch > Math.round(p.validation * W) - 2 * p.scale) throw new SchemaError(`patches of ${p.patch} do not fit in the ${H}-pixel-high image's validation share (${p.validation} of ${W} pixels)`);
    const patchField = (name: string) => tensorField(name, { shape: [p.patch, p.patch], dimNames: ['y', 'x'], kind: 'float32' });
    return new Schema([new Field('x', new Int32(), false), new Field('y', new Int32(), false), new Field('copy', new Int32(), false),
      patchField('bicubic'), patchField('correction'), new Field('split', new Utf8(), false)]);
  },
  create(p, { inputSchema, outputSchema }) {
    const [H, W] = tensorInfo(inputSchema, p.high).shape;
    const [h, w] = [H / p.scale, W / p.scale];
    return (batch: RecordBatch) => {
      const [high, low] = [tensorValues(batch, p.high), tensorValues(batch, p.low)];
      const patches: Patch[] = [];
      for (let r = 0; r < batch.numRows; r++) {
        const image = high.subarray(r * H * W, (r + 1) * H * W);
        patches.push(...cutPatches(p, image, bicubicUpsample(low.subarray(r * h * w, (r + 1) * h * w), h, w, p.scale), H, W, seededBy(p.seed, image)));
      }
      const n = patches.length;
      const ints = (pick: (q: Patch) => number) => makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from(patches, pick) });
      const stacked = (pick: (q: Patch) => Float32Array) => {
        const out = new Float32Array(n * p.patch * p.patch);
        patches.forEach((q, i) => out.set(pick(q), i * p.patch * p.patch));
        return out;
      };
      return makeBatch(outputSchema, [ints((q) => q.x), ints((q) => q.y), ints((q) => q.copy),
        tensorData(outputSchema.fields[3], stacked((q) => q.bicubic), n), tensorData(outputSchema.fields[4], stacked((q) => q.correction), n),
        vectorFromArray(patches.map((q) => q.split), new Utf8()).data[0]], n);
    };
  },
});
