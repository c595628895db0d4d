// The U-Net layer of the model runtime on a segmentation whose truth is known: noisy discs on a
// sloping background, each pixel inside a disc or not. Trained through model.train like any image
// target, its held-out Dice must be high; images that do not divide by 2^depth are refused.
import { Field, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../src/arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../src/arrow/tensor.ts';
import { Random } from '../../src/numeric/random.ts';
import { apply } from '../../src/stages/model/apply.ts';
import { artifactFromRow } from '../../src/models/artifact-row.ts';
import { modelRuntime } from '../../src/models/runtime.ts';
import { softDiceLoss } from '../../src/models/fit.ts';
import { buildModel } from '../../src/models/spec.ts';
import { train } from '../../src/stages/model/train.ts';

const n = 32;
const rows = 320;
const schema = new Schema([tensorField('image', { shape: [n, n], kind: 'float32' }), tensorField('mask', { shape: [n, n], kind: 'float32' }), new Field('split', new Utf8(), false)]);

function discs(): RecordBatch {
  const random = new Random(21);
  const image = new Float32Array(rows * n * n);
  const mask = new Float32Array(rows * n * n);
  for (let r = 0; r < rows; r++) {
    const count = 1 + Math.floor(random.uniform() * 2);
    const shapes = Array.from({ length: count }, () => ({ x: 6 + random.uniform() * 20, y: 6 + random.uniform() * 20, radius: 3 + random.uniform() * 4 }));
    const slope = random.normal() * 0.02;
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
      const inside = shapes.some((s) => Math.hypot(x - s.x, y - s.y) <= s.radius) ? 1 : 0;
      mask[r * n * n + y * n + x] = inside;
      image[r * n * n + y * n + x] = inside + slope * (x - 16) + 0.3 * random.normal();
    }
  }
  const split = Array.from({ length: rows }, (_, i) => (i < 240 ? 'train' : i < 280 ? 'validation' : 'test'));
  return makeBatch(schema, [tensorData(schema.fields[0], image, rows), tensorData(schema.fields[1], mask, rows), vectorFromArray(split, new Utf8()).data[0]], rows);
}

async function trainUnet(batch: RecordBatch, extra: object = {}) {
  const params = train.params.parse({ input: 'image', label: 'mask', task: 'binary-classification', epochs: 12, patience: 4, batch_size: 16, learning_rate: 0.01, seed: 2,
    layers: [{ type: 'unet', filters: 4, depth: 2 }], ...extra });
  const outputSchema = train.outputSchema({ params, inputs: [schema], baseDir: '.' });
  const reducer = train.create(params, { inputSchemas: [schema], outputSchema, baseDir: '.' });
  reducer.push(batch, { input: 0, partition: { index: 0, key: '0' } });
  return (await reducer.end!()) as RecordBatch;
}

describe('the U-Net layer', { timeout: 300_000 }, () => {
  test('segments noisy discs: held-out Dice above 0.95', async () => {
    const batch = discs();
    const row = await trainUnet(batch);
    const history = artifactFromRow(row, 0).card.metrics.history as { loss: number }[];
    expect(history.at(-1)!.loss).toBeLessThan(0.05);
    const params = apply.params.parse({ output_shape: [n, n] });
    const reducer = apply.create(params, { inputSchemas: [row.schema, schema], outputSchema: apply.outputSchema({ params, inputs: [row.schema, schema], baseDir: '.' }), baseDir: '.' });
    await reducer.push(row, { input: 0, partition: { index: 0, key: 'm' } });
    const predicted = tensorValues((await reducer.push(batch, { input: 1, partition: { index: 0, key: 'd' } })) as RecordBatch, 'prediction');
    const truth = tensorValues(batch, 'mask');
    let both = 0, a = 0, b = 0;
    for (let i = 280 * n * n; i < rows * n * n; i++) {
      const p = predicted[i] > 0.5 ? 1 : 0;
      both += p & truth[i];
      a += p;
      b += truth[i];
    }
    const dice = (2 * both) / (a + b);
    expect(dice).toBeGreaterThan(0.95);
  });

  test('images that do not divide by 2^depth, or a unet among other layers, are refused', async () => {
    await expect(trainUnet(discs(), { layers: [{ type: 'unet', filters: 2, depth: 3 }], epochs: 1 }).then(() => 'trained')).resolves.toBe('trained');
    const { tf } = await modelRuntime();
    expect(() => buildModel(tf, [{ type: 'unet', filters: 2, depth: 4 }], [24, 24], 'binary-classification', 0, { outputShape: [24, 24] }))
      .toThrow('a U-Net of depth 4 needs images whose sides divide by 16, not 24 × 24');
    await expect(trainUnet(discs(), { layers: [{ type: 'unet' }, { type: 'dropout', rate: 0.1 }], epochs: 1 })).rejects.toThrow('a unet layer stands alone');
  });

  test('soft Dice loss by closed form; a segmenter starts at its labels\' share of positives', async () => {
    const { tf } = await modelRuntime();
    const loss = (y: number[], p: number[]) => softDiceLoss(tf, tf.tensor(y), tf.tensor(p)).dataSync()[0];
    const mask = Array.from({ length: 200 }, (_, i) => (i < 100 ? 1 : 0));
    expect(loss(mask, mask)).toBeCloseTo(0, 6);
    expect(loss(mask, mask.map((v) => 1 - v))).toBeCloseTo(1 - 1 / 201, 6);
    expect(loss(mask, mask.map((_, i) => (i < 50 || i >= 150 ? 1 : 0)))).toBeCloseTo(1 - 101 / 201, 6);
    // A blank image meets zero-bias ReLU convolutions and fresh batch norms: the output is the bias alone.
    const share = 0.02;
    const model = buildModel(tf, [{ type: 'unet', filters: 2, depth: 1 }], [8, 8], 'binary-classification', 0, { outputShape: [8, 8], outputBias: Math.log(share / (1 - share)) });
    const out = tf.tidy(() => (model.predict(tf.zeros([1, 8, 8])) as import('@tensorflow/tfjs').Tensor).dataSync());
    for (const v of out) expect(v).toBeCloseTo(share, 6);
  });
});
