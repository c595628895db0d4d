// `model.apply`: scores rows with a model trained earlier in the same workflow: `from: [model,
// data]`, where `model` is the row `model.train` emits. (A model saved as a folder is scored in
// worker threads by `model.predict`; this stage runs on the main thread, after the model exists.)
// Adds `score` (or, with `output_shape`, the tensor column `prediction` of an image model); the
// card's input column and shapes are checked when the model arrives.
import { Field, Float32, Schema, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { tensorField } from '../../arrow/tensor.ts';
import { sameType } from '../../arrow/types.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { artifactFromRow, artifactSchema } from '../../models/artifact-row.ts';
import { scoredSchema, scorer } from './predict.ts';

const params = z.object({
  batch_size: z.number().int().min(1).default(1024),
  output_shape: z.array(z.number().int().min(1)).min(1).optional()
    .describe("for a model of tensor targets (an image): their shape; the output is then a tensor column 'prediction'"),
}).strict();

export const apply = defineReduce({
  name: 'model.apply',
  kind: 'reduce',
  version: '1',
  description: "Scores the second input with the model the first input holds (model.train's row); adds 'score'.",
  params,
  inputs: { min: 2, max: 2 },
  outputSchema({ params: p, inputs: [model, data] }) {
    if (!artifactSchema.fields.every((f) => model.fields.some((g) => g.name === f.name && sameType(g.type, f.type)))) {
      throw new SchemaError("the first input must be a model (what model.train emits), the second the rows to score");
    }
    const column = p.output_shape ? 'prediction' : 'score';
    if (data.fields.some((f) => f.name === column)) throw new SchemaError(`the input already has a column '${column}'`);
    const field = p.output_shape ? tensorField(column, { shape: p.output_shape, kind: 'float32' }) : new Field(column, new Float32(), false);
    return new Schema([...data.fields, field], data.metadata);
  },
  scope: () => 'partition',
  buildInputs: () => [0],
  create(p, { inputSchemas: [, data], outputSchema }) {
    let score: ((batch: RecordBatch) => Promise<RecordBatch>) | undefined;
    let bytes: ReturnType<typeof artifactFromRow> | undefined;
    return {
      async push(batch, at) {
        if (at.input === 0) {
          if (batch.numRows > 0) bytes = artifactFromRow(batch, batch.numRows - 1);
          return null;
        }
        if (!bytes) throw new Error('the model input held no model');
        if (!score) {
          scoredSchema(data, bytes.card); // the card's input column and shape must be there
          const shape = bytes.card.output.shape ?? [];
          if (JSON.stringify(shape) !== JSON.stringify(p.output_shape ?? [])) {
            throw new Error(p.output_shape ? `the model's targets are ${shape.length ? shape.join(' × ') : 'numbers'}, not output_shape ${p.output_shape.join(' × ')}`
              : `the model's targets are ${shape.join(' × ')} tensors: give output_shape: [${shape.join(', ')}]`);
          }
          score = await scorer(bytes, outputSchema, p.batch_size, false);
        }
        return score(batch);
      },
    };
  },
});
