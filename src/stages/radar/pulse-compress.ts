// `radar.pulse-compress`: the matched filter for a linear-FM chirp, per pulse along range. The
// chirp comes from each row's `pulse_width_s`, `chirp_bandwidth_hz` and `sample_rate_hz` (the
// SigMF meta file), or from params. Output sample n is the correlation with a chirp starting at
// sample n, so a target keeps the range sample its echo starts at. The filter (the conjugate chirp,
// optionally tapered) has unit energy, so noise power is unchanged; untapered, a target's SNR
// grows by the pulse's sample count (its time-bandwidth product at critical sampling).
import { z } from 'zod';
import { fftPlan, type Fft } from '../../numeric/fft.ts';
import { defineMap } from '../../workflow/stage.ts';
import { lfmChirp } from './lib/chirp.ts';
import { cubeShape, mapRows, requireNumber, rowNumber } from './lib/cube.ts';
import { unitEnergyWindow, windowName, type WindowName } from './lib/windows.ts';

const params = z.object({
  pulse_width_s: z.number().positive().optional().describe("the chirp's length; default: each row's pulse_width_s"),
  bandwidth_hz: z.number().positive().optional().describe("the chirp's swept bandwidth; default: each row's chirp_bandwidth_hz"),
  window: windowName.default('none').describe('taper on the reference chirp: lower range sidelobes for a little SNR and resolution'),
}).strict();

interface Filter {
  fft: Fft;
  /** conj(FFT(tapered chirp / its energy)), zero-padded to fft.n. */
  re: Float64Array;
  im: Float64Array;
}

function makeFilter(width: number, bandwidth: number, rate: number, samples: number, window: WindowName): Filter {
  const chirp = lfmChirp(width, bandwidth, rate);
  const taper = unitEnergyWindow(window, chirp.re.length); // unit energy: the filter's energy is Σw² = 1
  let n = 1;
  while (n < samples + chirp.re.length - 1) n *= 2; // no wrap-around within the output samples
  const fft = fftPlan(n);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < chirp.re.length; i++) {
    re[i] = chirp.re[i] * taper[i];
    im[i] = chirp.im[i] * taper[i];
  }
  fft.forward(re, im);
  for (let k = 0; k < n; k++) im[k] = -im[k];
  return { fft, re, im };
}

export const pulseCompress = defineMap({
  name: 'radar.pulse-compress',
  kind: 'map',
  version: '1',
  description: 'Matched filter for the LFM chirp in the meta file (or params), per pulse; unit-energy, range-aligned to the echo start.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    cubeShape(input);
    requireNumber(input, 'pulse_width_s', p.pulse_width_s);
    requireNumber(input, 'chirp_bandwidth_hz', p.bandwidth_hz);
    requireNumber(input, 'sample_rate_hz', undefined);
    return input;
  },
  create(p, { inputSchema }) {
    const { pulses, samples } = cubeShape(inputSchema);
    const filters = new Map<string, Filter>();
    return (batch) => mapRows(batch, batch.schema, pulses * samples * 2, (row, input, output) => {
      const width = rowNumber(batch, 'pulse_width_s', row, p.pulse_width_s);
      const bandwidth = rowNumber(batch, 'chirp_bandwidth_hz', row, p.bandwidth_hz);
      const rate = rowNumber(batch, 'sample_rate_hz', row);
      const id = `${width}/${bandwidth}/${rate}`;
      let filter = filters.get(id);
      if (!filter) filters.set(id, (filter = makeFilter(width, bandwidth, rate, samples, p.window)));
      const { fft } = filter;
      const re = new Float64Array(fft.n);
      const im = new Float64Array(fft.n);
      for (let pulse = 0; pulse < pulses; pulse++) {
        const base = pulse * samples * 2;
        re.fill(0);
        im.fill(0);
        for (let n = 0; n < samples; n++) {
          re[n] = input[base + 2 * n];
          im[n] = input[base + 2 * n + 1];
        }
        fft.forward(re, im);
        for (let k = 0; k < fft.n; k++) {
          const r = re[k] * filter.re[k] - im[k] * filter.im[k];
          im[k] = re[k] * filter.im[k] + im[k] * filter.re[k];
          re[k] = r;
        }
        fft.inverse(re, im);
        for (let n = 0; n < samples; n++) {
          output[base + 2 * n] = re[n];
          output[base + 2 * n + 1] = im[n];
        }
      }
    });
  },
});
