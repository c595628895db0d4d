// Model specs as workflow files write them: a list of layers, turned into a TensorFlow.js
// sequential model whose initial weights follow from one seed (layer i draws with seed + i), so the
// same spec and seed always start from the same weights. The output layer is added from the task.
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Tfjs } from './runtime.ts';

const activation = z.enum(['relu', 'tanh', 'sigmoid', 'linear', 'elu']).default('relu');
export const layerSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('conv2d'), filters: z.number().int().min(1), kernel: z.number().int().min(1), padding: z.enum(['same', 'valid']).default('same'), activation }).strict(),
  z.object({ type: z.literal('maxpool2d'), size: z.number().int().min(1) }).strict(),
  // No 3-D pooling: tfjs-backend-wasm 4.22's MaxPool3D kernel gives 1.2e-38 for windows of negative
  // values and its pooling gradients are wrong; a conv3d of stride 2 downsamples instead.
  z.object({ type: z.literal('conv3d'), filters: z.number().int().min(1), kernel: z.number().int().min(1), stride: z.number().int().min(1).default(1), padding: z.enum(['same', 'valid']).default('same'), activation }).strict(),
  z.object({ type: z.literal('flatten') }).strict(),
  z.object({ type: z.literal('dense'), units: z.number().int().min(1), activation }).strict(),
  z.object({ type: z.literal('dropout'), rate: z.number().min(0).lt(1) }).strict(),
  z.object({ type: z.literal('batchnorm') }).strict(),
  z.object({ type: z.literal('lstm'), units: z.number().int().min(1), return_sequences: z.boolean().default(false) }).strict(),
  z.object({ type: z.literal('unet'), filters: z.number().int().min(1).default(8), depth: z.number().int().min(1).max(5).default(2) }).strict(),
]);
export type LayerSpec = z.output<typeof layerSpec>;
export type Task = 'binary-classification' | 'regression';

/** A regression's output activation and the values it can give (labels must lie inside). */
export const outputActivations = {
  linear: [-Infinity, Infinity],
  relu: [0, Infinity],
  sigmoid: [0, 1],
  tanh: [-1, 1],
  // The seed's deepDeconv: ReLU, then tanh (outputs in [0, 1)).
  'relu-tanh': [0, 1],
} as const;
export type OutputActivation = keyof typeof outputActivations;

export interface HeadOptions {
  outputShape?: number[];
  outputActivation?: OutputActivation;
  /**
   * The starting bias of an image target's output unit. A segmenter starts at its labels' share of
   * positives (Lin et al. 2017): started at 0.5 everywhere, where the mask is 1 % of the pixels, it
   * spends hundreds of steps just learning that most pixels are background. A weighted regression
   * starts at the weighted mean of its targets.
   */
  outputBias?: number;
}

/** Layers that need a channel axis after the spatial ones, and how many spatial axes they take. */
const spatialAxes: Partial<Record<LayerSpec['type'], number>> = { conv2d: 2, maxpool2d: 2, conv3d: 3 };

/**
 * `inputShape`: one row's value; conv layers get a channel axis added when the shape is 2-D (conv2d)
 * or 3-D (conv3d: a volume patch).
 * `outputShape`: one row's target: [] a number (a dense unit), [k] a vector (k dense units), or
 * [h, w] an image (a dense unit over each pixel's channels: the layers must keep h × w).
 */
export function buildModel(tf: Tfjs, layers: LayerSpec[], inputShape: number[], task: Task, seed: number,
  { outputShape = [], outputActivation = 'linear', outputBias = 0 }: HeadOptions = {}): LayersModel {
  const init = (i: number) => tf.initializers.glorotUniform({ seed: seed + i });
  if (layers.some((l) => l.type === 'unet')) return buildUnetModel(tf, layers, inputShape, task, seed, { outputShape, outputActivation, outputBias });
  const model = tf.sequential();
  const shape = inputShape.length === 0 ? [1] : inputShape;
  const needsChannels = layers.some((l) => spatialAxes[l.type] === shape.length);
  model.add(tf.layers.reshape({ inputShape: shape, targetShape: needsChannels ? [...shape, 1] : shape }));
  layers.forEach((l, i) => {
    if (l.type === 'conv2d' && l.activation === 'linear' && tf.getBackend() === 'wasm') {
      throw new Error(`layer ${i + 1}: on the wasm backend a conv2d layer trains only with a non-linear activation (TensorFlow.js fuses linear convolutions, and the fused gradient has no wasm kernel)`);
    }
    if (l.type === 'conv2d') model.add(tf.layers.conv2d({ filters: l.filters, kernelSize: l.kernel, padding: l.padding, activation: l.activation, kernelInitializer: init(i) }));
    else if (l.type === 'maxpool2d') model.add(tf.layers.maxPooling2d({ poolSize: l.size }));
    // Conv3D is not fused in TensorFlow.js, and on wasm its gradient is quiver's
    // (wasm-conv3d-gradient.ts), so any activation trains there.
    else if (l.type === 'conv3d') model.add(tf.layers.conv3d({ filters: l.filters, kernelSize: l.kernel, strides: l.stride, padding: l.padding, activation: l.activation, kernelInitializer: init(i) }));
    else if (l.type === 'flatten') model.add(tf.layers.flatten());
    else if (l.type === 'dense') model.add(tf.layers.dense({ units: l.units, activation: l.activation, kernelInitializer: init(i) }));
    else if (l.type === 'lstm') {
      model.add(tf.layers.lstm({ units: l.units, returnSequences: l.return_sequences, kernelInitializer: init(i), recurrentInitializer: tf.initializers.orthogonal({ seed: seed + i, gain: 1 }) }));
    }
    else if (l.type === 'batchnorm') model.add(tf.layers.batchNormalization());
    else if (l.type === 'dropout') model.add(tf.layers.dropout({ rate: l.rate, seed: seed + i }));
  });
  const activation = task === 'binary-classification' ? 'sigmoid' : outputActivation === 'relu-tanh' ? 'relu' : outputActivation;
  // A ReLU output starts near zero (small weights): one that starts large is pushed down hard in the
  // first steps, past zero on every value, and a ReLU below zero gets no gradient to come back.
  const headInitializer = (i: number) => (activation === 'relu' ? tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: seed + i }) : init(i));
  const finish = () => {
    if (outputActivation === 'relu-tanh') model.add(tf.layers.activation({ activation: 'tanh' }));
  };
  if (outputShape.length === 2) {
    const [, h, w] = model.outputs[0].shape;
    if (model.outputs[0].shape.length !== 4 || h !== outputShape[0] || w !== outputShape[1]) {
      throw new Error(`an image target of ${outputShape.join(' × ')} needs convolution layers ('same' padding, no pooling) that end at that size; they end at ${JSON.stringify(model.outputs[0].shape.slice(1))}`);
    }
    // A dense unit over each pixel's channels (a 1 × 1 convolution, done as a matrix product: a
    // linear convolution would be fused, and its filter gradient has no wasm kernel).
    model.add(tf.layers.dense({ units: 1, activation, kernelInitializer: headInitializer(layers.length), biasInitializer: tf.initializers.constant({ value: outputBias }) }));
    finish();
    model.add(tf.layers.reshape({ targetShape: outputShape }));
    return model;
  }
  if (model.outputs[0].shape.length > 2) model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: outputShape[0] ?? 1, activation, kernelInitializer: headInitializer(layers.length) }));
  finish();
  return model;
}

/**
 * A U-Net (Ronneberger et al. 2015) as one layer spec: `depth` levels of two 3 × 3 convolutions
 * (ReLU, then batch normalisation) and 2 × 2 max pooling, filters doubling each level; a bottom
 * pair; and the way back up: nearest-neighbour upsampling, the skip from the same level
 * concatenated, two convolutions. Built with the functional API (the skips are not a sequence);
 * the per-pixel output unit follows as for any image target. Images must divide by 2^depth; an
 * input of [h, w, c] gives the first convolution c channels (an image and its mask, say).
 */
function buildUnetModel(tf: Tfjs, layers: LayerSpec[], inputShape: number[], task: Task, seed: number,
  { outputShape = [], outputActivation = 'linear', outputBias = 0 }: HeadOptions): LayersModel {
  if (layers.length !== 1 || (inputShape.length !== 2 && inputShape.length !== 3) || outputShape.length !== 2) {
    throw new Error('a unet layer stands alone, on 2-D images (or [h, w, channels]) with a 2-D target of the same size');
  }
  const { filters, depth } = layers[0] as Extract<LayerSpec, { type: 'unet' }>;
  const [h, w, channels = 1] = inputShape;
  if (h % 2 ** depth || w % 2 ** depth) throw new Error(`a U-Net of depth ${depth} needs images whose sides divide by ${2 ** depth}, not ${h} × ${w}`);
  if (outputShape[0] !== h || outputShape[1] !== w) throw new Error(`the target (${outputShape.join(' × ')}) must be the image's size (${h} × ${w})`);
  let n = 0;
  // Batch normalisation after each convolution: without it the same discs took 12 epochs to reach a
  // loss of 0.20 instead of 0.012 (test/models/unet.test.ts). Its running statistics, which
  // prediction uses, follow the batches with momentum 0.9, not Keras's 0.99: a segmenter trained
  // for a hundred steps otherwise predicts with statistics still near their starting values.
  const block = (x: SymbolicTensor, f: number) => {
    for (let k = 0; k < 2; k++) {
      x = tf.layers.conv2d({ filters: f, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + n++ }) }).apply(x) as SymbolicTensor;
      x = tf.layers.batchNormalization({ momentum: 0.9 }).apply(x) as SymbolicTensor;
    }
    return x;
  };
  const input = tf.input({ shape: inputShape });
  let x = tf.layers.reshape({ targetShape: [h, w, channels] }).apply(input) as SymbolicTensor;
  const skips: SymbolicTensor[] = [];
  for (let d = 0; d < depth; d++) {
    x = block(x, filters * 2 ** d);
    skips.push(x);
    x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as SymbolicTensor;
  }
  x = block(x, filters * 2 ** depth);
  for (let d = depth - 1; d >= 0; d--) {
    x = tf.layers.upSampling2d({ size: [2, 2] }).apply(x) as SymbolicTensor;
    x = block(tf.layers.concatenate().apply([x, skips[d]]) as SymbolicTensor, filters * 2 ** d);
  }
  const activation = task === 'binary-classification' ? 'sigmoid' : outputActivation === 'relu-tanh' ? 'relu' : outputActivation;
  // A regression's output unit starts with small weights, so the network starts at its bias (a
  // repair network at the mean correction): started at Glorot's scale, 4 to 8 unit-variance
  // features put noise of order 1 on every pixel, 50 times the error of predicting nothing.
  const headInit = task === 'regression' ? tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: seed + n }) : tf.initializers.glorotUniform({ seed: seed + n });
  x = tf.layers.dense({ units: 1, activation, kernelInitializer: headInit, biasInitializer: tf.initializers.constant({ value: outputBias }) }).apply(x) as SymbolicTensor;
  if (outputActivation === 'relu-tanh') x = tf.layers.activation({ activation: 'tanh' }).apply(x) as SymbolicTensor;
  x = tf.layers.reshape({ targetShape: outputShape }).apply(x) as SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}
