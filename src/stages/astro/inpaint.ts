// `astro.inpaint`: masked pixels of an image rebuilt from the rest; adds the repaired image.
//   harmonic    Laplace's equation inside the mask (steady diffusion from the pixels around it)
//   biharmonic  Δ²u = 0 inside the mask (the smoothest thin-plate fill), as scikit-image's
//   model       a network trained on astro.overexposure-pairs (`artifact`, in units of `level`):
//               it sees windows of its own size around the mask (lib/repair-input.ts) and gives
//               the correction each masked pixel needs, taken from the window in which the pixel
//               lies farthest from an edge
// Unmasked pixels are kept as they are, whichever the method.
import { z } from 'zod';
import { resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../arrow/tensor.ts';
import { artifactHash, loadModel, readArtifactBytes, type ModelCard } from '../../models/artifact.ts';
import { predict } from '../../models/fit.ts';
import { modelRuntime, type Tfjs } from '../../models/runtime.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { imageGrid, requireSameGrid } from './lib/image-grid.ts';
import { biharmonicInpaint, harmonicInpaint, type Grid } from './lib/inpainting.ts';
import { repairInput } from './lib/repair-input.ts';

const params = z.object({
  column: z.string().min(1).default('data').describe('the image, a 2-D column'),
  mask: z.string().min(1).default('mask').describe('a 0/1 column of its shape: 1 where pixels are to be rebuilt'),
  method: z.enum(['harmonic', 'biharmonic', 'model']),
  artifact: z.string().min(1).optional().describe('method model: the model folder (sink.model wrote it), relative to the workflow'),
  level: z.number().positive().default(255).describe("method model: the saturation level, the unit of the network's input and output"),
  name: z.string().min(1).default('repaired'),
}).strict().refine((p) => (p.method === 'model') === (p.artifact !== undefined), { message: 'method model needs an artifact, and only it takes one' });

type Params = z.output<typeof params>;

/** The model's window side, checked against the card (input [t, t, 2], output [t, t]). */
function windowOf(card: ModelCard, artifact: string): number {
  const [t, side, channels] = card.input.shape;
  if (card.input.shape.length !== 3 || t !== side || channels !== 2 || JSON.stringify(card.output.shape) !== JSON.stringify([t, t])) {
    throw new SchemaError(`${artifact}: a repair model takes [t, t, 2] (image and mask) to [t, t]; this one takes ${JSON.stringify(card.input.shape)} to ${JSON.stringify(card.output.shape ?? [])}`);
  }
  return t;
}

/** Window starts along one side: every half window across [first, last], kept inside the image. */
function starts(first: number, last: number, window: number, side: number): number[] {
  const out: number[] = [];
  for (let s = first - window / 4; ; s += window / 2) {
    out.push(Math.max(0, Math.min(side - window, Math.round(s))));
    if (s + window * 0.75 > last) break;
  }
  return [...new Set(out)];
}

/** The image with masked pixels replaced by the model's predictions (windows around the mask). */
async function modelRepair(tf: Tfjs, model: LayersModel, card: ModelCard, image: ArrayLike<number>, mask: ArrayLike<number>, { height, width }: Grid, window: number, level: number) {
  const out = Float64Array.from(image);
  const masked = [...Array(mask.length).keys()].filter((i) => mask[i] > 0);
  if (masked.length === 0) return out;
  const rows = masked.map((i) => Math.floor(i / width));
  const columns = masked.map((i) => i % width);
  const best = new Float64Array(mask.length).fill(-1);
  const { mean, std, labelScale = 1 } = card.normalisation;
  for (const top of starts(Math.min(...rows), Math.max(...rows), window, height)) {
    for (const left of starts(Math.min(...columns), Math.max(...columns), window, width)) {
      const pick = (values: ArrayLike<number>) => Float64Array.from({ length: window * window }, (_, k) => values[(top + Math.floor(k / window)) * width + left + (k % window)]);
      const windowMask = pick(mask);
      if (!windowMask.some((v) => v > 0)) continue;
      const x = repairInput(pick(image), windowMask, level).map((v) => (v - mean) / std);
      const predicted = await predict(tf, model, x, card.input.shape, 1, window * window);
      for (let k = 0; k < window * window; k++) {
        const [y, c] = [Math.floor(k / window), k % window];
        const depth = Math.min(y, c, window - 1 - y, window - 1 - c);
        const i = (top + y) * width + left + c;
        if (windowMask[k] > 0 && depth > best[i]) {
          best[i] = depth;
          out[i] = image[i] + predicted[k] * labelScale * level;
        }
      }
    }
  }
  return out;
}

async function repairer(p: Params, baseDir: string, grid: Grid) {
  if (p.method === 'harmonic') return async (image: ArrayLike<number>, mask: ArrayLike<number>) => harmonicInpaint(image, mask, grid);
  if (p.method === 'biharmonic') return async (image: ArrayLike<number>, mask: ArrayLike<number>) => biharmonicInpaint(image, mask, grid);
  const bytes = readArtifactBytes(resolve(baseDir, p.artifact!));
  const window = windowOf(bytes.card, p.artifact!);
  const { tf } = await modelRuntime();
  const model = await loadModel(tf, bytes);
  return (image: ArrayLike<number>, mask: ArrayLike<number>) => modelRepair(tf, model, bytes.card, image, mask, grid, window, p.level);
}

export const inpaint = defineMap({
  name: 'astro.inpaint',
  kind: 'model',
  version: '1',
  description: "Rebuilds an image's masked pixels (harmonic, biharmonic, or a trained network); adds the repaired image.",
  params,
  reads: (p) => (p.artifact ? [p.artifact] : []),
  fingerprint: (p, { baseDir }) => (p.artifact ? artifactHash(resolve(baseDir, p.artifact)) : 'none'),
  outputSchema({ params: p, inputs: [input], baseDir }) {
    const grid = imageGrid(input, p.column);
    requireSameGrid(input, p.mask, grid, p.column);
    if (p.artifact) {
      const window = windowOf(readArtifactBytes(resolve(baseDir, p.artifact)).card, p.artifact);
      if (window > grid.height || window > grid.width) throw new SchemaError(`the model's ${window}-pixel window does not fit '${p.column}' (${grid.height} × ${grid.width})`);
    }
    return withColumns(input, [tensorField(p.name, { shape: [grid.height, grid.width], dimNames: ['y', 'x'], kind: 'float32' })]);
  },
  async create(p, { inputSchema, outputSchema, baseDir }) {
    const grid = imageGrid(inputSchema, p.column);
    const size = grid.height * grid.width;
    const repair = await repairer(p, baseDir, grid);
    return async (batch) => {
      const [images, masks] = [tensorValues(batch, p.column), tensorValues(batch, p.mask)];
      const out = new Float32Array(batch.numRows * size);
      for (let r = 0; r < batch.numRows; r++) out.set(await repair(images.subarray(r * size, (r + 1) * size), masks.subarray(r * size, (r + 1) * size)), r * size);
      return makeBatch(outputSchema, [...batch.data.children, tensorData(outputSchema.fields.at(-1)!, out, batch.numRows)], batch.numRows);
    };
  },
});
