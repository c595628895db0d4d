// The spatial sample covariance of an array's snapshots and the beam they give under a weight
// vector: what MVDR and the learned beamformer share. Snapshots are channel-major (channel m's
// samples at [m·n, (m+1)·n), interleaved I/Q), as the rows of one CPI lie in a batch.
import type { ComplexVector } from '../../../numeric/hermitian.ts';

/** A complex M × M matrix, row-major, real and imaginary parts apart. */
export interface ComplexMatrix {
  re: Float64Array;
  im: Float64Array;
}

/** R = (1/n) Σ x xᴴ over the n snapshots. */
export function sampleCovariance(x: ArrayLike<number>, channels: number, snapshots: number): ComplexMatrix {
  const m = channels;
  const re = new Float64Array(m * m);
  const im = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let sr = 0;
      let si = 0;
      const a = i * snapshots * 2;
      const b = j * snapshots * 2;
      for (let k = 0; k < snapshots * 2; k += 2) {
        // x_i conj(x_j)
        sr += x[a + k] * x[b + k] + x[a + k + 1] * x[b + k + 1];
        si += x[a + k + 1] * x[b + k] - x[a + k] * x[b + k + 1];
      }
      re[i * m + j] = re[j * m + i] = sr / snapshots;
      im[i * m + j] = si / snapshots;
      im[j * m + i] = -si / snapshots;
    }
  }
  return { re, im };
}

/** y = wᴴ x for every snapshot, added into `y` (interleaved I/Q, `snapshots` long). */
export function applyWeights(w: ComplexVector, x: ArrayLike<number>, snapshots: number, y: { [i: number]: number }) {
  for (let m = 0; m < w.re.length; m++) {
    const wr = w.re[m];
    const wi = -w.im[m]; // conjugated weights
    const base = m * snapshots * 2;
    for (let k = 0; k < snapshots * 2; k += 2) {
      y[k] += wr * x[base + k] - wi * x[base + k + 1];
      y[k + 1] += wr * x[base + k + 1] + wi * x[base + k];
    }
  }
}

/** uᴴ v. */
export function innerProduct(u: ComplexVector, v: ComplexVector): { re: number; im: number } {
  let re = 0;
  let im = 0;
  for (let i = 0; i < u.re.length; i++) {
    re += u.re[i] * v.re[i] + u.im[i] * v.im[i];
    im += u.re[i] * v.im[i] - u.im[i] * v.re[i];
  }
  return { re, im };
}

/** A v. */
export function matrixVector(a: ComplexMatrix, v: ComplexVector): ComplexVector {
  const n = v.re.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      re[i] += a.re[i * n + j] * v.re[j] - a.im[i * n + j] * v.im[j];
      im[i] += a.re[i * n + j] * v.im[j] + a.im[i * n + j] * v.re[j];
    }
  }
  return { re, im };
}

/** w scaled so that wᴴ a = 1 (unit gain in the look direction). */
export function distortionless(w: ComplexVector, a: ComplexVector): ComplexVector {
  const { re: dr, im: di } = innerProduct(w, a);
  const d2 = dr * dr + di * di;
  // w / conj(wᴴ a) = w (wᴴ a) / |wᴴ a|²: then wᴴ a = 1.
  return {
    re: w.re.map((r, i) => (r * dr - w.im[i] * di) / d2),
    im: w.im.map((v, i) => (v * dr + w.re[i] * di) / d2),
  };
}
