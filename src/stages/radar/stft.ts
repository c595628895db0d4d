// `radar.stft`: the micro-Doppler spectrogram of one range cell: a short-time Fourier transform
// across the pulses (slow time). Frame k takes pulses k·hop .. k·hop + length − 1, tapers them with
// the window (unit energy, windows.ts: white noise of power 1 reads 0 dB), zero-pads to nfft and
// transforms; row d of the output is Doppler (d − ⌊nfft/2⌋)·PRF/nfft (fftshifted), column k is
// time (k·hop + length/2)·PRI, as scipy.signal.stft's t with boundary=None, padded=False. Values
// are 10·log10 |X|² (dB), or with `relative` dB below the spectrogram's peak, clipped at
// −`floor_db` when given. Equal to scipy.signal.stft(x, window=w, nperseg=length,
// noverlap=length−hop, nfft, return_onesided=False, boundary=None, padded=False) times Σw, in dB
// (test/stages/radar/micro-doppler.test.ts).
import { Field, FixedSizeList, Float64, makeData, type Data } from 'apache-arrow';
import { z } from 'zod';
import { tensorField } from '../../arrow/tensor.ts';
import { fftPlan } from '../../numeric/fft.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { cubeShape, mapRows, replaceField, requireNumber, rowNumber } from './lib/cube.ts';
import { unitEnergyWindow, windowName } from './lib/windows.ts';

const params = z.object({
  window: windowName.default('hann'),
  nfft: z.number().int().min(2).default(128),
  length: z.number().int().min(2).optional().describe('window length in pulses (default nfft)'),
  hop: z.number().int().min(1).optional().describe('pulses between frames (default length / 2)'),
  range_bin: z.number().int().min(0).default(0).describe('the range sample whose slow time is transformed'),
  relative: z.boolean().default(false).describe("dB below the spectrogram's peak instead of absolute"),
  floor_db: z.number().positive().optional().describe('clip values more than this far below the peak'),
}).strict();

type Params = z.output<typeof params>;

const geometry = (p: Params, pulses: number) => {
  const length = p.length ?? p.nfft;
  const hop = p.hop ?? Math.max(1, Math.floor(length / 2));
  if (length > p.nfft) throw new SchemaError(`the window (${length} pulses) is longer than nfft ${p.nfft}`);
  if (length > pulses) throw new SchemaError(`the window (${length} pulses) is longer than the ${pulses} pulses`);
  return { length, hop, frames: Math.floor((pulses - length) / hop) + 1 };
};

const axisField = (name: string, length: number) => new Field(name, new FixedSizeList(length, new Field('value', new Float64(), false)), false);
const axisData = (field: Field, values: Float64Array, rows: number): Data => makeData({
  type: field.type as FixedSizeList, length: rows, nullCount: 0, child: makeData({ type: new Float64(), length: values.length, nullCount: 0, data: values }),
});

/** The [nfft, frames] dB spectrogram of complex slow-time samples `at(q)` → [re, im], into `output`. */
export function spectrogram(re0: ArrayLike<number>, im0: ArrayLike<number>, window: Float64Array, nfft: number, hop: number, frames: number, output: { [i: number]: number }) {
  const fft = fftPlan(nfft);
  const re = new Float64Array(nfft);
  const im = new Float64Array(nfft);
  const shift = Math.floor(nfft / 2);
  for (let k = 0; k < frames; k++) {
    re.fill(0);
    im.fill(0);
    for (let q = 0; q < window.length; q++) {
      re[q] = re0[k * hop + q] * window[q];
      im[q] = im0[k * hop + q] * window[q];
    }
    fft.forward(re, im);
    for (let d = 0; d < nfft; d++) output[((d + shift) % nfft) * frames + k] = 10 * Math.log10(Math.max(re[d] * re[d] + im[d] * im[d], 1e-30));
  }
}

export const stft = defineMap({
  name: 'radar.stft',
  kind: 'map',
  version: '1',
  description: 'Micro-Doppler spectrogram of one range cell: STFT across pulses (window, nfft, hop), dB, fftshifted: a [doppler, time] tensor with doppler_hz and time_s axes.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const { pulses, samples, kind } = cubeShape(input);
    if (p.range_bin >= samples) throw new SchemaError(`range_bin ${p.range_bin} is beyond the ${samples} range samples`);
    requireNumber(input, 'pri_s', undefined);
    const { frames } = geometry(p, pulses);
    return replaceField(input, 'data', tensorField('data', { shape: [p.nfft, frames], dimNames: ['doppler', 'time'], kind }),
      [axisField('doppler_hz', p.nfft), axisField('time_s', frames)]);
  },
  create(p, { inputSchema, outputSchema }) {
    const { pulses, samples } = cubeShape(inputSchema);
    const { length, hop, frames } = geometry(p, pulses);
    const window = unitEnergyWindow(p.window, length);
    const shift = Math.floor(p.nfft / 2);
    const re = new Float64Array(pulses);
    const im = new Float64Array(pulses);
    return (batch) => {
      const rows = batch.numRows;
      const dopplerHz = new Float64Array(rows * p.nfft);
      const timeS = new Float64Array(rows * frames);
      for (let row = 0; row < rows; row++) {
        const pri = rowNumber(batch, 'pri_s', row);
        for (let d = 0; d < p.nfft; d++) dopplerHz[row * p.nfft + d] = (d - shift) / pri / p.nfft;
        for (let k = 0; k < frames; k++) timeS[row * frames + k] = (k * hop + length / 2) * pri;
      }
      return mapRows(batch, outputSchema, p.nfft * frames, (_row, input, output) => {
        for (let q = 0; q < pulses; q++) {
          re[q] = input[(q * samples + p.range_bin) * 2];
          im[q] = input[(q * samples + p.range_bin) * 2 + 1];
        }
        spectrogram(re, im, window, p.nfft, hop, frames, output);
        if (p.relative || p.floor_db !== undefined) {
          let peak = -Infinity;
          for (let i = 0; i < output.length; i++) peak = Math.max(peak, output[i]);
          for (let i = 0; i < output.length; i++) {
            let v = output[i] - (p.relative ? peak : 0);
            const floor = (p.relative ? 0 : peak) - (p.floor_db ?? Infinity);
            if (v < floor) v = floor;
            output[i] = v;
          }
        }
      }, {
        doppler_hz: axisData(outputSchema.fields.find((f) => f.name === 'doppler_hz')!, dopplerHz, rows),
        time_s: axisData(outputSchema.fields.find((f) => f.name === 'time_s')!, timeS, rows),
      });
    };
  },
});
