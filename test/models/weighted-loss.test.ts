// Weighted regression of image targets (model.train's `weight`): the loss Σ w (p − y)² / Σ w by
// hand, and a model trained on two-channel images whose targets are right only inside a mask
// (elsewhere a deliberately wrong 50): weighted, it learns the masked relation.
import { Field, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../src/arrow/batch.ts';
import { tensorData, tensorField } from '../../src/arrow/tensor.ts';
import { Random } from '../../src/numeric/random.ts';
import { weightedSquaredError } from '../../src/models/fit.ts';
import { modelRuntime } from '../../src/models/runtime.ts';
import { artifactFromRow } from '../../src/models/artifact-row.ts';
import { train } from '../../src/stages/model/train.ts';

const n = 8;
const rows = 160;
const schema = new Schema([tensorField('image', { shape: [n, n, 2], kind: 'float32' }), tensorField('target', { shape: [n, n], kind: 'float32' }),
  tensorField('mask', { shape: [n, n], kind: 'float32' }), new Field('split', new Utf8(), false)]);

function examples(): RecordBatch {
  const random = new Random(5);
  const image = new Float32Array(rows * n * n * 2);
  const target = new Float32Array(rows * n * n);
  const mask = new Float32Array(rows * n * n);
  for (let r = 0; r < rows; r++) {
    const [y0, x0] = [Math.floor(random.uniform() * 5), Math.floor(random.uniform() * 5)];
    for (let i = 0; i < n * n; i++) {
      const [y, x] = [Math.floor(i / n), i % n];
      const inside = y >= y0 && y < y0 + 3 && x >= x0 && x < x0 + 3 ? 1 : 0;
      const v = random.normal();
      image[2 * (r * n * n + i)] = v;
      image[2 * (r * n * n + i) + 1] = inside;
      mask[r * n * n + i] = inside;
      target[r * n * n + i] = inside ? 2 * v + 1 : 50;
    }
  }
  const split = Array.from({ length: rows }, (_, i) => (i < 120 ? 'train' : i < 140 ? 'validation' : 'test'));
  return makeBatch(schema, [tensorData(schema.fields[0], image, rows), tensorData(schema.fields[1], target, rows), tensorData(schema.fields[2], mask, rows), vectorFromArray(split, new Utf8()).data[0]], rows);
}

async function trained(extra: object) {
  const params = train.params.parse({ input: 'image', label: 'target', task: 'regression', epochs: 20, patience: 20, batch_size: 16, learning_rate: 0.01, seed: 3,
    layers: [{ type: 'conv2d', filters: 8, kernel: 1 }, { type: 'conv2d', filters: 8, kernel: 1 }], ...extra });
  const reducer = train.create(params, { inputSchemas: [schema], outputSchema: train.outputSchema({ params, inputs: [schema], baseDir: '.' }), baseDir: '.' });
  reducer.push(examples(), { input: 0, partition: { index: 0, key: '0' } });
  return artifactFromRow((await reducer.end!()) as RecordBatch, 0).card;
}

describe('weighted regression', { timeout: 120_000 }, () => {
  test('the loss by hand: (0² + 2²) / 2 over the two values of weight 1', async () => {
    const { tf } = await modelRuntime();
    const loss = weightedSquaredError(tf, tf.tensor([1, 2, 3, 4]), tf.tensor([1, 4, 3, 0]), tf.tensor([1, 1, 0, 0]));
    expect((await loss.data())[0]).toBeCloseTo(2, 6);
    loss.dispose();
  });

  test('weighted by the mask it learns y = 2v + 1 there (its test error weighted alike)', async () => {
    const weighted = await trained({ weight: 'mask' });
    const test = weighted.metrics.test as { mse: number };
    // The target inside the mask has variance 4; a pixel-wise linear map learns it to about 1 % of that.
    expect(test.mse).toBeLessThan(0.05);
    expect(weighted.params.weight).toBe('mask');
  });

  test('a weight column of another shape, or on a classifier, is refused', () => {
    const bad = new Schema([...schema.fields.slice(0, 2), tensorField('mask', { shape: [n, n, 2], kind: 'float32' }), schema.fields[3]]);
    expect(() => train.outputSchema({ params: train.params.parse({ input: 'image', label: 'target', task: 'regression', layers: [], weight: 'mask' }), inputs: [bad], baseDir: '.' })).toThrow(/not the label's 8 × 8/);
    expect(() => train.outputSchema({ params: train.params.parse({ input: 'image', label: 'target', layers: [], weight: 'mask' }), inputs: [schema], baseDir: '.' })).toThrow(/needs task regression/);
  });
});
