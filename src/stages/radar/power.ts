// `radar.power`: the mean power of each row's complex samples, E|x|² over every pulse and range
// sample, as `power` and `power_db` (10·log10). On channel rows it is the power an element
// receives, on beam rows what the beam lets through: how much a beamformer suppresses jamming.
import { Field, Float64, makeData, Schema, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorValues } from '../../arrow/tensor.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { cubeShape } from './lib/cube.ts';

export const power = defineMap({
  name: 'radar.power',
  kind: 'map',
  version: '1',
  description: 'Mean power of each row\'s complex samples (every pulse and range sample): adds power and power_db.',
  params: z.object({}).strict(),
  outputSchema({ inputs: [input] }) {
    cubeShape(input);
    for (const name of ['power', 'power_db']) if (input.fields.some((f) => f.name === name)) throw new SchemaError(`the input already has a column '${name}'`);
    return new Schema([...input.fields, new Field('power', new Float64(), false), new Field('power_db', new Float64(), false)], input.metadata);
  },
  create(_p, { inputSchema, outputSchema }) {
    const { pulses, samples } = cubeShape(inputSchema);
    const size = pulses * samples * 2;
    return (batch: RecordBatch) => {
      const x = tensorValues(batch, 'data');
      const mean = new Float64Array(batch.numRows);
      for (let row = 0; row < batch.numRows; row++) {
        let sum = 0;
        for (let i = row * size; i < (row + 1) * size; i++) sum += x[i] * x[i];
        mean[row] = sum / (pulses * samples);
      }
      const column = (values: Float64Array) => makeData({ type: new Float64(), length: batch.numRows, nullCount: 0, data: values });
      return makeBatch(outputSchema, [...batch.data.children, column(mean), column(mean.map((v) => 10 * Math.log10(v)))], batch.numRows);
    };
  },
});
