// Post-Doppler space-time adaptive processing (STAP) of one CPI: factored (FA, one Doppler bin,
// M DOF) and extended factored (EFA / mDT, Doppler bins k-1, k, k+1 jointly, 3M DOF).
//   1. Each channel is Doppler-filtered: X[c][k][n] = Σ_p w_p x[c][p][n] e^(-2πi kp/P), w of unit energy.
//   2. For Doppler bin k and range cell n the snapshot z = [X[·][k+o][n]] (o = -1, 0, 1 for EFA;
//      bins wrap), channel-fastest: index (o + h)·M + m with h = (bins - 1)/2.
//   3. Steering s = t ⊗ a: a_m = e^(2πi c_m d sinθ / λ) (the beam's look direction) and
//      t_o = Σ_p w_p e^(-2πi o p/P), the response of bin k+o to a tone at bin k's centre.
//   4. R = (1/K) Σ z zᴴ over K training cells: `train` cells on each side of n beyond `guard` cells
//      (the cell under test and its guards excluded). Near the range edges the window keeps K cells
//      by taking the missing ones from the other side. Sums come from prefix sums over range, so
//      the sliding window costs O(DOF²) per cell. Diagonal loading adds `loading` × σ² to R, with
//      σ² the noise power per Doppler-domain sample estimated from the data (noisePower below).
//   5. u = R⁻¹ s (Cholesky), and the map holds, per cell,
//        amf:   |uᴴ z|² / (sᴴ u)  — the adaptive matched filter statistic. With the true R its mean is
//               1 in interference (clutter, jammers, noise) alone, and a target of amplitude α gives
//               |α|² sᴴR⁻¹s: the map reads as SINR against the local interference.
//        power: |wᴴ z|² with w = u · t_0 / (sᴴ u), i.e. wᴴ s = t_0: a target in the look direction
//               reads as in the conventional beam + Doppler map (unit beam gain, same Doppler gain).
import { fftPlan } from '../../../numeric/fft.ts';
import { solveHermitian, type ComplexVector } from '../../../numeric/hermitian.ts';

export interface StapOptions {
  channels: number;
  pulses: number;
  samples: number;
  /** 1 (factored) or 3 (extended factored). */
  bins: 1 | 3;
  guard: number;
  train: number;
  /** diagonal loading, in units of the estimated noise power σ² */
  loading: number;
  /** unit-energy window across pulses */
  window: Float64Array;
  /** spatial steering vector (M entries) */
  spatial: ComplexVector;
  output: 'amf' | 'power';
}

/** The Doppler-domain cube of one CPI: [channel][bin][range], unshifted bins. `x` is [channel][pulse][sample][I,Q]. */
export function dopplerCube(x: ArrayLike<number>, channels: number, pulses: number, samples: number, window: Float64Array) {
  const re = new Float64Array(channels * pulses * samples);
  const im = new Float64Array(channels * pulses * samples);
  const fft = fftPlan(pulses);
  const r = new Float64Array(pulses);
  const i = new Float64Array(pulses);
  for (let c = 0; c < channels; c++) {
    for (let n = 0; n < samples; n++) {
      for (let p = 0; p < pulses; p++) {
        const at = ((c * pulses + p) * samples + n) * 2;
        r[p] = x[at] * window[p];
        i[p] = x[at + 1] * window[p];
      }
      fft.forward(r, i);
      for (let k = 0; k < pulses; k++) {
        re[(c * pulses + k) * samples + n] = r[k];
        im[(c * pulses + k) * samples + n] = i[k];
      }
    }
  }
  return { re, im };
}

/** Temporal steering t_o, o = -h..h: the response of bin k+o to a tone at the centre of bin k. */
export function temporalSteering(window: Float64Array, bins: number): ComplexVector {
  const pulses = window.length;
  const h = (bins - 1) / 2;
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let b = 0; b < bins; b++) {
    const o = b - h;
    for (let p = 0; p < pulses; p++) {
      re[b] += window[p] * Math.cos((-2 * Math.PI * o * p) / pulses);
      im[b] += window[p] * Math.sin((-2 * Math.PI * o * p) / pulses);
    }
  }
  return { re, im };
}

/** The space-time steering vector t ⊗ a (channel fastest). */
export function spaceTimeSteering(spatial: ComplexVector, temporal: ComplexVector): ComplexVector {
  const m = spatial.re.length;
  const d = m * temporal.re.length;
  const re = new Float64Array(d);
  const im = new Float64Array(d);
  for (let b = 0; b < temporal.re.length; b++) {
    for (let c = 0; c < m; c++) {
      re[b * m + c] = temporal.re[b] * spatial.re[c] - temporal.im[b] * spatial.im[c];
      im[b * m + c] = temporal.re[b] * spatial.im[c] + temporal.im[b] * spatial.re[c];
    }
  }
  return { re, im };
}

/** The training cells of range cell n as half-open intervals: `train` each side beyond `guard`, shifted to keep 2·train at the edges. */
export function trainingIntervals(n: number, samples: number, guard: number, train: number): [number, number][] {
  const leftHi = Math.max(0, n - guard);
  const rightLo = Math.min(samples, n + guard + 1);
  const missingLeft = train - (leftHi - Math.max(0, n - guard - train));
  const missingRight = train - (Math.min(samples, n + guard + 1 + train) - rightLo);
  const leftLo = Math.max(0, n - guard - train - missingRight);
  const rightHi = Math.min(samples, n + guard + 1 + train + missingLeft);
  const out: [number, number][] = [];
  if (leftHi > leftLo) out.push([leftLo, leftHi]);
  if (rightHi > rightLo) out.push([rightLo, rightHi]);
  return out;
}

/**
 * Noise power per Doppler-domain sample, robust to jammers and clutter: for each Doppler bin, the
 * spatial covariance R over all range cells and the mean over channels of 1/[R⁻¹]_mm (the power of
 * a channel that the others cannot predict: σ² when the interference has rank below M - 1), then the
 * median over bins (clutter fills some bins at full spatial rank).
 */
export function noisePower(cube: { re: Float64Array; im: Float64Array }, channels: number, pulses: number, samples: number): number {
  const m = channels;
  const estimates: number[] = [];
  for (let k = 0; k < pulses; k++) {
    const rRe = new Float64Array(m * m);
    const rIm = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let j = i; j < m; j++) {
        let sr = 0;
        let si = 0;
        const a = (i * pulses + k) * samples;
        const b = (j * pulses + k) * samples;
        for (let n = 0; n < samples; n++) {
          sr += cube.re[a + n] * cube.re[b + n] + cube.im[a + n] * cube.im[b + n];
          si += cube.im[a + n] * cube.re[b + n] - cube.re[a + n] * cube.im[b + n];
        }
        rRe[i * m + j] = rRe[j * m + i] = sr / samples;
        rIm[i * m + j] = si / samples;
        rIm[j * m + i] = -si / samples;
      }
    }
    let trace = 0;
    for (let i = 0; i < m; i++) trace += rRe[i * m + i];
    for (let i = 0; i < m; i++) rRe[i * m + i] += 1e-9 * trace / m;
    let sum = 0;
    for (let i = 0; i < m; i++) {
      const e = { re: new Float64Array(m), im: new Float64Array(m) };
      e.re[i] = 1;
      sum += 1 / solveHermitian(m, rRe, rIm, e).re[i];
    }
    estimates.push(sum / m);
  }
  estimates.sort((a, b) => a - b);
  return estimates[Math.floor(estimates.length / 2)];
}

/** Snapshot z of bin k at range n into (re, im). */
export function snapshot(cube: { re: Float64Array; im: Float64Array }, o: StapOptions, k: number, n: number, re: Float64Array, im: Float64Array) {
  const { channels, pulses, samples, bins } = o;
  const h = (bins - 1) / 2;
  for (let b = 0; b < bins; b++) {
    const j = (((k + b - h) % pulses) + pulses) % pulses;
    for (let c = 0; c < channels; c++) {
      re[b * channels + c] = cube.re[(c * pulses + j) * samples + n];
      im[b * channels + c] = cube.im[(c * pulses + j) * samples + n];
    }
  }
}

/**
 * Runs STAP over every Doppler bin and range cell of one CPI (`x` as source.sigmf's rows of one
 * CPI, channel-major), writing the fftshifted [doppler, range] map into `output`. `visit`, if given,
 * sees each cell's u = R⁻¹ s and the loaded covariance's loading (for tests).
 */
export function stapMap(x: ArrayLike<number>, o: StapOptions, output: { [i: number]: number },
  visit?: (k: number, n: number, u: ComplexVector, load: number) => void) {
  const { channels, pulses, samples, bins, guard, train } = o;
  const cube = dopplerCube(x, channels, pulses, samples, o.window);
  const sigma2 = noisePower(cube, channels, pulses, samples);
  const load = o.loading * sigma2;
  const t = temporalSteering(o.window, bins);
  const s = spaceTimeSteering(o.spatial, t);
  const t0 = { re: t.re[(bins - 1) / 2], im: t.im[(bins - 1) / 2] };
  const d = channels * bins;
  const dd = d * d;
  const shift = Math.floor(pulses / 2);
  const zRe = new Float64Array(samples * d);
  const zIm = new Float64Array(samples * d);
  // prefix[n] = Σ_{m<n} z_m z_mᴴ, row-major d × d
  const pRe = new Float64Array((samples + 1) * dd);
  const pIm = new Float64Array((samples + 1) * dd);
  const rRe = new Float64Array(dd);
  const rIm = new Float64Array(dd);
  for (let k = 0; k < pulses; k++) {
    for (let n = 0; n < samples; n++) snapshot(cube, o, k, n, zRe.subarray(n * d, (n + 1) * d), zIm.subarray(n * d, (n + 1) * d));
    for (let n = 0; n < samples; n++) {
      const from = n * dd;
      const to = (n + 1) * dd;
      const z = n * d;
      for (let i = 0; i < d; i++) {
        const ar = zRe[z + i];
        const ai = zIm[z + i];
        for (let j = 0; j < d; j++) {
          const br = zRe[z + j];
          const bi = zIm[z + j];
          // z_i conj(z_j)
          pRe[to + i * d + j] = pRe[from + i * d + j] + ar * br + ai * bi;
          pIm[to + i * d + j] = pIm[from + i * d + j] + ai * br - ar * bi;
        }
      }
    }
    for (let n = 0; n < samples; n++) {
      const intervals = trainingIntervals(n, samples, guard, train);
      let count = 0;
      rRe.fill(0);
      rIm.fill(0);
      for (const [lo, hi] of intervals) {
        count += hi - lo;
        for (let e = 0; e < dd; e++) {
          rRe[e] += pRe[hi * dd + e] - pRe[lo * dd + e];
          rIm[e] += pIm[hi * dd + e] - pIm[lo * dd + e];
        }
      }
      for (let e = 0; e < dd; e++) {
        rRe[e] /= count;
        rIm[e] /= count;
      }
      for (let i = 0; i < d; i++) rRe[i * d + i] += load;
      const u = solveHermitian(d, rRe, rIm, s);
      visit?.(k, n, u, load);
      let sHu = 0; // real for Hermitian R
      let yr = 0;
      let yi = 0; // uᴴ z
      for (let i = 0; i < d; i++) {
        sHu += s.re[i] * u.re[i] + s.im[i] * u.im[i];
        const zr = zRe[n * d + i];
        const zi = zIm[n * d + i];
        yr += u.re[i] * zr + u.im[i] * zi;
        yi += u.re[i] * zi - u.im[i] * zr;
      }
      const y2 = yr * yr + yi * yi;
      output[((k + shift) % pulses) * samples + n] = o.output === 'amf' ? y2 / sHu : (y2 * (t0.re * t0.re + t0.im * t0.im)) / (sHu * sHu);
    }
  }
}
