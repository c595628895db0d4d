// `radar.doppler`: Doppler processing, an FFT across the pulses of each range sample, into a
// range-Doppler power map. Bins are fftshifted, so row d of the map is frequency
// (d - ⌊P/2⌋)·PRF/P: from -PRF/2 up to just below +PRF/2. The window has unit energy (windows.ts),
// so white noise keeps its power per cell and the map reads directly as SNR against the noise floor. Axes come as columns: `doppler_hz` per row of the map and
// `range_m` per range sample (c/2 · (record_gate_start_s + n / sample_rate_hz)).
import { Field, FixedSizeList, Float64, makeData, type Data } from 'apache-arrow';
import { z } from 'zod';
import { tensorField, type FloatArray } from '../../arrow/tensor.ts';
import { fftPlan } from '../../numeric/fft.ts';
import { defineMap } from '../../workflow/stage.ts';
import { metresPerSecond } from './lib/chirp.ts';
import { cubeShape, mapRows, replaceField, requireNumber, rowNumber } from './lib/cube.ts';
import { unitEnergyWindow, windowName } from './lib/windows.ts';

const params = z.object({
  window: windowName.default('hann').describe('taper across pulses before the FFT'),
}).strict();

export const axisField = (name: string, length: number) => new Field(name, new FixedSizeList(length, new Field('value', new Float64(), false)), false);

export function axisData(field: Field, values: Float64Array, rows: number): Data {
  const type = field.type as FixedSizeList;
  return makeData({ type, length: rows, nullCount: 0, child: makeData({ type: new Float64(), length: values.length, nullCount: 0, data: values }) });
}

export const doppler = defineMap({
  name: 'radar.doppler',
  kind: 'map',
  version: '1',
  description: 'FFT across pulses (window none/hann/hamming/blackman, unit energy), fftshifted: a [doppler, range] power map with doppler_hz and range_m axes.',
  params,
  outputSchema({ inputs: [input] }) {
    const { pulses, samples, kind } = cubeShape(input);
    requireNumber(input, 'pri_s', undefined);
    requireNumber(input, 'sample_rate_hz', undefined);
    return replaceField(input, 'data', tensorField('data', { shape: [pulses, samples], dimNames: ['doppler', 'range'], kind }),
      [axisField('doppler_hz', pulses), axisField('range_m', samples)]);
  },
  create(p, { inputSchema, outputSchema }) {
    const { pulses, samples } = cubeShape(inputSchema);
    const window = unitEnergyWindow(p.window, pulses);
    const shift = Math.floor(pulses / 2);
    return (batch) => {
      const rows = batch.numRows;
      const dopplerHz = new Float64Array(rows * pulses);
      const rangeM = new Float64Array(rows * samples);
      for (let row = 0; row < rows; row++) {
        const prf = 1 / rowNumber(batch, 'pri_s', row);
        const rate = rowNumber(batch, 'sample_rate_hz', row);
        const gate = (batch.getChild('record_gate_start_s')?.get(row) as number | null | undefined) ?? 0;
        for (let d = 0; d < pulses; d++) dopplerHz[row * pulses + d] = ((d - shift) * prf) / pulses;
        for (let n = 0; n < samples; n++) rangeM[row * samples + n] = metresPerSecond * (gate + n / rate);
      }
      return mapRows(batch, outputSchema, pulses * samples, (_row, input, output) => powerMap(input, pulses, samples, window, output), {
        doppler_hz: axisData(outputSchema.fields.find((f) => f.name === 'doppler_hz')!, dopplerHz, rows),
        range_m: axisData(outputSchema.fields.find((f) => f.name === 'range_m')!, rangeM, rows),
      });
    };
  },
});

/** The fftshifted [doppler, range] power map of one [pulses, samples, 2] cube, into `output`. */
export function powerMap(input: ArrayLike<number>, pulses: number, samples: number, window: Float64Array, output: FloatArray) {
  const fft = fftPlan(pulses);
  const re = new Float64Array(pulses);
  const im = new Float64Array(pulses);
  const shift = Math.floor(pulses / 2);
  for (let n = 0; n < samples; n++) {
    for (let q = 0; q < pulses; q++) {
      const i = (q * samples + n) * 2;
      re[q] = input[i] * window[q];
      im[q] = input[i + 1] * window[q];
    }
    fft.forward(re, im);
    for (let k = 0; k < pulses; k++) output[((k + shift) % pulses) * samples + n] = re[k] * re[k] + im[k] * im[k];
  }
}
