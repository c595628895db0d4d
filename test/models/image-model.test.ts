// Models whose target is an image: model.train learns a 3 × 3 blur pixel by pixel (a linear map that
// 3 × 3 ReLU filters and a per-pixel dense unit can hold: k⋆x = relu(k⋆x) − relu(−k⋆x)), repeatably; model.apply gives a 'prediction' tensor column; the
// shapes are checked at every step.
import { Field, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../src/arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../src/arrow/tensor.ts';
import { Random } from '../../src/numeric/random.ts';
import { apply } from '../../src/stages/model/apply.ts';
import { artifactFromRow } from '../../src/models/artifact-row.ts';
import { train } from '../../src/stages/model/train.ts';

const n = 8;
const rows = 300;
const schema = new Schema([
  tensorField('image', { shape: [n, n], kind: 'float32' }), tensorField('blurred', { shape: [n, n], kind: 'float32' }), new Field('split', new Utf8(), false),
]);

function examples(): RecordBatch {
  const random = new Random(12);
  const image = Float32Array.from({ length: rows * n * n }, () => random.normal());
  const blurred = new Float32Array(rows * n * n);
  for (let r = 0; r < rows; r++) for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    let sum = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      if (y + dy >= 0 && y + dy < n && x + dx >= 0 && x + dx < n) sum += image[r * n * n + (y + dy) * n + x + dx];
    }
    blurred[r * n * n + y * n + x] = sum / 9;
  }
  const split = Array.from({ length: rows }, (_, i) => (i < 200 ? 'train' : i < 250 ? 'validation' : 'test'));
  return makeBatch(schema, [tensorData(schema.fields[0], image, rows), tensorData(schema.fields[1], blurred, rows), vectorFromArray(split, new Utf8()).data[0]], rows);
}

async function trained(batch: RecordBatch, seed: number, extra: object = {}) {
  const params = train.params.parse({ input: 'image', label: 'blurred', task: 'regression', epochs: 60, patience: 10, batch_size: 32, learning_rate: 0.02, seed,
    layers: [{ type: 'conv2d', filters: 4, kernel: 3, activation: 'relu' }], ...extra });
  const outputSchema = train.outputSchema({ params, inputs: [schema], baseDir: '.' });
  const reducer = train.create(params, { inputSchemas: [schema], outputSchema, baseDir: '.' });
  reducer.push(batch, { input: 0, partition: { index: 0, key: '0' } });
  return (await reducer.end!()) as RecordBatch;
}

describe('models with image targets', () => {
  test('learn a blur: test error far below the targets\' variance; the same seed the same weights; apply gives the images', async () => {
    const batch = examples();
    const row = await trained(batch, 3);
    const model = artifactFromRow(row, 0);
    expect(model.card.output).toEqual({ column: 'prediction', shape: [n, n] });
    const variance = [...tensorValues(batch, 'blurred')].reduce((a, v) => a + v * v, 0) / (rows * n * n);
    const mse = (model.card.metrics.test as { mse: number }).mse;
    expect(mse).toBeLessThan(0.05 * variance);
    expect(Buffer.from(artifactFromRow(await trained(batch, 3), 0).weights).equals(Buffer.from(model.weights))).toBe(true);

    const params = apply.params.parse({ output_shape: [n, n] });
    const outputSchema = apply.outputSchema({ params, inputs: [row.schema, schema], baseDir: '.' });
    const reducer = apply.create(params, { inputSchemas: [row.schema, schema], outputSchema, baseDir: '.' });
    await reducer.push(row, { input: 0, partition: { index: 0, key: 'm' } });
    const scored = (await reducer.push(batch, { input: 1, partition: { index: 0, key: 'd' } })) as RecordBatch;
    const predicted = tensorValues(scored, 'prediction');
    const target = tensorValues(batch, 'blurred');
    let se = 0;
    for (let i = 250 * n * n; i < rows * n * n; i++) se += (predicted[i] - target[i]) ** 2;
    expect(se / (50 * n * n)).toBeCloseTo(mse, 5); // the same test rows, the same error

    const wrong = apply.create(apply.params.parse({}), { inputSchemas: [row.schema, schema], outputSchema: apply.outputSchema({ params: apply.params.parse({}), inputs: [row.schema, schema], baseDir: '.' }), baseDir: '.' });
    await wrong.push(row, { input: 0, partition: { index: 0, key: 'm' } });
    await expect(async () => wrong.push(batch, { input: 1, partition: { index: 0, key: 'd' } })).rejects.toThrow("the model's targets are 8 × 8 tensors: give output_shape: [8, 8]");
  });

  test('label_scale: a blur in the thousands trains as one near 1; the card keeps the scale and apply answers in the labels\' units', async () => {
    const batch = examples();
    const large = makeBatch(schema, [batch.data.children[0], tensorData(schema.fields[1], tensorValues(batch, 'blurred').map((v) => 1000 * v), rows), batch.data.children[2]], rows);
    const row = await trained(large, 3, { label_scale: 1000 });
    const model = artifactFromRow(row, 0);
    expect(model.card.normalisation.labelScale).toBe(1000);
    const target = tensorValues(large, 'blurred');
    const variance = [...target].reduce((a, v) => a + v * v, 0) / (rows * n * n);
    const mse = (model.card.metrics.test as { mse: number }).mse;
    expect(mse).toBeLessThan(0.05 * variance); // in gauss-like units: the test error is measured after scaling back
    const params = apply.params.parse({ output_shape: [n, n] });
    const reducer = apply.create(params, { inputSchemas: [row.schema, schema], outputSchema: apply.outputSchema({ params, inputs: [row.schema, schema], baseDir: '.' }), baseDir: '.' });
    await reducer.push(row, { input: 0, partition: { index: 0, key: 'm' } });
    const predicted = tensorValues((await reducer.push(large, { input: 1, partition: { index: 0, key: 'd' } })) as RecordBatch, 'prediction');
    let se = 0;
    for (let i = 250 * n * n; i < rows * n * n; i++) se += (predicted[i] - target[i]) ** 2;
    expect(se / (50 * n * n) / mse).toBeCloseTo(1, 4);
  });

  test('layers that do not end at the target\'s size, or a linear convolution on wasm, are refused, saying why', async () => {
    const params = train.params.parse({ input: 'image', label: 'blurred', task: 'regression', epochs: 1, layers: [{ type: 'maxpool2d', size: 2 }] });
    const outputSchema = train.outputSchema({ params, inputs: [schema], baseDir: '.' });
    const reducer = train.create(params, { inputSchemas: [schema], outputSchema, baseDir: '.' });
    reducer.push(examples(), { input: 0, partition: { index: 0, key: '0' } });
    await expect(async () => reducer.end!()).rejects.toThrow('an image target of 8 × 8 needs convolution layers');
    const linear = train.params.parse({ input: 'image', label: 'blurred', task: 'regression', epochs: 1, layers: [{ type: 'conv2d', filters: 1, kernel: 3, activation: 'linear' }] });
    const again = train.create(linear, { inputSchemas: [schema], outputSchema, baseDir: '.' });
    again.push(examples(), { input: 0, partition: { index: 0, key: '0' } });
    await expect(async () => again.end!()).rejects.toThrow('layer 1: on the wasm backend a conv2d layer trains only with a non-linear activation');
  });

  test('a ReLU-then-tanh output (deepDeconv\'s) learns a rectified blur inside [0, 1); labels outside its range and a dead output are refused', async () => {
    const batch = examples();
    const blurred = tensorValues(batch, 'blurred');
    // max(0, blur) / 2: ReLU can hold the rectification, tanh is near linear over [0, 0.6].
    const rectified = makeBatch(schema, [batch.data.children[0], tensorData(schema.fields[1], Float32Array.from(blurred, (v) => Math.max(0, v) / 2), rows), batch.data.children[2]], rows);
    const row = await trained(rectified, 1, { output_activation: 'relu-tanh', learning_rate: 0.005 });
    const model = artifactFromRow(row, 0);
    const labels = [...tensorValues(rectified, 'blurred')];
    const mean = labels.reduce((a, b) => a + b, 0) / labels.length;
    const variance = labels.reduce((a, v) => a + (v - mean) ** 2, 0) / labels.length;
    expect((model.card.metrics.test as { mse: number }).mse).toBeLessThan(0.1 * variance);
    const params = apply.params.parse({ output_shape: [n, n] });
    const reducer = apply.create(params, { inputSchemas: [row.schema, schema], outputSchema: apply.outputSchema({ params, inputs: [row.schema, schema], baseDir: '.' }), baseDir: '.' });
    await reducer.push(row, { input: 0, partition: { index: 0, key: 'm' } });
    const predicted = tensorValues((await reducer.push(rectified, { input: 1, partition: { index: 0, key: 'd' } })) as RecordBatch, 'prediction');
    expect(Math.min(...predicted)).toBe(0); // ReLU's floor, reached exactly
    expect(Math.max(...predicted)).toBeLessThan(1);

    // The hazard of a ReLU output: pushed below 0 on every pixel (here by a learning rate too high), no gradient brings it back.
    await expect(trained(rectified, 2, { output_activation: 'relu-tanh', learning_rate: 1 })).rejects.toThrow('the output ReLU is dead');

    const outside = makeBatch(schema, [batch.data.children[0], tensorData(schema.fields[1], Float32Array.from(blurred, (v) => v + 1.5), rows), batch.data.children[2]], rows);
    await expect(trained(outside, 3, { output_activation: 'relu-tanh', epochs: 1 })).rejects.toThrow("output_activation relu-tanh gives values in [0, 1], but label 'blurred' holds");
  });
});
