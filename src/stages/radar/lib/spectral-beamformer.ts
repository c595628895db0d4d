// The learned beamformer's frame: a network that shapes the eigenvalue spectrum of the sample
// covariance. With R̂ = U Λ Uᴴ (sample covariance of the snapshots), b = Uᴴ a (the look direction
// in the eigenbasis) and σ̂² the median eigenvalue (the noise level when fewer than half the
// eigenvalues hold interference), the weights are
//   w ∝ U diag(g) b,   g_i = exp(y_i) / λ̃_i,   λ̃_i = λ_i / σ̂²
// where y (one number per eigenvalue) is the network's output: y = 0 is sample-matrix MVDR
// (w ∝ R̂⁻¹ a), and the network learns how far to trust each eigenvalue (what diagonal loading
// does by one fixed rule). This keeps the problem well-conditioned: a jammer's eigenvalue only has
// to be damped by roughly 1/λ̃ — an error of a factor c in its gain moves the residual jammer by c²
// of an already tiny term — so a small network reaches nulls tens of dB deep, which weights
// regressed directly could not. The network sees, per eigenvalue, log10 λ̃_i / 2 and |b_i|² / M,
// and log10(snapshots / M) / 2: 2M + 1 numbers.
//
// For training, the SINR of such weights under the true interference covariance R_in is a ratio of
// quadratic forms in g' = exp(y):
//   SINR = (g'·p)² / (g'ᵀ K g'),  p_i = |b_i|² / λ̃_i,  K_ij = Re(conj(b_i) Q_ij b_j) / (λ̃_i λ̃_j),  Q = Uᴴ R_in U
// so the loss (dB below the optimum aᴴ R_in⁻¹ a) is computed in the graph from p and K alone.
import { hermitianEigen, type HermitianEigen } from '../../../numeric/hermitian-eigen.ts';
import type { ComplexVector } from '../../../numeric/hermitian.ts';
import { distortionless, type ComplexMatrix } from './covariance.ts';

export interface Spectrum {
  eigen: HermitianEigen;
  /** λ̃: eigenvalues over the median, largest first */
  relative: Float64Array;
  /** b = Uᴴ a */
  look: ComplexVector;
}

export const featureCount = (channels: number) => 2 * channels + 1;

/** Eigendecomposition of R̂ and the look direction in its eigenbasis. */
export function spectrum(r: ComplexMatrix, channels: number, steer: ComplexVector): Spectrum {
  const m = channels;
  const eigen = hermitianEigen(m, r.re, r.im);
  const v = eigen.values;
  const median = m % 2 ? v[(m - 1) / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
  if (!(median > 0)) throw new RangeError(`the sample covariance has a median eigenvalue of ${median}: give at least ${m} snapshots of noisy data`);
  // Rounding can leave the smallest eigenvalues of a rank-deficient R̂ at or below zero.
  const relative = v.map((x) => Math.max(x / median, 1e-12));
  const look = { re: new Float64Array(m), im: new Float64Array(m) };
  for (let k = 0; k < m; k++) {
    for (let i = 0; i < m; i++) {
      // conj(u_k)ᵀ a
      look.re[k] += eigen.re[i * m + k] * steer.re[i] + eigen.im[i * m + k] * steer.im[i];
      look.im[k] += eigen.re[i * m + k] * steer.im[i] - eigen.im[i * m + k] * steer.re[i];
    }
  }
  return { eigen, relative, look };
}

/** The network's input for one spectrum, written into `out` (2M + 1 values). */
export function spectralFeatures(s: Spectrum, snapshots: number, out: Float32Array) {
  const m = s.relative.length;
  for (let i = 0; i < m; i++) {
    out[i] = Math.log10(s.relative[i]) / 2;
    out[m + i] = (s.look.re[i] ** 2 + s.look.im[i] ** 2) / m;
  }
  out[2 * m] = Math.log10(snapshots / m) / 2;
}

/** Distortionless weights w ∝ U diag(exp(y) / λ̃) b toward `steer`. */
export function spectralWeights(s: Spectrum, y: ArrayLike<number>, steer: ComplexVector): ComplexVector {
  const m = s.relative.length;
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const g = Math.exp(y[k]) / s.relative[k];
    const [br, bi] = [g * s.look.re[k], g * s.look.im[k]];
    for (let i = 0; i < m; i++) {
      re[i] += s.eigen.re[i * m + k] * br - s.eigen.im[i * m + k] * bi;
      im[i] += s.eigen.re[i * m + k] * bi + s.eigen.im[i * m + k] * br;
    }
  }
  return distortionless({ re, im }, steer);
}

/** The training loss's terms p (M) and K (M × M, row-major) for one scene with true covariance `rIn`. */
export function sinrTerms(s: Spectrum, rIn: ComplexMatrix, p: Float32Array, k: Float32Array) {
  const m = s.relative.length;
  const { re: ur, im: ui } = s.eigen;
  // Q = Uᴴ R_in U, via T = R_in U.
  const tr = new Float64Array(m * m);
  const ti = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < m; c++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < m; j++) {
        sr += rIn.re[i * m + j] * ur[j * m + c] - rIn.im[i * m + j] * ui[j * m + c];
        si += rIn.re[i * m + j] * ui[j * m + c] + rIn.im[i * m + j] * ur[j * m + c];
      }
      tr[i * m + c] = sr;
      ti[i * m + c] = si;
    }
  }
  const b = s.look;
  for (let r = 0; r < m; r++) {
    p[r] = (b.re[r] ** 2 + b.im[r] ** 2) / s.relative[r];
    for (let c = 0; c < m; c++) {
      let qr = 0;
      let qi = 0;
      for (let i = 0; i < m; i++) {
        // conj(U_ir) T_ic
        qr += ur[i * m + r] * tr[i * m + c] + ui[i * m + r] * ti[i * m + c];
        qi += ur[i * m + r] * ti[i * m + c] - ui[i * m + r] * tr[i * m + c];
      }
      // Re(conj(b_r) Q_rc b_c)
      const [xr, xi] = [b.re[r] * qr + b.im[r] * qi, b.re[r] * qi - b.im[r] * qr];
      k[r * m + c] = (xr * b.re[c] - xi * b.im[c]) / (s.relative[r] * s.relative[c]);
    }
  }
}
