// The radar processing stages against closed-form results on simulated CPIs: pulse compression
// gain and alignment, MTI cancellation, Doppler bins, axes and windows, and beamforming (unit gain
// in the look direction, an MVDR null on a jammer).
import { describe, expect, test } from 'vitest';
import { tensorValues } from '../../../src/arrow/tensor.ts';
import { Random } from '../../../src/numeric/random.ts';
import { solveHermitian } from '../../../src/numeric/hermitian.ts';
import { beamform, mvdrWeights, steeringVector } from '../../../src/stages/radar/beamform.ts';
import { doppler } from '../../../src/stages/radar/doppler.ts';
import { mti } from '../../../src/stages/radar/mti.ts';
import { pulseCompress } from '../../../src/stages/radar/pulse-compress.ts';
import { cpiRandom, simulateCpi, scenarioSchema } from '../../../src/stages/radar/lib/simulate.ts';
import { unitEnergyWindow } from '../../../src/stages/radar/lib/windows.ts';
import { column, runSteps, simulatedCpis } from './pipeline.ts';

const radar = { sample_rate_hz: 10e6, pri_s: 1e-3, center_frequency_hz: 3e9 };
/** |x|² of every complex sample of row `row`, as [pulse][sample]. */
function powers(values: ArrayLike<number>, pulses: number, samples: number, row = 0) {
  return Array.from({ length: pulses }, (_, p) => Array.from({ length: samples }, (_, n) => {
    const i = ((row * pulses + p) * samples + n) * 2;
    return values[i] ** 2 + values[i + 1] ** 2;
  }));
}
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

describe('radar processing stages', () => {
  test('pulse compression: a chirp echo at sample 100 peaks at sample 100 with gain = pulse samples; noise power kept', async () => {
    // 20 µs at 10 MHz = 200 samples; SNR 0 dB per sample → 200 (23 dB) after compression.
    const scenario = { ...radar, channels: 1, pulses: 8, samples: 1024, chirp: { pulse_width_s: 20e-6, bandwidth_hz: 5e6 }, targets: [{ range_bin: 100, doppler_hz: 0, snr_db: 0, swerling: 0 }] };
    const { schema, batches } = await simulatedCpis(scenario, 4, 1);
    const outs = await runSteps(schema, batches, [[pulseCompress, {}]]);
    const p = outs.flatMap((out) => powers(tensorValues(out, 'data'), 8, 1024));
    for (const pulse of p) expect(pulse.indexOf(Math.max(...pulse))).toBe(100);
    // E|s + n|² = 200 + 1; the cross term's spread over 32 pulses is √(2 · 200 / 32) ≈ 3.5.
    expect(Math.abs(mean(p.map((pulse) => pulse[100])) - 201)).toBeLessThan(14);
    // Away from the echo, and before the last 199 samples (whose filter runs off the recording), noise keeps power 1.
    const noise = mean(p.flatMap((pulse) => pulse.slice(400, 800)));
    expect(noise).toBeGreaterThan(0.93);
    expect(noise).toBeLessThan(1.07);
  });

  test('pulse compression takes the chirp from the meta file, or from params', async () => {
    const { schema, batches } = await simulatedCpis({ ...radar, channels: 1, pulses: 4, samples: 64 }, 1, 1);
    // The columns are there (nullable), so the workflow validates; the missing values fail the run, naming them.
    expect(() => pulseCompress.outputSchema({ params: pulseCompress.params.parse({}), inputs: [schema], baseDir: '.' })).not.toThrow();
    await expect(runSteps(schema, batches, [[pulseCompress, {}]])).rejects.toThrow("row 0 has no 'pulse_width_s'");
    await expect(runSteps(schema, batches, [[pulseCompress, { pulse_width_s: 2e-6, bandwidth_hz: 5e6 }]])).resolves.toHaveLength(1);
  });

  test('MTI: a stationary target cancels; one at PRF/2 passes with gain 2 (2-pulse) and 16/6 (3-pulse)', async () => {
    const targets = [{ range_bin: 10, doppler_hz: 0, snr_db: 40, swerling: 0 }, { range_bin: 30, doppler_hz: 500, snr_db: 40, swerling: 0 }];
    const { schema, batches } = await simulatedCpis({ ...radar, channels: 1, pulses: 16, samples: 64, targets }, 1, 2);
    for (const [order, gain] of [[2, 2], [3, 16 / 6]] as const) {
      const [out] = await runSteps(schema, batches, [[mti, { order }]]);
      const p = powers(tensorValues(out, 'data'), 17 - order, 64);
      expect(p).toHaveLength(17 - order);
      const stationary = mean(p.map((pulse) => pulse[10]));
      const moving = mean(p.map((pulse) => pulse[30]));
      expect(stationary).toBeLessThan(10); // 40 dB in, noise level out
      expect(moving / 1e4).toBeCloseTo(gain, 1);
    }
  });

  test('Doppler: a tone lands in its fftshifted bin, axes in Hz and metres, noise power 1 per cell', async () => {
    const targets = [{ range_bin: 40, doppler_hz: -187.5, snr_db: 0, swerling: 0 }];
    const { schema, batches } = await simulatedCpis({ ...radar, channels: 1, pulses: 32, samples: 256, record_gate_start_s: 50e-6, targets }, 8, 3);
    const maps = await runSteps(schema, batches, [[doppler, { window: 'none' }]]);
    const axis = [...maps[0].getChild('doppler_hz')!.get(0)!];
    expect(axis[0]).toBe(-500);
    expect(axis[16]).toBe(0);
    expect(axis[31]).toBeCloseTo(468.75, 9);
    const range = [...maps[0].getChild('range_m')!.get(0)!];
    expect(range[0]).toBeCloseTo(299_792_458 / 2 * 50e-6, 6);
    expect(range[1] - range[0]).toBeCloseTo(299_792_458 / 2 / 10e6, 9);
    for (const map of maps) {
      const values = tensorValues(map, 'data');
      const row = Array.from({ length: 32 }, (_, d) => values[d * 256 + 40]);
      expect(row.indexOf(Math.max(...row))).toBe(16 - 6); // -187.5 Hz = -6 bins of 31.25 Hz
      expect(Math.max(...row)).toBeGreaterThan(10); // 32 × SNR 1, give or take the noise
    }
    const noise = mean(maps.flatMap((m) => Array.from(tensorValues(m, 'data').subarray(0, 32 * 256)).filter((_, i) => i % 256 > 60)));
    expect(noise).toBeGreaterThan(0.95);
    expect(noise).toBeLessThan(1.05);
  });

  test('windows equal numpy hanning/hamming/blackman, scaled to unit energy', () => {
    const numpy = {
      hann: [0, 0.75, 0.75, 0],
      hamming: [0.08, 0.77, 0.77, 0.08],
      blackman: [-1.3878e-17, 0.63, 0.63, -1.3878e-17],
    };
    for (const [name, w] of Object.entries(numpy)) {
      const norm = Math.sqrt(w.reduce((a, x) => a + x * x, 0));
      [...unitEnergyWindow(name as 'hann', 4)].forEach((v, i) => expect(v).toBeCloseTo(w[i] / norm, 9));
    }
  });

  test('beamforming: unit gain at the steering angle (conventional and MVDR), an MVDR null ≥ 30 dB deep at a jammer in the first sidelobe', async () => {
    const channels = 14;
    const spacing = 0.3448; // Mountaintop's array at 435 MHz
    const base = { sample_rate_hz: 1e6, pri_s: 1.6e-3, center_frequency_hz: 435e6, element_spacing_m: spacing, channels, pulses: 16, samples: 400 };
    const targets = [{ range_bin: 200, doppler_hz: 156.25, snr_db: 10, swerling: 0, angle_deg: 0 }];
    const jammers = [{ angle_deg: 12, jnr_db: 40 }]; // on the conventional beam's first sidelobe (-13 dB)
    const { schema, batches } = await simulatedCpis({ ...base, targets, jammers }, 1, 5);
    const lambda = 299_792_458 / 435e6;
    const elements = [...Array(channels).keys()];
    // The weights themselves: wᴴa(0°) = 1, |wᴴa(12°)|² ≤ -30 dB.
    const x = tensorValues(batches[0], 'data');
    const w = mvdrWeights(x, channels, 16 * 400, steeringVector(elements, spacing / lambda, 0), 0.01);
    const response = (angle: number) => {
      const a = steeringVector(elements, spacing / lambda, angle);
      let re = 0;
      let im = 0;
      for (let m = 0; m < channels; m++) {
        re += w.re[m] * a.re[m] + w.im[m] * a.im[m];
        im += w.re[m] * a.im[m] - w.im[m] * a.re[m];
      }
      return { re, im, db: 10 * Math.log10(re * re + im * im) };
    };
    expect(response(0).re).toBeCloseTo(1, 12);
    expect(response(0).im).toBeCloseTo(0, 12);
    expect(response(12).db).toBeLessThan(-30);

    // Through the stage: jammer power falls by ≥ 30 dB under MVDR, not under the conventional beam;
    // the target (known amplitude, 10 dB per channel) comes through at its own power.
    const out = (method: string) => runSteps(schema, batches, [[beamform, { angle_deg: 0, method }]]);
    const [conventional] = await out('conventional');
    const [mvdr] = await out('mvdr');
    expect(column([mvdr], 'beam')).toEqual([0]);
    expect(column([mvdr], 'angle_deg')).toEqual([0]);
    const clear = (b: typeof mvdr) => mean(powers(tensorValues(b, 'data'), 16, 400).flatMap((p) => p.slice(0, 150)));
    const jammerIn = 1e4;
    expect(10 * Math.log10(clear(mvdr) / jammerIn)).toBeLessThan(-30);
    expect(10 * Math.log10(clear(conventional) / jammerIn)).toBeGreaterThan(-20); // a sidelobe, not a null
    const targetPower = mean(powers(tensorValues(mvdr, 'data'), 16, 400).map((p) => p[200]));
    expect(10 * Math.log10(targetPower)).toBeCloseTo(10, 0);
  });

  test('the Hermitian solver: A x = b to 1e-10 for a random covariance matrix', () => {
    const random = new Random(9);
    const n = 6;
    const gRe = Array.from({ length: n * n }, () => random.normal());
    const gIm = Array.from({ length: n * n }, () => random.normal());
    // A = G Gᴴ + I
    const aRe = new Float64Array(n * n);
    const aIm = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++) {
        aRe[i * n + j] += gRe[i * n + k] * gRe[j * n + k] + gIm[i * n + k] * gIm[j * n + k];
        aIm[i * n + j] += gIm[i * n + k] * gRe[j * n + k] - gRe[i * n + k] * gIm[j * n + k];
      }
      if (i === j) aRe[i * n + j] += 1;
    }
    const b = { re: Float64Array.from({ length: n }, () => random.normal()), im: Float64Array.from({ length: n }, () => random.normal()) };
    const x = solveHermitian(n, aRe, aIm, b);
    for (let i = 0; i < n; i++) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < n; j++) {
        re += aRe[i * n + j] * x.re[j] - aIm[i * n + j] * x.im[j];
        im += aRe[i * n + j] * x.im[j] + aIm[i * n + j] * x.re[j];
      }
      expect(re).toBeCloseTo(b.re[i], 10);
      expect(im).toBeCloseTo(b.im[i], 10);
    }
  });
});

describe('radar simulator', () => {
  const scenario = scenarioSchema.parse({ ...radar, channels: 2, pulses: 16, samples: 256 });

  test('the same seed gives the same samples; CPIs draw from their own streams', () => {
    const a = simulateCpi(scenario, cpiRandom(1, 3), 3).data;
    expect(simulateCpi(scenario, cpiRandom(1, 3), 3).data).toEqual(a);
    expect(simulateCpi(scenario, cpiRandom(1, 4), 4).data).not.toEqual(a);
  });

  test('noise has power 1; Swerling I echo power is exponential with mean SNR; Swerling 0 is constant', () => {
    const targets = [{ range_bin: 10, doppler_hz: 0, snr_db: 3, swerling: 1 as const, angle_deg: 0 }, { range_bin: 20, doppler_hz: 0, snr_db: 3, swerling: 0 as const, angle_deg: 0 }];
    const s = { ...scenario, targets };
    const swerling1: number[] = [];
    let noise = 0;
    for (let cpi = 0; cpi < 2000; cpi++) {
      const { data, truth } = simulateCpi(s, cpiRandom(7, cpi), cpi);
      swerling1.push(truth[0].power);
      expect(truth[1].power).toBeCloseTo(Math.pow(10, 0.3), 12);
      if (cpi < 20) noise += mean(powers(data, 16, 256).flatMap((p) => p.slice(100))) / 20;
    }
    expect(noise).toBeGreaterThan(0.98);
    expect(noise).toBeLessThan(1.02);
    const snr = Math.pow(10, 0.3);
    expect(mean(swerling1) / snr).toBeGreaterThan(1 - 5 / Math.sqrt(2000));
    expect(mean(swerling1) / snr).toBeLessThan(1 + 5 / Math.sqrt(2000));
    // Exponential: P(power > SNR) = e^-1.
    expect(swerling1.filter((p) => p > snr).length / 2000).toBeCloseTo(Math.exp(-1), 1);
  });

  test('K-distributed clutter: mean power CNR, and the intensity moment E[I²]/E[I]² = 2(1 + 1/ν)', () => {
    const shape = 1.5;
    const s = { ...scenario, channels: 1, pulses: 16, samples: 4096, clutter: { cnr_db: 30, shape, spread_hz: 20 } };
    const intensities: number[] = [];
    for (let cpi = 0; cpi < 8; cpi++) {
      const p = powers(simulateCpi(s, cpiRandom(11, cpi), cpi).data, 16, 4096);
      for (let n = 0; n < 4096; n++) intensities.push(p[0][n]); // one pulse: independent range cells
    }
    const m1 = mean(intensities) / 1000;
    const m2 = mean(intensities.map((i) => (i / 1000) ** 2));
    expect(m1).toBeGreaterThan(0.95);
    expect(m1).toBeLessThan(1.05);
    expect(m2 / (m1 * m1) / (2 * (1 + 1 / shape))).toBeCloseTo(1, 1);
  });
});
