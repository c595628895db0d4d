// `model.augment`: more training images from the ones there are. Each row is kept (copy 0) and
// followed by `copies` variants, each the image under a random similarity transform about its
// centre (rotation within ±rotate_deg, scale within `scale`, shift within ±shift of the side,
// mirrored left-right half the time when `mirror`), its contrast scaled about its mean by a factor
// within `gain` and every value shifted within ±offset (scanners and reconstructions differ), plus
// Gaussian noise of sd `noise`. A `label` mask gets the same transform (1 where the interpolated
// mask reaches 0.5), so image and label stay registered. Beyond the image the edge's values continue. A row's variants are seeded by `seed`
// and the row's pixels, so they repeat bit for bit however the rows are batched. Adds `copy`.
import { createHash } from 'node:crypto';
import { Field, Int32, makeData, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { takeBatch } from '../../arrow/take.ts';
import { tensorData, tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { bilinear } from '../../numeric/bilinear.ts';
import { Random } from '../../numeric/random.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { withColumns } from '../../arrow/added-columns.ts';

const params = z.object({
  image: z.string().min(1).default('image').describe('a 2-D float tensor column'),
  label: z.string().min(1).optional().describe('a 0/1 mask of the same shape, transformed with the image'),
  copies: z.number().int().min(1),
  rotate_deg: z.number().min(0).max(180).default(10),
  scale: z.tuple([z.number().positive(), z.number().positive()]).default([0.9, 1.1]),
  shift: z.number().min(0).max(0.5).default(0.05).describe('largest shift, as a share of the side'),
  mirror: z.boolean().default(true),
  noise: z.number().min(0).default(0).describe('sd of Gaussian noise added, in the image\'s units'),
  gain: z.tuple([z.number().positive(), z.number().positive()]).default([1, 1]).describe('contrast: values scaled about the image\'s mean by a factor in this range'),
  offset: z.number().min(0).default(0).describe('largest shift of every value, in the image\'s units'),
  seed: z.number().int().default(0),
}).strict().refine((p) => p.scale[0] <= p.scale[1], { message: 'scale is [smallest, largest]' });

type Params = z.output<typeof params>;

interface Transform { cos: number; sin: number; scale: number; dx: number; dy: number; mirror: boolean }

function drawTransform(random: Random, p: Params, width: number, height: number): Transform {
  const angle = ((random.uniform() * 2 - 1) * p.rotate_deg * Math.PI) / 180;
  return {
    cos: Math.cos(angle), sin: Math.sin(angle),
    scale: p.scale[0] + random.uniform() * (p.scale[1] - p.scale[0]),
    dx: (random.uniform() * 2 - 1) * p.shift * width, dy: (random.uniform() * 2 - 1) * p.shift * height,
    mirror: p.mirror && random.uniform() < 0.5,
  };
}

/** `values` (width × height) under `t`: each output pixel samples the input where the inverse transform takes it. */
function transformed(values: Float32Array, width: number, height: number, t: Transform): Float32Array {
  const out = new Float32Array(values.length);
  const [cx, cy] = [(width - 1) / 2, (height - 1) / 2];
  const plane = { values, width, height };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [ux, uy] = [(t.mirror ? cx - (x - cx) : x) - cx - t.dx, y - cy - t.dy];
      out[y * width + x] = bilinear(plane, cx + (t.cos * ux + t.sin * uy) / t.scale, cy + (-t.sin * ux + t.cos * uy) / t.scale, 'edge');
    }
  }
  return out;
}

export const augment = defineMap({
  name: 'model.augment',
  kind: 'map',
  version: '1',
  description: 'Each image row kept and followed by `copies` randomly rotated, scaled, shifted, mirrored, noisy variants (a label mask transformed alike); adds `copy`.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const { shape } = tensorInfo(input, p.image);
    if (shape.length !== 2) throw new SchemaError(`'${p.image}' must hold 2-D images, not ${shape.length}-D tensors`);
    if (p.label && tensorInfo(input, p.label).shape.join() !== shape.join()) throw new SchemaError(`'${p.label}' must have the shape of '${p.image}' (${shape.join(' × ')})`);
    return withColumns(input, [new Field('copy', new Int32(), false)]);
  },
  create(p, { inputSchema, outputSchema }) {
    const [height, width] = tensorInfo(inputSchema, p.image).shape;
    const pixels = width * height;
    const names = [p.image, ...(p.label ? [p.label] : [])];
    const columns = names.map((name) => inputSchema.fields.findIndex((f) => f.name === name));
    return (batch: RecordBatch) => {
      const n = batch.numRows * (p.copies + 1);
      const taken = takeBatch(batch, Int32Array.from({ length: n }, (_, i) => Math.floor(i / (p.copies + 1))));
      const values = names.map((name) => Float32Array.from(tensorValues(taken, name)));
      for (let r = 0; r < batch.numRows; r++) {
        const first = r * (p.copies + 1);
        const image = values[0].subarray(first * pixels, (first + 1) * pixels);
        const digest = createHash('sha256').update(String(p.seed)).update(new Uint8Array(image.buffer, image.byteOffset, image.byteLength)).digest();
        const random = new Random(digest.readUInt32LE(0));
        for (let c = 1; c <= p.copies; c++) {
          const t = drawTransform(random, p, width, height);
          const at = (first + c) * pixels;
          const moved = transformed(image, width, height, t);
          if (p.gain[0] !== 1 || p.gain[1] !== 1 || p.offset > 0) {
            const gain = p.gain[0] + random.uniform() * (p.gain[1] - p.gain[0]);
            const offset = (random.uniform() * 2 - 1) * p.offset;
            const mean = moved.reduce((a, v) => a + v, 0) / pixels;
            for (let i = 0; i < pixels; i++) moved[i] = mean + gain * (moved[i] - mean) + offset;
          }
          if (p.noise > 0) for (let i = 0; i < pixels; i++) moved[i] += p.noise * random.normal();
          values[0].set(moved, at);
          if (p.label) values[1].set(transformed(values[1].subarray(first * pixels, (first + 1) * pixels), width, height, t).map((v) => (v >= 0.5 ? 1 : 0)), at);
        }
      }
      const children = [...taken.data.children];
      columns.forEach((c, k) => (children[c] = tensorData(inputSchema.fields[c], values[k], n)));
      children.push(makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from({ length: n }, (_, i) => i % (p.copies + 1)) }));
      return makeBatch(outputSchema, children, n);
    };
  },
});
