// `astro.combine`: a master calibration frame from many (bias, dark or flat): per pixel, the
// values of all frames sigma-clipped about their median (so a cosmic ray or a satellite trail in
// one frame does not reach the master) and their median kept. `normalise: median` first divides
// each frame by its own median (flats taken at different lamp levels) and leaves the master with
// median 1; `per_second` divides each frame by its exposure (the header's EXPTIME) for a dark
// current master. Emits one row: `data`, `frames`, `header` (the first frame's).
import { Field, Int32, Schema, Utf8, makeData, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { sigmaClippedStats } from './lib/sigma-clip.ts';

const params = z.object({
  sigma: z.number().positive().default(3),
  normalise: z.enum(['none', 'median']).default('none'),
  per_second: z.boolean().default(false).describe('divide each frame by its EXPTIME first (dark current)'),
  exposure_keyword: z.string().min(1).default('EXPTIME'),
}).strict();

const median = (values: Float64Array) => sigmaClippedStats(values, Infinity, 0).median;

export const combine = defineReduce({
  name: 'astro.combine',
  kind: 'reduce',
  version: '1',
  description: 'Master bias/dark/flat: sigma-clipped per-pixel median of all frames (flats normalised, darks per second); one row.',
  params,
  outputSchema({ inputs: [input] }) {
    const { shape } = tensorInfo(input, 'data');
    requireColumn(input, 'header');
    return new Schema([tensorField('data', { shape, kind: 'float32' }), new Field('frames', new Int32(), false), new Field('header', new Utf8(), false)]);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input], outputSchema }) {
    const { shape } = tensorInfo(input, 'data');
    const size = shape.reduce((a, b) => a * b, 1);
    const frames: Float64Array[] = [];
    let firstHeader = '{}';
    return {
      push(batch: RecordBatch) {
        const values = tensorValues(batch, 'data');
        for (let r = 0; r < batch.numRows; r++) {
          const header = String(batch.getChild('header')!.get(r));
          if (frames.length === 0) firstHeader = header;
          const frame = Float64Array.from(values.subarray(r * size, (r + 1) * size));
          if (p.per_second) {
            const seconds = Number((JSON.parse(header) as Record<string, unknown>)[p.exposure_keyword]);
            if (!(seconds > 0)) throw new Error(`frame ${frames.length + 1}: its header has no positive ${p.exposure_keyword} to divide by`);
            for (let i = 0; i < size; i++) frame[i] /= seconds;
          }
          if (p.normalise === 'median') {
            const m = median(frame.filter(Number.isFinite));
            if (!(m > 0)) throw new Error(`frame ${frames.length + 1}: its median is ${m}; a flat to normalise needs a positive one`);
            for (let i = 0; i < size; i++) frame[i] /= m;
          }
          frames.push(frame);
        }
      },
      end() {
        if (frames.length === 0) throw new Error('no frames to combine');
        const master = new Float32Array(size);
        const stack = new Float64Array(frames.length);
        for (let i = 0; i < size; i++) {
          let n = 0;
          for (const f of frames) if (Number.isFinite(f[i])) stack[n++] = f[i];
          master[i] = n === 0 ? NaN : sigmaClippedStats(stack.subarray(0, n), p.sigma, 5).median;
        }
        if (p.normalise === 'median') {
          const m = median(Float64Array.from(master).filter(Number.isFinite));
          for (let i = 0; i < size; i++) master[i] /= m;
        }
        return makeBatch(outputSchema, [
          tensorData(outputSchema.fields[0], master, 1), makeData({ type: new Int32(), length: 1, nullCount: 0, data: Int32Array.of(frames.length) }),
          vectorFromArray([firstHeader], new Utf8()).data[0],
        ], 1);
      },
    };
  },
});
