// Training the learned beamformer's network (lib/spectral-beamformer.ts) on simulated scenes with
// the SINR loss itself: the mean over a batch of 10·log10(optimum SINR / SINR of the network's
// weights), computed in the graph from each scene's terms p and K. Adam, batches from a seeded
// shuffle, initial weights from the seed (models/spec.ts); the weights with the lowest validation
// loss are kept, and training stops after `patience` epochs without a better one.
import type { LayersModel, Scalar, Tensor } from '@tensorflow/tfjs';
import type { Tfjs } from '../../../models/runtime.ts';
import { buildModel, type LayerSpec } from '../../../models/spec.ts';
import { Random } from '../../../numeric/random.ts';

/** Scenes as the loss needs them: features (n × F), p (n × M), K (n × M × M), optimum SINR (n). */
export interface SceneTensors {
  count: number;
  channels: number;
  features: Float32Array;
  p: Float32Array;
  k: Float32Array;
  optimum: Float32Array;
}

export interface TrainOptions {
  layers: LayerSpec[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  seed: number;
  onEpoch?: (epoch: number, loss: number, validationLoss: number) => void;
}

/** Mean SINR loss in dB of outputs `y` [n, M] for the scenes' terms. */
export function sinrLossDb(tf: Tfjs, y: Tensor, p: Tensor, k: Tensor, optimum: Tensor): Tensor {
  return tf.tidy(() => {
    // SINR does not change with a common factor on g: centring y keeps exp in range.
    const g = tf.exp(tf.sub(y, tf.mean(y, 1, true)));
    const gain = tf.square(tf.sum(tf.mul(g, p), 1));
    const power = tf.sum(tf.mul(g, tf.squeeze(tf.matMul(k, tf.expandDims(g, 2)), [2])), 1);
    return tf.mean(tf.mul(10 / Math.LN10, tf.sub(tf.log(optimum), tf.log(tf.div(gain, power)))));
  });
}

/** The listed scenes' rows as tensors: features, p, K, optimum. */
function take(tf: Tfjs, s: SceneTensors, rows: ArrayLike<number>): Tensor[] {
  const m = s.channels;
  const f = s.features.length / s.count;
  const pick = (from: Float32Array, size: number) => {
    const out = new Float32Array(rows.length * size);
    for (let i = 0; i < rows.length; i++) out.set(from.subarray(rows[i] * size, (rows[i] + 1) * size), i * size);
    return out;
  };
  return [tf.tensor2d(pick(s.features, f), [rows.length, f]), tf.tensor2d(pick(s.p, m), [rows.length, m]),
    tf.tensor3d(pick(s.k, m * m), [rows.length, m, m]), tf.tensor1d(pick(s.optimum, 1))];
}

/** Mean SINR loss (dB) of `model` over every scene of `s`, 2048 at a time. */
export function meanLossDb(tf: Tfjs, model: LayersModel, s: SceneTensors): number {
  let total = 0;
  for (let start = 0; start < s.count; start += 2048) {
    const rows = Array.from({ length: Math.min(2048, s.count - start) }, (_, i) => start + i);
    const [x, p, k, o] = take(tf, s, rows);
    const loss = tf.tidy(() => sinrLossDb(tf, model.predict(x) as Tensor, p, k, o));
    total += loss.dataSync()[0] * rows.length;
    tf.dispose([x, p, k, o, loss]);
  }
  return total / s.count;
}

export async function trainBeamformer(tf: Tfjs, train: SceneTensors, validation: SceneTensors, o: TrainOptions) {
  const m = train.channels;
  const model = buildModel(tf, o.layers, [train.features.length / train.count], 'regression', o.seed, { outputShape: [m] });
  const optimizer = tf.train.adam(o.learningRate);
  const random = new Random(o.seed);
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const history: { loss: number; validationLoss: number }[] = [];
  let best = { loss: Infinity, epoch: -1, weights: [] as Tensor[] };
  try {
    for (let epoch = 0; epoch < o.epochs && epoch - best.epoch <= o.patience; epoch++) {
      random.shuffle(order);
      let sum = 0;
      for (let start = 0; start < order.length; start += o.batchSize) {
        const rows = order.subarray(start, Math.min(order.length, start + o.batchSize));
        const [x, p, k, opt] = take(tf, train, rows);
        const loss = optimizer.minimize(() => sinrLossDb(tf, model.apply(x, { training: true }) as Tensor, p, k, opt) as Scalar, true);
        sum += loss!.dataSync()[0] * rows.length;
        tf.dispose([x, p, k, opt, loss!]);
      }
      const validationLoss = meanLossDb(tf, model, validation);
      history.push({ loss: sum / train.count, validationLoss });
      o.onEpoch?.(epoch, sum / train.count, validationLoss);
      if (validationLoss < best.loss) {
        tf.dispose(best.weights);
        best = { loss: validationLoss, epoch, weights: model.getWeights().map((w) => w.clone()) };
      }
    }
    model.setWeights(best.weights);
    return { model, history, bestEpoch: best.epoch };
  } finally {
    tf.dispose(best.weights);
    optimizer.dispose();
  }
}
