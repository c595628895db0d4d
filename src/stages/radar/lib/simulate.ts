// Simulated coherent processing intervals with known targets, for tests, benchmarks and the demo
// data. Everything is complex baseband with noise power 1 per channel and sample, so an SNR is the
// per-sample power of a target's echo before any processing (pulse compression, Doppler).
//   target: A · s(n - r0) · e^(2πi fd p PRI) · e^(2πi c d sin θ / λ)   (s: the LFM chirp, or one sample)
//     Swerling 0: |A|² = SNR, random phase; Swerling I: A complex Gaussian with E|A|² = SNR, drawn per CPI
//   clutter: compound-Gaussian (K-distributed amplitude): per range cell a Gamma(ν) texture with mean 1,
//     constant over the CPI, times Gaussian speckle whose Doppler spectrum is a Gaussian of `spread_hz`
//     around `center_hz` (wrapped to the PRF); only in range samples [from_bin, to_bin), so the
//     clutter has edges; independent between channels (sidelobe clutter from all directions)
//   jammer: broadband noise of power JNR from one direction, the same on every channel up to phase
import { z } from 'zod';
import { fftPlan } from '../../../numeric/fft.ts';
import { Random } from '../../../numeric/random.ts';
import { lfmChirp, metresPerSecond, speedOfLight, type Chirp } from './chirp.ts';

const positive = z.number().positive();

export const targetSchema = z.object({
  range_bin: z.number().int().min(0).describe('range sample where the echo starts'),
  doppler_hz: z.number(),
  snr_db: z.number().describe('echo power per sample over the noise, before processing'),
  swerling: z.union([z.literal(0), z.literal(1)]).default(1).describe('0: constant amplitude; 1: Rayleigh amplitude drawn per CPI'),
  angle_deg: z.number().min(-90).max(90).default(0).describe('direction from broadside'),
}).strict();

export const scenarioSchema = z.object({
  pulses: z.number().int().min(1),
  samples: z.number().int().min(1),
  channels: z.number().int().min(1).default(1),
  sample_rate_hz: positive,
  pri_s: positive,
  center_frequency_hz: positive,
  element_spacing_m: positive.optional().describe('default: half a wavelength'),
  record_gate_start_s: z.number().min(0).default(0),
  chirp: z.object({ pulse_width_s: positive, bandwidth_hz: positive }).strict().optional().describe('LFM pulse; without it each echo is one sample'),
  clutter: z.object({
    cnr_db: z.number(),
    shape: positive.describe('K-distribution shape ν: small is spiky, large tends to Rayleigh'),
    spread_hz: z.number().min(0).describe('standard deviation of the clutter Doppler spectrum'),
    center_hz: z.number().optional().describe('centre of the clutter Doppler spectrum (default 0 Hz)'),
    from_bin: z.number().int().min(0).optional().describe('first range sample with clutter, a clutter edge (default 0)'),
    to_bin: z.number().int().min(0).optional().describe('range sample where the clutter ends (default: the last)'),
  }).strict().optional(),
  jammers: z.array(z.object({ angle_deg: z.number().min(-90).max(90), jnr_db: z.number() }).strict()).default([]),
  targets: z.array(targetSchema).default([]),
}).strict();

export type Target = z.output<typeof targetSchema>;
export type Scenario = z.output<typeof scenarioSchema>;

/** The generator for CPI `cpi` of a run seeded `seed`: each CPI draws from its own stream, so CPIs can be made in any order. */
export const cpiRandom = (seed: number, cpi: number) => new Random(Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) ^ Math.imul(cpi + 1, 0x165667b1));

/** A target as it went into one CPI: where it is and the echo power it was given. */
export interface TruthRow extends Target {
  cpi: number;
  range_m: number;
  /** |A|² realised in this CPI (Swerling I draws it), as a linear power ratio to the noise. */
  power: number;
}

export interface SimulatedCpi {
  /** [channel][pulse][sample][I, Q], as source.sigmf's `data` rows. */
  data: Float32Array;
  truth: TruthRow[];
}

/** One CPI; `cpi` only labels the truth rows. Random draws come from `random`, in a fixed order. */
export function simulateCpi(s: Scenario, random: Random, cpi = 0): SimulatedCpi {
  const { pulses, samples, channels } = s;
  const cube = new Float64Array(channels * pulses * samples * 2);
  const at = (c: number, p: number, n: number) => ((c * pulses + p) * samples + n) * 2;
  const noiseScale = Math.SQRT1_2;
  for (let i = 0; i < cube.length; i++) cube[i] = random.normal() * noiseScale;

  const wavelength = speedOfLight / s.center_frequency_hz;
  const spacing = s.element_spacing_m ?? wavelength / 2;
  const steer = (c: number, angleDeg: number) => (2 * Math.PI * c * spacing * Math.sin((angleDeg * Math.PI) / 180)) / wavelength;

  if (s.clutter) addClutter(s, cube, random);
  for (const jammer of s.jammers) {
    const amplitude = Math.sqrt(Math.pow(10, jammer.jnr_db / 10) / 2);
    for (let p = 0; p < pulses; p++) {
      for (let n = 0; n < samples; n++) {
        const jr = random.normal() * amplitude;
        const ji = random.normal() * amplitude;
        for (let c = 0; c < channels; c++) {
          const phase = steer(c, jammer.angle_deg);
          cube[at(c, p, n)] += jr * Math.cos(phase) - ji * Math.sin(phase);
          cube[at(c, p, n) + 1] += jr * Math.sin(phase) + ji * Math.cos(phase);
        }
      }
    }
  }

  const pulse: Chirp = s.chirp ? lfmChirp(s.chirp.pulse_width_s, s.chirp.bandwidth_hz, s.sample_rate_hz)
    : { re: Float64Array.of(1), im: Float64Array.of(0) };
  const truth: TruthRow[] = [];
  for (const target of s.targets) {
    const snr = Math.pow(10, target.snr_db / 10);
    let ar: number, ai: number;
    if (target.swerling === 1) {
      ar = random.normal() * Math.sqrt(snr / 2);
      ai = random.normal() * Math.sqrt(snr / 2);
    } else {
      const phase = 2 * Math.PI * random.uniform();
      ar = Math.sqrt(snr) * Math.cos(phase);
      ai = Math.sqrt(snr) * Math.sin(phase);
    }
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < pulses; p++) {
        const phase = 2 * Math.PI * target.doppler_hz * p * s.pri_s + steer(c, target.angle_deg);
        const br = ar * Math.cos(phase) - ai * Math.sin(phase);
        const bi = ar * Math.sin(phase) + ai * Math.cos(phase);
        for (let m = 0; m < pulse.re.length && target.range_bin + m < samples; m++) {
          const i = at(c, p, target.range_bin + m);
          cube[i] += br * pulse.re[m] - bi * pulse.im[m];
          cube[i + 1] += br * pulse.im[m] + bi * pulse.re[m];
        }
      }
    }
    const range_m = metresPerSecond * (s.record_gate_start_s + target.range_bin / s.sample_rate_hz);
    truth.push({ ...target, cpi, range_m, power: ar * ar + ai * ai });
  }
  return { data: Float32Array.from(cube), truth };
}

/**
 * The clutter's share of the speckle power in each DFT bin k of a CPI (bin k at k · PRF / pulses,
 * wrapped): a Gaussian of `spread_hz` around `center_hz`, normalised to sum to `pulses`, so a
 * unit-energy rectangular Doppler filter sees mean clutter power CNR × spectrum[k] in bin k.
 */
export function clutterSpectrum(s: Pick<Scenario, 'pulses' | 'pri_s'>, clutter: NonNullable<Scenario['clutter']>): Float64Array {
  const { pulses } = s;
  const prf = 1 / s.pri_s;
  const spectrum = Float64Array.from({ length: pulses }, (_, k) => {
    const offset = k * (prf / pulses) - (clutter.center_hz ?? 0);
    const f = offset - prf * Math.round(offset / prf); // nearest alias of the centre
    return Math.exp(-(f * f) / (2 * Math.max(clutter.spread_hz, 1e-9) ** 2));
  });
  const total = spectrum.reduce((a, b) => a + b, 0);
  return spectrum.map((v) => (pulses * v) / total);
}

/**
 * The mean clutter-plus-noise power of cell (row, rangeBin) of the unwindowed range-Doppler map of
 * a CPI (radar.doppler with window none: row d holds DFT bin d - ⌊pulses/2⌋; noise power 1 a cell).
 */
export function interferencePower(s: Pick<Scenario, 'pulses' | 'pri_s' | 'samples'>, clutter: Scenario['clutter'], spectrum: Float64Array | undefined, row: number, rangeBin: number): number {
  if (!clutter || rangeBin < (clutter.from_bin ?? 0) || rangeBin >= (clutter.to_bin ?? s.samples)) return 1;
  const D = s.pulses;
  return 1 + Math.pow(10, clutter.cnr_db / 10) * (spectrum ?? clutterSpectrum(s, clutter))[(row - Math.floor(D / 2) + D) % D];
}

/** Adds K-distributed clutter: texture per range cell, speckle correlated across pulses by a Gaussian spectrum. */
function addClutter(s: Scenario, cube: Float64Array, random: Random) {
  const { pulses, samples, channels, clutter } = s;
  const { cnr_db, shape } = clutter!;
  const gain = clutterSpectrum(s, clutter!).map(Math.sqrt);
  const fft = fftPlan(pulses);
  const re = new Float64Array(pulses);
  const im = new Float64Array(pulses);
  const cnr = Math.pow(10, cnr_db / 10);
  for (let n = clutter!.from_bin ?? 0; n < Math.min(samples, clutter!.to_bin ?? samples); n++) {
    const texture = random.gamma(shape) / shape;
    const amplitude = Math.sqrt((cnr * texture) / 2);
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < pulses; p++) {
        re[p] = random.normal();
        im[p] = random.normal();
      }
      fft.forward(re, im);
      for (let k = 0; k < pulses; k++) {
        re[k] *= gain[k];
        im[k] *= gain[k];
      }
      fft.inverse(re, im);
      for (let p = 0; p < pulses; p++) {
        const i = ((c * pulses + p) * samples + n) * 2;
        cube[i] += re[p] * amplitude;
        cube[i + 1] += im[p] * amplitude;
      }
    }
  }
}
