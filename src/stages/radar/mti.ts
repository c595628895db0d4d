// `radar.mti`: moving-target indication by a 2- or 3-pulse canceller across pulses, per range
// sample: y[p] = x[p+1] - x[p], or x[p+2] - 2 x[p+1] + x[p]. Returns at zero Doppler (stationary
// clutter) cancel; the output has `pulses - order + 1` pulses. The weights are scaled to unit
// energy (by 1/√2 or 1/√6), so white noise keeps its power.
import { z } from 'zod';
import { tensorField } from '../../arrow/tensor.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { cubeShape, mapRows, replaceField } from './lib/cube.ts';

const params = z.object({
  order: z.union([z.literal(2), z.literal(3)]).default(2).describe('pulses per canceller: 2 (first difference) or 3 (second difference)'),
}).strict();

const weights = { 2: [-1, 1], 3: [1, -2, 1] } as const;

export const mti = defineMap({
  name: 'radar.mti',
  kind: 'map',
  version: '1',
  description: 'Two- or three-pulse MTI canceller across pulses (unit-energy weights); removes zero-Doppler clutter.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const { pulses, samples, kind } = cubeShape(input);
    if (pulses < p.order) throw new SchemaError(`a ${p.order}-pulse canceller needs at least ${p.order} pulses, the CPI has ${pulses}`);
    return replaceField(input, 'data', tensorField('data', { shape: [pulses - p.order + 1, samples, 2], dimNames: ['pulse', 'sample', 'iq'], kind }));
  },
  create(p, { inputSchema, outputSchema }) {
    const { pulses, samples } = cubeShape(inputSchema);
    const norm = Math.hypot(...weights[p.order]);
    const w = weights[p.order].map((x) => x / norm);
    const outPulses = pulses - p.order + 1;
    const stride = samples * 2;
    return (batch) => mapRows(batch, outputSchema, outPulses * stride, (_row, input, output) => {
      for (let q = 0; q < outPulses; q++) {
        for (let i = 0; i < stride; i++) {
          let sum = 0;
          for (let k = 0; k < w.length; k++) sum += w[k] * input[(q + k) * stride + i];
          output[q * stride + i] = sum;
        }
      }
    });
  },
});
