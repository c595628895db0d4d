// Training with early stopping, repeatable bit for bit for a given seed and backend: the batches
// of each epoch come from a seeded shuffle (TensorFlow.js's own shuffle uses Math.random), the
// weights with the lowest validation loss are kept, and training stops after `patience` epochs
// without improvement.
import type { LayersModel, Scalar, Tensor } from '@tensorflow/tfjs';
import { Random } from '../numeric/random.ts';
import type { Tfjs } from './runtime.ts';
import type { Task } from './spec.ts';

export interface FitOptions {
  task: Task;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  seed: number;
  /** Classifier: weight of each class in the loss (balancing rare positives). */
  classWeight?: Record<number, number>;
  /** Classifier of image targets: cross-entropy, soft Dice, or their sum. */
  loss?: SegmentationLoss;
  /** Called after each epoch (progress). */
  onEpoch?: (epoch: number, loss: number, validationLoss: number) => void;
}

export interface Examples {
  /** Row after row of `rowSize` values, already normalised. */
  x: Float32Array;
  /** Row after row of the targets: one value each, or `labelShape` values. */
  y: Float32Array;
  rowShape: number[];
  labelShape?: number[];
  /**
   * Regression: a weight for each target value; the loss is then Σ w (p − y)² / Σ w over a batch,
   * so values of weight 0 are left out (a repair judged only where it repaired).
   */
  weights?: Float32Array;
}

export interface FitResult {
  history: { loss: number; validationLoss: number }[];
  bestEpoch: number;
}

/** Gathers the listed rows into tensors [n, ...rowShape] and [n, ...labelShape] ([n, 1] for numbers). */
export function gather(tf: Tfjs, data: Examples, rows: ArrayLike<number>): [Tensor, Tensor] {
  const size = data.rowShape.reduce((a, b) => a * b, 1);
  const labelShape = data.labelShape?.length ? data.labelShape : [1];
  const labelSize = labelShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(rows.length * size);
  const y = new Float32Array(rows.length * labelSize);
  for (let i = 0; i < rows.length; i++) {
    x.set(data.x.subarray(rows[i] * size, (rows[i] + 1) * size), i * size);
    y.set(data.y.subarray(rows[i] * labelSize, (rows[i] + 1) * labelSize), i * labelSize);
  }
  return [tf.tensor(x, [rows.length, ...data.rowShape]), tf.tensor(y, [rows.length, ...labelShape])];
}

export const segmentationLosses = ['cross-entropy', 'dice', 'cross-entropy+dice'] as const;
export type SegmentationLoss = (typeof segmentationLosses)[number];

/** 1 − (2 Σ p·y + 1) / (Σ p + Σ y + 1): 0 for a perfect mask, near 1 for one disjoint from the truth. */
export const softDiceLoss = (tf: Tfjs, y: Tensor, p: Tensor) =>
  tf.tidy(() => tf.sub(1, tf.div(tf.add(tf.mul(2, tf.sum(tf.mul(p, y))), 1), tf.add(tf.add(tf.sum(p), tf.sum(y)), 1))));

/**
 * The loss a model is compiled with. Soft Dice over the whole
 * batch (Milletari et al. 2016), weighs a mask by its overlap, not by its pixel count: where lung is
 * 1 % of the pixels, cross-entropy alone is lowest for an empty mask and training stalls there.
 */
function lossOf(tf: Tfjs, o: FitOptions) {
  if (o.task !== 'binary-classification') return 'meanSquaredError';
  if (!o.loss || o.loss === 'cross-entropy') return 'binaryCrossentropy';
  const dice = (y: Tensor, p: Tensor) => softDiceLoss(tf, y, p);
  if (o.loss === 'dice') return dice;
  return (y: Tensor, p: Tensor) => tf.tidy(() => tf.add(tf.metrics.binaryCrossentropy(y, p).mean(), dice(y, p)));
}

/** Σ w (p − y)² / Σ w: the mean squared error over the values that count, as they count. */
export const weightedSquaredError = (tf: Tfjs, y: Tensor, p: Tensor, w: Tensor) =>
  tf.tidy(() => tf.div(tf.sum(tf.mul(w, tf.squaredDifference(p, y))), tf.maximum(tf.sum(w), 1e-12)));

/** The rows' target weights as a tensor of the targets' shape. */
function gatherWeights(tf: Tfjs, data: Examples, rows: ArrayLike<number>): Tensor {
  const labelShape = data.labelShape?.length ? data.labelShape : [1];
  const size = labelShape.reduce((a, b) => a * b, 1);
  const w = new Float32Array(rows.length * size);
  for (let i = 0; i < rows.length; i++) w.set(data.weights!.subarray(rows[i] * size, (rows[i] + 1) * size), i * size);
  return tf.tensor(w, [rows.length, ...labelShape]);
}

/**
 * One epoch of weighted regression, batch by batch in `order` (model.fit has no per-value
 * weights): the optimizer steps on each batch's weighted loss, batch normalisation in training
 * mode. Returns the epoch's loss, the batches' mean weighted by their rows.
 */
async function weightedEpoch(tf: Tfjs, model: LayersModel, data: Examples, order: Int32Array, batchSize: number): Promise<number> {
  let total = 0;
  for (let start = 0; start < order.length; start += batchSize) {
    const rows = order.subarray(start, start + batchSize);
    const [x, y] = gather(tf, data, rows);
    const w = gatherWeights(tf, data, rows);
    try {
      const loss = model.optimizer.minimize(() => weightedSquaredError(tf, y, model.apply(x, { training: true }) as Tensor, w) as Scalar, true)!;
      total += (await loss.data())[0] * rows.length;
      loss.dispose();
    } finally {
      tf.dispose([x, y, w]);
    }
  }
  return total / order.length;
}

/** The validation rows' loss: Keras's evaluate, or for weighted regression the weighted error over them all. */
async function validationLoss(tf: Tfjs, model: LayersModel, data: Examples, rows: Int32Array, x: Tensor, y: Tensor): Promise<number> {
  if (data.weights) {
    const p = model.predict(x, { batchSize: 64 }) as Tensor;
    const w = gatherWeights(tf, data, rows);
    const loss = weightedSquaredError(tf, y, p, w);
    const value = (await loss.data())[0];
    tf.dispose([p, w, loss]);
    return value;
  }
  const evaluated = model.evaluate(x, y, { batchSize: 4096 }) as Tensor;
  const value = (await evaluated.data())[0];
  evaluated.dispose();
  return value;
}

export async function fit(tf: Tfjs, model: LayersModel, data: Examples, train: Int32Array, validation: Int32Array, o: FitOptions): Promise<FitResult> {
  if (data.weights && o.task !== 'regression') throw new Error('weights on target values are for regression');
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: lossOf(tf, o) });
  const [xValidation, yValidation] = gather(tf, data, validation);
  const random = new Random(o.seed);
  const order = Int32Array.from(train);
  const history: FitResult['history'] = [];
  let best = { loss: Infinity, epoch: -1, weights: [] as Tensor[] };
  try {
    for (let epoch = 0; epoch < o.epochs && epoch - best.epoch <= o.patience; epoch++) {
      random.shuffle(order);
      const loss = data.weights ? await weightedEpoch(tf, model, data, order, o.batchSize) : await kerasEpoch(tf, model, data, order, o);
      const lossOnValidation = await validationLoss(tf, model, data, validation, xValidation, yValidation);
      history.push({ loss, validationLoss: lossOnValidation });
      o.onEpoch?.(epoch, loss, lossOnValidation);
      if (lossOnValidation < best.loss) {
        tf.dispose(best.weights);
        best = { loss: lossOnValidation, epoch, weights: model.getWeights().map((w) => w.clone()) };
      }
    }
    model.setWeights(best.weights);
    return { history, bestEpoch: best.epoch };
  } finally {
    tf.dispose([xValidation, yValidation, ...best.weights]);
  }
}

/** One epoch of model.fit over the rows in `order` (batches in that order); its loss. */
async function kerasEpoch(tf: Tfjs, model: LayersModel, data: Examples, order: Int32Array, o: FitOptions): Promise<number> {
  const [x, y] = gather(tf, data, order);
  try {
    const result = await model.fit(x, y, { epochs: 1, batchSize: o.batchSize, shuffle: false, verbose: 0, classWeight: o.classWeight });
    return result.history.loss[0] as number;
  } finally {
    tf.dispose([x, y]);
  }
}

/** Outputs of every row (`outputSize` values each), `batchSize` rows at a time, tensors freed as it goes. */
export async function predict(tf: Tfjs, model: LayersModel, x: Float32Array, rowShape: number[], batchSize: number, outputSize = 1): Promise<Float32Array> {
  const size = rowShape.reduce((a, b) => a * b, 1);
  const rows = x.length / size;
  const out = new Float32Array(rows * outputSize);
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start);
    const scores = tf.tidy(() => model.predict(tf.tensor(x.subarray(start * size, (start + n) * size), [n, ...rowShape])) as Tensor);
    out.set(await scores.data() as Float32Array, start * outputSize);
    scores.dispose();
  }
  return out;
}
