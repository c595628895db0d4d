// `astro.calibrate`: raw frames to calibrated ones with the masters astro.combine made:
//   calibrated = (raw − bias − dark × EXPTIME) / flat
// `from: [frames, ...masters]`, the masters in the order `masters` names them (any of bias, dark,
// flat; the dark a per-second master). Masters are read first; each frame keeps its other columns.
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { newFloatArray, tensorData, tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';

const params = z.object({
  masters: z.array(z.enum(['bias', 'dark', 'flat'])).min(1).refine((m) => new Set(m).size === m.length, { message: 'names each master once' })
    .describe('what the second, third, … inputs are'),
  exposure_keyword: z.string().min(1).default('EXPTIME'),
}).strict();

export const calibrate = defineReduce({
  name: 'astro.calibrate',
  kind: 'reduce',
  version: '1',
  description: 'Calibrates frames with master bias, dark (per second) and flat: (raw − bias − dark × exposure) / flat.',
  params,
  inputs: { min: 2, max: 4 },
  outputSchema({ params: p, inputs: [frames, ...masters] }) {
    if (masters.length !== p.masters.length) throw new SchemaError(`'masters' names ${p.masters.length} masters but 'from' gives ${masters.length} after the frames`);
    const { shape } = tensorInfo(frames, 'data');
    masters.forEach((m, i) => {
      const s = tensorInfo(m, 'data').shape;
      if (JSON.stringify(s) !== JSON.stringify(shape)) throw new SchemaError(`the ${p.masters[i]} master is ${s.join('×')}, the frames ${shape.join('×')}`);
    });
    if (p.masters.includes('dark')) requireColumn(frames, 'header');
    return frames;
  },
  scope: () => 'partition',
  buildInputs: (p) => p.masters.map((_, i) => i + 1),
  create(p, { inputSchemas: [frames], outputSchema }) {
    const { shape, kind } = tensorInfo(frames, 'data');
    const size = shape.reduce((a, b) => a * b, 1);
    const master = new Map<string, Float32Array | Float64Array>();
    const dataIndex = frames.fields.findIndex((f) => f.name === 'data');
    return {
      push(batch, at) {
        if (at.input > 0) {
          if (batch.numRows > 0) master.set(p.masters[at.input - 1], tensorValues(batch, 'data').subarray(0, size));
          return null;
        }
        for (const name of p.masters) if (!master.has(name)) throw new Error(`the ${name} master input held no frame`);
        const raw = tensorValues(batch, 'data');
        const out = newFloatArray(kind, batch.numRows * size);
        const bias = master.get('bias');
        const dark = master.get('dark');
        const flat = master.get('flat');
        for (let r = 0; r < batch.numRows; r++) {
          let seconds = 0;
          if (dark) {
            seconds = Number((JSON.parse(String(batch.getChild('header')!.get(r))) as Record<string, unknown>)[p.exposure_keyword]);
            if (!(seconds >= 0)) throw new Error(`row ${r}: its header has no ${p.exposure_keyword} to scale the dark by`);
          }
          for (let i = 0; i < size; i++) {
            let v = raw[r * size + i];
            if (bias) v -= bias[i];
            if (dark) v -= dark[i] * seconds;
            if (flat) v /= flat[i];
            out[r * size + i] = v;
          }
        }
        const children = batch.data.children.slice();
        children[dataIndex] = tensorData(outputSchema.fields[dataIndex], out, batch.numRows);
        return makeBatch(outputSchema, children, batch.numRows);
      },
    };
  },
});
