// `model.apply`: scores rows with a model trained earlier in the same workflow: `from: [model,
// data]`, where `model` is the row `model.train` emits. (A model saved as a folder is scored in
// worker threads by `model.predict`; this stage runs on the main thread, after the model exists.)
// Adds `score`; the card's input column and shape are checked when the model arrives.
import { Field, Float32, Schema, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { sameType } from '../../arrow/types.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { artifactFromRow, artifactSchema } from './artifact-row.ts';
import { scoredSchema, scorer } from './predict.ts';

const params = z.object({
  batch_size: z.number().int().min(1).default(1024),
}).strict();

export const apply = defineReduce({
  name: 'model.apply',
  kind: 'reduce',
  version: '1',
  description: "Scores the second input with the model the first input holds (model.train's row); adds 'score'.",
  params,
  inputs: { min: 2, max: 2 },
  outputSchema({ inputs: [model, data] }) {
    if (!artifactSchema.fields.every((f) => model.fields.some((g) => g.name === f.name && sameType(g.type, f.type)))) {
      throw new SchemaError("the first input must be a model (what model.train emits), the second the rows to score");
    }
    if (data.fields.some((f) => f.name === 'score')) throw new SchemaError("the input already has a column 'score'");
    return new Schema([...data.fields, new Field('score', new Float32(), false)], data.metadata);
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
          score = await scorer(bytes, outputSchema, p.batch_size, false);
        }
        return score(batch);
      },
    };
  },
});
