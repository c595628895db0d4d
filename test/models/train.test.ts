// model.train, sink.model and model.predict together on simulated radar patches: training twice
// with one seed gives the same weights bit for bit, the artifact written and read back scores the
// validation rows exactly as training calibrated them, its hash keys the stages that use it, and
// 10,000 prediction batches leave no tensor behind.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { modelSink } from '../../src/stages/model/model-sink.ts';
import { radarPatchesSource } from '../../src/stages/radar/radar-patches.ts';
import { artifactFromRow } from '../../src/models/artifact-row.ts';
import { predict } from '../../src/stages/model/predict.ts';
import { train } from '../../src/stages/model/train.ts';
import { modelRuntime } from '../../src/models/runtime.ts';
import { scratchDir } from '../helpers.ts';
import { readSource, writeSink } from '../connectors/stage-harness.ts';

const patches = {
  pulses: 16, samples: 256, sample_rate_hz: 1e6, pri_s: 1e-3, center_frequency_hz: 1e9, cpis: 24, seed: 3,
  snr_db: [10, 14], targets_per_cpi: 8, negatives_per_cpi: 120, split: { train: 0.5, validation: 0.5, test: 0 }, pfa: 0.05,
};
const spec = {
  input: 'patch', label: 'label', pfa: 0.05, epochs: 2, batch_size: 64,
  layers: [{ type: 'conv2d', filters: 4, kernel: 3 }, { type: 'flatten' }, { type: 'dense', units: 8 }],
};

async function patchBatches() {
  const { schema, partitions } = await readSource(radarPatchesSource, patches, '.');
  return { schema, batches: partitions.flatMap((p) => p.batches) };
}

async function trainOnce(seed: number, data: Awaited<ReturnType<typeof patchBatches>>, more: Record<string, unknown> = {}): Promise<RecordBatch> {
  const params = train.params.parse({ ...spec, seed, ...more });
  const outputSchema = train.outputSchema({ params, inputs: [data.schema], baseDir: '.' });
  const reducer = train.create(params, { inputSchemas: [data.schema], outputSchema, baseDir: '.' });
  data.batches.forEach((b, index) => reducer.push(b, { input: 0, partition: { index, key: String(index) } }));
  return (await reducer.end!()) as RecordBatch;
}

describe('model.train → sink.model → model.predict', () => {
  test('the same seed trains the same weights; another seed does not', async () => {
    const data = await patchBatches();
    const a = artifactFromRow(await trainOnce(5, data), 0);
    const b = artifactFromRow(await trainOnce(5, data), 0);
    const c = artifactFromRow(await trainOnce(6, data), 0);
    expect(Buffer.from(a.weights).equals(Buffer.from(b.weights))).toBe(true);
    expect(Buffer.from(a.weights).equals(Buffer.from(c.weights))).toBe(false);
    expect(a.card.trainingData.sha256).toBe(b.card.trainingData.sha256);
    expect(a.card.versions.backend).toBe('wasm');
    expect(a.card.threshold!.validationNegatives).toBe(12 * 120);
  });

  test('reuse: a model already trained on the same rows with the same params is emitted as it is; other params train anew', async () => {
    const data = await patchBatches();
    const dir = scratchDir();
    const reuse = join(dir, 'cnn');
    expect(train.fingerprint!(train.params.parse({ ...spec, reuse }), { baseDir: '.' })).toBe('none');
    const row = await trainOnce(5, data, { reuse });
    await writeSink(modelSink, { path: 'cnn/' }, row.schema, [[row]], dir, 'x');
    const written = artifactFromRow(row, 0);
    expect(written.card.params).not.toHaveProperty('reuse');
    expect(train.fingerprint!(train.params.parse({ ...spec, reuse }), { baseDir: '.' })).toMatch(/^[0-9a-f]{64}$/);

    // Marked, so that emitting the folder rather than training again shows.
    const marked = { ...written.card, metrics: { ...written.card.metrics, marker: 'from the folder' } };
    writeFileSync(join(reuse, 'quiver-model.json'), JSON.stringify(marked));
    const reused = artifactFromRow(await trainOnce(5, data, { reuse }), 0);
    expect(reused.card.metrics.marker).toBe('from the folder');
    expect(Buffer.from(reused.weights).equals(Buffer.from(written.weights))).toBe(true);
    const retrained = artifactFromRow(await trainOnce(5, data, { reuse, epochs: 1 }), 0);
    expect(retrained.card.metrics.marker).toBeUndefined();
    expect(retrained.card.params.epochs).toBe(1);
  });

  test('reuse as a list: the first folder holding a model of the same rows and params wins; missing ones are passed over', async () => {
    const data = await patchBatches();
    const dir = scratchDir();
    const row = await trainOnce(5, data);
    await writeSink(modelSink, { path: 'committed/' }, row.schema, [[row]], dir, 'x');
    const committed = join(dir, 'committed');
    const card = JSON.parse(readFileSync(join(committed, 'quiver-model.json'), 'utf8'));
    writeFileSync(join(committed, 'quiver-model.json'), JSON.stringify({ ...card, metrics: { ...card.metrics, marker: 'committed' } }));
    const reuse = [join(dir, 'own'), committed];
    const fingerprint = train.fingerprint!(train.params.parse({ ...spec, reuse }), { baseDir: '.' });
    expect(fingerprint).toMatch(/^none,[0-9a-f]{64}$/); // a model appearing in either folder changes the task's key
    expect(artifactFromRow(await trainOnce(5, data, { reuse }), 0).card.metrics.marker).toBe('committed');
    // The folder's own model, once there, comes first.
    await writeSink(modelSink, { path: 'own/' }, row.schema, [[row]], dir, 'x');
    writeFileSync(join(dir, 'own', 'quiver-model.json'), JSON.stringify({ ...card, metrics: { ...card.metrics, marker: 'own' } }));
    expect(artifactFromRow(await trainOnce(5, data, { reuse }), 0).card.metrics.marker).toBe('own');
    expect(artifactFromRow(await trainOnce(5, data, { reuse, epochs: 1 }), 0).card.metrics.marker).toBeUndefined();
  });

  test('written and read back, the model flags exactly the validation negatives training counted above its threshold (and its calibration\'s)', async () => {
    const data = await patchBatches();
    const row = await trainOnce(5, data, { calibrate: [0.2] });
    const calibrated = artifactFromRow(row, 0).card.calibration!;
    expect(calibrated.map((c) => c.pfa)).toEqual([0.2]);
    const dir = scratchDir();
    await writeSink(modelSink, { path: 'cnn/' }, row.schema, [[row]], dir, 'x');
    const artifact = join(dir, 'cnn');
    const params = predict.params.parse({ artifact, batch_size: 100 });
    const outputSchema = predict.outputSchema({ params, inputs: [data.schema], baseDir: dir });
    const score = await predict.create(params, { inputSchema: data.schema, outputSchema, baseDir: dir });
    let negatives = 0;
    let flagged = 0;
    let above = 0;
    for (const [index, batch] of data.batches.entries()) {
      const out = (await score(batch, { index, key: String(index) }))!;
      for (let i = 0; i < out.numRows; i++) {
        if (out.getChild('split')!.get(i) !== 'validation' || out.getChild('label')!.get(i) !== 0) continue;
        negatives++;
        if (out.getChild('detected')!.get(i)) flagged++;
        if (out.getChild('score')!.get(i) > calibrated[0].value) above++;
      }
    }
    expect(negatives).toBe(12 * 120);
    expect(flagged).toBe(Math.floor(0.05 * negatives)); // the threshold is the score just below that many
    expect(above).toBe(Math.floor(0.2 * negatives));

    // The artifact's hash is what keys the stages that use it: other weights, another key.
    const before = predict.fingerprint!(params, { baseDir: dir });
    const weights = readFileSync(join(artifact, 'weights.bin'));
    weights[0] ^= 1;
    writeFileSync(join(artifact, 'weights.bin'), weights);
    expect(predict.fingerprint!(params, { baseDir: dir })).not.toBe(before);
  });

  test('10,000 prediction batches leave no tensors behind', async () => {
    const data = await patchBatches();
    const row = await trainOnce(5, data);
    const dir = scratchDir();
    await writeSink(modelSink, { path: 'cnn/' }, row.schema, [[row]], dir, 'x');
    const params = predict.params.parse({ artifact: join(dir, 'cnn'), batch_size: 1 });
    const outputSchema = predict.outputSchema({ params, inputs: [data.schema], baseDir: dir });
    const score = await predict.create(params, { inputSchema: data.schema, outputSchema, baseDir: dir });
    const one = data.batches[0].slice(0, 2); // two rows, batch_size 1: two model calls per batch
    const { tf } = await modelRuntime();
    await score(one, { index: 0, key: '0' });
    const before = tf.memory();
    for (let i = 0; i < 5_000; i++) await score(one, { index: 0, key: '0' });
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });
});
