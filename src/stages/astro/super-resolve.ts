// `astro.super-resolve`: a 2-D image `scale` times finer. Alone, Keys' cubic convolution (bicubic,
// numeric/bicubic.ts). With `model` (a folder sink.model wrote, trained on astro.super-resolution-pairs),
// the network's correction is added to the bicubic image: the network sees the bicubic image
// (standardised with the card's mean and std) and predicts high-res − bicubic (times the card's
// labelScale). Its layers are convolutions and batch normalisation only, so the same weights run
// at any size: the stage rebuilds the network for its tile size and runs it over overlapping tiles
// (lib/tiles.ts), each cropped by the receptive radius, so the output equals one run over the
// whole image whatever its size.
import type { LayersModel } from '@tensorflow/tfjs';
import type { RecordBatch } from 'apache-arrow';
import { resolve } from 'node:path';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { tensorData, tensorField, tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { artifactHash, loadModel, readArtifactBytes, type ModelBytes } from '../../models/artifact.ts';
import { predict } from '../../models/fit.ts';
import { modelRuntime, type Tfjs } from '../../models/runtime.ts';
import { buildModel, layerSpec, type LayerSpec, type OutputActivation } from '../../models/spec.ts';
import { bicubicUpsample } from '../../numeric/bicubic.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { runTiled } from './lib/tiles.ts';

const params = z.object({
  image: z.string().min(1).default('low').describe('a 2-D float tensor column: the low-resolution image'),
  scale: z.number().int().min(2).default(4).describe('how many times finer along each axis (the factor the model was trained for)'),
  model: z.string().min(1).optional().describe('a model folder (relative to the workflow folder) trained on astro.super-resolution-pairs; without it, bicubic alone'),
  output: z.string().min(1).default('super_resolved').describe('the column added'),
  tile: z.number().int().min(8).default(128).describe('side of the high-res tiles the network runs on'),
  overlap: z.number().int().min(0).optional().describe("high-res pixels cropped from each tile side facing another tile; default the network's receptive radius"),
  batch_size: z.number().int().min(1).default(8).describe('tiles per call into the network'),
}).strict();

type Params = z.output<typeof params>;

/** The layers of a card, checked to be convolutions ('same' padding) and batch normalisation only. */
export function convolutionLayers(bytes: ModelBytes, where: string): LayerSpec[] {
  const layers = z.array(layerSpec).parse(bytes.card.params.layers);
  const bad = layers.find((l) => !(l.type === 'batchnorm' || (l.type === 'conv2d' && l.padding === 'same')));
  if (bad || bytes.card.input.shape.length !== 2 || bytes.card.output.shape?.length !== 2) {
    throw new SchemaError(`${where}: a super-resolution model maps 2-D images to 2-D images through 'same' conv2d and batchnorm layers only${bad ? `, not ${bad.type}` : ''}`);
  }
  return layers;
}

/** How far (pixels) an output pixel of these layers sees: half of each convolution's kernel, summed. */
export const receptiveRadius = (layers: LayerSpec[]) => layers.reduce((r, l) => r + (l.type === 'conv2d' ? Math.floor(l.kernel / 2) : 0), 0);

/** The trained network's weights in a network built for th × tw images. */
export class ResizableNetwork {
  private built = new Map<string, LayersModel>();

  private constructor(private tf: Tfjs, private trained: LayersModel, readonly bytes: ModelBytes, readonly layers: LayerSpec[]) {}

  static async load(bytes: ModelBytes, where: string): Promise<ResizableNetwork> {
    const layers = convolutionLayers(bytes, where);
    const { tf } = await modelRuntime();
    return new ResizableNetwork(tf, await loadModel(tf, bytes), bytes, layers);
  }

  /** The corrections (in the labels' units) for stacked th × tw bicubic tiles. */
  async correct(tiles: Float32Array, th: number, tw: number, batchSize: number): Promise<Float32Array> {
    const key = `${th}x${tw}`;
    let model = this.built.get(key);
    if (!model) {
      const { card } = this.bytes;
      model = buildModel(this.tf, this.layers, [th, tw], 'regression', card.seed, { outputShape: [th, tw], outputActivation: card.params.output_activation as OutputActivation | undefined });
      model.setWeights(this.trained.getWeights());
      this.built.set(key, model);
    }
    const { mean, std, labelScale = 1 } = this.bytes.card.normalisation;
    const x = tiles.map((v) => (v - mean) / std);
    const out = await predict(this.tf, model, x, [th, tw], batchSize, th * tw);
    return labelScale === 1 ? out : out.map((v) => v * labelScale);
  }
}

/** One low-res image `scale` times finer: bicubic, plus the network's correction when there is one. */
export async function superResolve(low: ArrayLike<number>, height: number, width: number, p: Pick<Params, 'scale' | 'tile' | 'overlap' | 'batch_size'>, network?: ResizableNetwork): Promise<Float32Array> {
  const [H, W] = [height * p.scale, width * p.scale];
  const bicubic = Float32Array.from(bicubicUpsample(low, height, width, p.scale));
  if (!network) return bicubic;
  const margin = p.overlap ?? receptiveRadius(network.layers);
  const correction = await runTiled(bicubic, H, W, p.tile, margin, (tiles, _count, th, tw) => network.correct(tiles, th, tw, p.batch_size));
  return bicubic.map((v, i) => v + correction[i]);
}

export const superResolveStage = defineMap({
  name: 'astro.super-resolve',
  kind: 'model',
  version: '1',
  description: "A 2-D image `scale` times finer: bicubic (Keys), plus a trained network's correction run over overlapping tiles; adds `output`.",
  params,
  reads: (p) => (p.model ? [p.model] : []),
  fingerprint: (p, { baseDir }) => (p.model ? artifactHash(resolve(baseDir, p.model)) : 'bicubic'),
  outputSchema({ params: p, inputs: [input], baseDir }) {
    const { shape } = tensorInfo(input, p.image);
    if (shape.length !== 2) throw new SchemaError(`'${p.image}' must hold 2-D images, not ${shape.length}-D tensors`);
    if (input.fields.some((f) => f.name === p.output)) throw new SchemaError(`the input already has a column '${p.output}'`);
    if (p.model) convolutionLayers(readArtifactBytes(resolve(baseDir, p.model)), p.model);
    return withColumns(input, [tensorField(p.output, { shape: shape.map((n) => n * p.scale), dimNames: ['y', 'x'], kind: 'float32' })]);
  },
  async create(p, { inputSchema, outputSchema, baseDir }) {
    const [height, width] = tensorInfo(inputSchema, p.image).shape;
    const network = p.model ? await ResizableNetwork.load(readArtifactBytes(resolve(baseDir, p.model)), p.model) : undefined;
    const size = height * width * p.scale * p.scale;
    return async (batch: RecordBatch) => {
      const low = tensorValues(batch, p.image);
      const out = new Float32Array(batch.numRows * size);
      for (let r = 0; r < batch.numRows; r++) {
        out.set(await superResolve(low.subarray(r * height * width, (r + 1) * height * width), height, width, p, network), r * size);
      }
      return makeBatch(outputSchema, [...batch.data.children, tensorData(outputSchema.fields[outputSchema.fields.length - 1], out, batch.numRows)], batch.numRows);
    };
  },
});
