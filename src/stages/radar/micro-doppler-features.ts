// `radar.micro-doppler-features`: hand-made features of a micro-Doppler spectrogram (radar.stft's
// absolute dB [doppler, time] tensor with its doppler_hz and time_s axes), the classical baseline
// against a learned classifier. With P the power of each cell, S(f) its mean over time and N the
// noise power (the 20th percentile of S: micro-Doppler fills some bins, never most of the lowest):
//   centroid_hz, spread_hz   mean and standard deviation of f weighted by max(S − N, 0)
//   bandwidth_hz             how many Hz of S lie more than 6 dB above N
//   peak_hz, peak_share      the strongest Doppler bin, and its share of the power above noise
//   cepstral_period_s,       the real cepstrum of ln S, |IFFT(ln S)|, at its largest quefrency
//   cepstral_peak            between 4 bins and nfft/2 (PRI units): the period of a blade-flash
//                            comb (lines spaced by the flash rate), and that peak over the mean there
//   modulation_hz,           the strongest frequency of the frames' power above noise over time
//   modulation_depth         (rotor flashes, strides, wing beats), and its std / mean
//   spread_variation         std / mean of the per-frame Doppler spread (limbs and wings vary, bodies do not)
import { Field, Float64 } from 'apache-arrow';
import { z } from 'zod';
import { tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { appendFloats, withColumns } from '../../arrow/added-columns.ts';
import { fftPlan } from '../../numeric/fft.ts';
import { ColumnTypeError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { requireColumn } from '../../arrow/columns.ts';

export const microDopplerFeatureNames = ['centroid_hz', 'spread_hz', 'bandwidth_hz', 'peak_hz', 'peak_share', 'cepstral_period_s', 'cepstral_peak',
  'modulation_hz', 'modulation_depth', 'spread_variation'] as const;

const params = z.object({}).strict();

/** The features of one [nfft, frames] dB spectrogram. */
export function microDopplerFeatures(db: ArrayLike<number>, nfft: number, frames: number, dopplerHz: ArrayLike<number>, frameSeconds: number): number[] {
  const P = Float64Array.from({ length: nfft * frames }, (_, i) => 10 ** (db[i] / 10));
  const S = Float64Array.from({ length: nfft }, (_, d) => {
    let s = 0;
    for (let k = 0; k < frames; k++) s += P[d * frames + k];
    return s / frames;
  });
  const noise = Float64Array.from(S).sort()[Math.floor(0.2 * (nfft - 1))];
  const binHz = Math.abs(dopplerHz[1] - dopplerHz[0]);
  let total = 0;
  let first = 0;
  let peak = 0;
  let wide = 0;
  for (let d = 0; d < nfft; d++) {
    const excess = Math.max(S[d] - noise, 0);
    total += excess;
    first += excess * dopplerHz[d];
    if (S[d] > S[peak]) peak = d;
    if (S[d] > 4 * noise) wide++;
  }
  const centroid = total > 0 ? first / total : 0;
  let second = 0;
  for (let d = 0; d < nfft; d++) second += Math.max(S[d] - noise, 0) * (dopplerHz[d] - centroid) ** 2;
  const spread = total > 0 ? Math.sqrt(second / total) : 0;

  // Real cepstrum of the mean spectrum.
  const re = Float64Array.from(S, (s) => Math.log(Math.max(s, 1e-30)));
  const im = new Float64Array(nfft);
  fftPlan(nfft).inverse(re, im);
  const lo = Math.min(4, Math.floor(nfft / 2));
  let best = lo;
  let sum = 0;
  for (let q = lo; q <= nfft / 2; q++) {
    const c = Math.hypot(re[q], im[q]);
    sum += c;
    if (c > Math.hypot(re[best], im[best])) best = q;
  }
  const cepMean = sum / (Math.floor(nfft / 2) - lo + 1);
  const pri = 1 / (binHz * nfft);

  // Power above noise frame by frame, and the Doppler spread of each frame.
  const energy = new Float64Array(frames);
  const spreads = new Float64Array(frames);
  for (let k = 0; k < frames; k++) {
    let e = 0;
    let m1 = 0;
    for (let d = 0; d < nfft; d++) {
      const x = Math.max(P[d * frames + k] - noise, 0);
      e += x;
      m1 += x * dopplerHz[d];
    }
    const c = e > 0 ? m1 / e : 0;
    let m2 = 0;
    for (let d = 0; d < nfft; d++) m2 += Math.max(P[d * frames + k] - noise, 0) * (dopplerHz[d] - c) ** 2;
    energy[k] = e;
    spreads[k] = e > 0 ? Math.sqrt(m2 / e) : 0;
  }
  const meanOf = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length;
  const stdOf = (x: Float64Array) => {
    const m = meanOf(x);
    return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
  };
  const eMean = meanOf(energy);
  const n = 1 << Math.ceil(Math.log2(Math.max(2, frames)));
  const er = new Float64Array(n);
  const ei = new Float64Array(n);
  energy.forEach((e, k) => (er[k] = e - eMean));
  fftPlan(n).forward(er, ei);
  let mod = 1;
  for (let k = 1; k <= n / 2; k++) if (Math.hypot(er[k], ei[k]) > Math.hypot(er[mod], ei[mod])) mod = k;
  const sMean = meanOf(spreads);
  return [
    centroid, spread, wide * binHz, dopplerHz[peak], total > 0 ? Math.max(S[peak] - noise, 0) / total : 0,
    best * pri, cepMean > 0 ? Math.hypot(re[best], im[best]) / cepMean : 0,
    mod / (n * frameSeconds), eMean > 0 ? stdOf(energy) / eMean : 0, sMean > 0 ? stdOf(spreads) / sMean : 0,
  ];
}

export const microDopplerFeaturesStage = defineMap({
  name: 'radar.micro-doppler-features',
  kind: 'map',
  version: '1',
  description: 'Hand-made micro-Doppler features of a radar.stft spectrogram: Doppler centroid, spread and bandwidth, cepstral blade-flash period, modulation rate and depth.',
  params,
  outputSchema({ inputs: [input] }) {
    const info = tensorInfo(input, 'data');
    if (info.shape.length !== 2) throw new ColumnTypeError('data', 'a [doppler, time] dB spectrogram (radar.stft)', `a tensor of shape ${JSON.stringify(info.shape)}`);
    requireColumn(input, 'doppler_hz');
    requireColumn(input, 'time_s');
    return withColumns(input, microDopplerFeatureNames.map((n) => new Field(n, new Float64(), true)));
  },
  create(_p, { inputSchema, outputSchema }) {
    const [nfft, frames] = tensorInfo(inputSchema, 'data').shape;
    return (batch) => {
      const values = tensorValues(batch, 'data');
      const columns = microDopplerFeatureNames.map(() => new Float64Array(batch.numRows));
      for (let row = 0; row < batch.numRows; row++) {
        const doppler = batch.getChild('doppler_hz')!.get(row)!.toArray() as Float64Array;
        const time = batch.getChild('time_s')!.get(row)!.toArray() as Float64Array;
        const frameSeconds = frames > 1 ? time[1] - time[0] : 1;
        const f = microDopplerFeatures(values.subarray(row * nfft * frames, (row + 1) * nfft * frames), nfft, frames, doppler, frameSeconds);
        f.forEach((v, i) => (columns[i][row] = v));
      }
      return appendFloats(batch, outputSchema, columns);
    };
  },
});
