// `model.predict`: scores rows with a model artifact (a folder sink.model wrote). The artifact is
// loaded once per worker; rows go through in micro-batches, straight from the Arrow column's
// values into tensors and back, with every tensor freed. Adds `score`, and for a classifier with a
// calibrated threshold also `detected` (score > threshold); a model of tensor targets (an image)
// adds its output tensor column instead (`prediction`). The artifact's hash is part of the
// cache key, so retraining reruns what used the old model.
import { Bool, Field, Float32, makeData, Schema, Type, type Data, type RecordBatch } from 'apache-arrow';
import { resolve } from 'node:path';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorInfo } from '../../arrow/tensor.ts';
import { artifactHash, loadModel, readArtifactBytes, type ModelBytes, type ModelCard } from '../../models/artifact.ts';
import { predict as predictRows } from '../../models/fit.ts';
import { modelRuntime } from '../../models/runtime.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { ColumnTypeError, SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { featureRows } from '../../arrow/added-columns.ts';

const params = z.object({
  artifact: z.string().min(1).describe('the model folder (model.json, weights.bin, quiver-model.json), relative to the workflow folder'),
  batch_size: z.number().int().min(1).default(1024).describe('rows per call into the model'),
}).strict();

/** The input schema with `score` (and `detected` for a calibrated classifier), or the card's tensor output column, after checking it fits the card. */
export function scoredSchema(input: Schema, card: ModelCard): Schema {
  const field = requireColumn(input, card.input.column);
  const shape = field.type.typeId === Type.FixedSizeList ? tensorInfo(input, card.input.column).shape : [];
  if (JSON.stringify(shape) !== JSON.stringify(card.input.shape)) {
    throw new ColumnTypeError(card.input.column, `shape ${JSON.stringify(card.input.shape)} (what the model was trained on)`, `shape ${JSON.stringify(shape)}`);
  }
  if (card.output.shape?.length) {
    if (input.fields.some((f) => f.name === card.output.column)) throw new SchemaError(`the input already has a column '${card.output.column}'`);
    return new Schema([...input.fields, tensorField(card.output.column, { shape: card.output.shape, kind: 'float32' })], input.metadata);
  }
  for (const name of ['score', 'detected']) if (input.fields.some((f) => f.name === name)) throw new SchemaError(`the input already has a column '${name}'`);
  return new Schema([...input.fields, new Field('score', new Float32(), false),
    ...(card.threshold ? [new Field('detected', new Bool(), false)] : [])], input.metadata);
}

/** Loads a model and returns the function that scores a batch with it (`decide`: add `detected` too). */
export async function scorer(bytes: ModelBytes, outputSchema: Schema, batchSize: number, decide = bytes.card.threshold !== undefined) {
  const { card } = bytes;
  const { tf } = await modelRuntime();
  const model = await loadModel(tf, bytes);
  const rowShape = card.input.shape.length === 0 ? [1] : card.input.shape;
  const size = rowShape.reduce((a, b) => a * b, 1);
  const { mean, std } = card.normalisation;
  return async (batch: RecordBatch) => {
    const raw = featureRows(batch, card.input.column).x;
    const x = new Float32Array(batch.numRows * size);
    for (let i = 0; i < x.length; i++) x[i] = (raw[i] - mean) / std;
    const outputSize = card.output.shape?.length ? card.output.shape.reduce((a, b) => a * b, 1) : 1;
    const scores = await predictRows(tf, model, x, rowShape, batchSize, outputSize);
    if (card.normalisation.labelScale !== undefined) for (let i = 0; i < scores.length; i++) scores[i] *= card.normalisation.labelScale;
    const rows = batch.numRows;
    if (card.output.shape?.length) {
      return makeBatch(outputSchema, [...batch.data.children, tensorData(outputSchema.fields[outputSchema.fields.length - 1], scores, rows)], rows);
    }
    const extra: Data[] = [makeData({ type: new Float32(), length: rows, nullCount: 0, data: scores })];
    if (decide && card.threshold) {
      const bits = new Uint8Array(Math.ceil(rows / 8));
      scores.forEach((s, i) => {
        if (s > card.threshold!.value) bits[i >> 3] |= 1 << (i & 7);
      });
      extra.push(makeData({ type: new Bool(), length: rows, nullCount: 0, data: bits }));
    }
    return makeBatch(outputSchema, [...batch.data.children, ...extra], rows);
  };
}

export const predict = defineMap({
  name: 'model.predict',
  kind: 'model',
  version: '1',
  description: "Scores rows with a trained model artifact (micro-batched, tensors freed); adds 'score', and 'detected' for a calibrated classifier.",
  params,
  reads: (p) => [p.artifact],
  fingerprint: (p, { baseDir }) => artifactHash(resolve(baseDir, p.artifact)),
  outputSchema({ params: p, inputs: [input], baseDir }) {
    return scoredSchema(input, readArtifactBytes(resolve(baseDir, p.artifact)).card);
  },
  async create(p, { outputSchema, baseDir }) {
    const score = await scorer(readArtifactBytes(resolve(baseDir, p.artifact)), outputSchema, p.batch_size);
    return (batch) => score(batch);
  },
});
