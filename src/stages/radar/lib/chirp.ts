// The linear-FM pulse the simulator transmits and pulse compression correlates against: baseband,
// sweeping -B/2 to +B/2 over the pulse width, unit amplitude, one value per receiver sample; and
// the constants that turn delays and frequencies into metres.

export interface Chirp {
  re: Float64Array;
  im: Float64Array;
}

export function lfmChirp(pulseWidthS: number, bandwidthHz: number, sampleRateHz: number): Chirp {
  const length = Math.round(pulseWidthS * sampleRateHz);
  if (length < 1) throw new RangeError(`a ${pulseWidthS} s pulse is shorter than one sample at ${sampleRateHz} Hz`);
  const slope = bandwidthHz / pulseWidthS;
  const re = new Float64Array(length);
  const im = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const t = i / sampleRateHz - pulseWidthS / 2;
    const phase = Math.PI * slope * t * t;
    re[i] = Math.cos(phase);
    im[i] = Math.sin(phase);
  }
  return { re, im };
}

export const speedOfLight = 299_792_458;
/** Metres of range per second of two-way delay. */
export const metresPerSecond = speedOfLight / 2;
