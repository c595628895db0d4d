// `model.features`: number columns packed into one float32 tensor column (one value per column, in
// the order given), the input a model takes. A row with a null or non-finite value is refused, by
// row and column: a model cannot be trained on, or score, a value that is not there.
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField } from '../../arrow/tensor.ts';
import { defineMap } from '../../workflow/stage.ts';
import { numbers, requireNumbers, withColumns } from '../../arrow/added-columns.ts';

const params = z.object({
  columns: z.array(z.string().min(1)).min(1),
  name: z.string().min(1).default('features'),
}).strict();

export const features = defineMap({
  name: 'model.features',
  kind: 'map',
  version: '1',
  description: 'Packs number columns into one float32 tensor column (the input of model.train / model.apply).',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireNumbers(input, p.columns);
    return withColumns(input, [tensorField(p.name, { shape: [p.columns.length], dimNames: ['feature'], kind: 'float32' })]);
  },
  create(p, { outputSchema }) {
    return (batch) => {
      const columns = p.columns.map((c) => numbers(batch, c));
      const values = new Float32Array(batch.numRows * p.columns.length);
      for (let r = 0; r < batch.numRows; r++) {
        columns.forEach((v, c) => {
          if (!Number.isFinite(v[r])) throw new Error(`row ${r}: '${p.columns[c]}' is ${Number.isNaN(v[r]) ? 'null' : v[r]}; every feature needs a number`);
          values[r * p.columns.length + c] = v[r];
        });
      }
      return makeBatch(outputSchema, [...batch.data.children, tensorData(outputSchema.fields[outputSchema.fields.length - 1], values, batch.numRows)], batch.numRows);
    };
  },
});
