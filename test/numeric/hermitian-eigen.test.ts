// The Hermitian eigendecomposition against its definition (A v = λ v, V unitary) on random
// matrices, and against the closed-form spectrum of a covariance with one or two jammers.
import { describe, expect, test } from 'vitest';
import { hermitianEigen } from '../../src/numeric/hermitian-eigen.ts';
import { Random } from '../../src/numeric/random.ts';

function randomHermitian(n: number, random: Random) {
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const [a, b] = [random.normal(), i === j ? 0 : random.normal()];
      re[i * n + j] = re[j * n + i] = a;
      im[i * n + j] = b;
      im[j * n + i] = -b;
    }
  }
  return { re, im };
}

/** max |A v_k − λ_k v_k| and max |Vᴴ V − I|. */
function residuals(n: number, a: { re: Float64Array; im: Float64Array }, e: ReturnType<typeof hermitianEigen>) {
  let equation = 0;
  let unitary = 0;
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        sr += a.re[i * n + j] * e.re[j * n + k] - a.im[i * n + j] * e.im[j * n + k];
        si += a.re[i * n + j] * e.im[j * n + k] + a.im[i * n + j] * e.re[j * n + k];
      }
      equation = Math.max(equation, Math.hypot(sr - e.values[k] * e.re[i * n + k], si - e.values[k] * e.im[i * n + k]));
    }
    for (let l = 0; l < n; l++) {
      let sr = 0;
      let si = 0;
      for (let i = 0; i < n; i++) {
        sr += e.re[i * n + k] * e.re[i * n + l] + e.im[i * n + k] * e.im[i * n + l];
        si += e.re[i * n + k] * e.im[i * n + l] - e.im[i * n + k] * e.re[i * n + l];
      }
      unitary = Math.max(unitary, Math.hypot(sr - (k === l ? 1 : 0), si));
    }
  }
  return { equation, unitary };
}

describe('hermitianEigen', () => {
  test('random Hermitian matrices of 2 to 20 rows: A v = λ v and Vᴴ V = I to 1e-12, eigenvalues largest first, trace kept', () => {
    const random = new Random(11);
    for (const n of [2, 3, 5, 8, 14, 20]) {
      const a = randomHermitian(n, random);
      const e = hermitianEigen(n, a.re, a.im);
      const { equation, unitary } = residuals(n, a, e);
      expect(equation).toBeLessThan(1e-12 * n);
      expect(unitary).toBeLessThan(1e-12 * n);
      for (let k = 1; k < n; k++) expect(e.values[k]).toBeLessThanOrEqual(e.values[k - 1]);
      let trace = 0;
      for (let i = 0; i < n; i++) trace += a.re[i * n + i];
      expect(e.values.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 10);
    }
  });

  test('I + J a aᴴ (one 50 dB jammer on 14 elements): eigenvalues 1 + J·M and 1 (13 times), the first eigenvector along a', () => {
    const n = 14;
    const jnr = 1e5;
    const phase = Array.from({ length: n }, (_, i) => Math.PI * i * Math.sin(0.4));
    const re = new Float64Array(n * n);
    const im = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        re[i * n + j] = (i === j ? 1 : 0) + jnr * Math.cos(phase[i] - phase[j]);
        im[i * n + j] = jnr * Math.sin(phase[i] - phase[j]);
      }
    }
    const e = hermitianEigen(n, re, im);
    expect(e.values[0] / (1 + jnr * n)).toBeCloseTo(1, 12);
    for (let k = 1; k < n; k++) expect(e.values[k]).toBeCloseTo(1, 8);
    // |aᴴ u_1|² = M for the unit eigenvector along a (|a|² = M).
    let sr = 0;
    let si = 0;
    for (let i = 0; i < n; i++) {
      sr += Math.cos(phase[i]) * e.re[i * n] + Math.sin(phase[i]) * e.im[i * n];
      si += Math.cos(phase[i]) * e.im[i * n] - Math.sin(phase[i]) * e.re[i * n];
    }
    expect(sr * sr + si * si).toBeCloseTo(n, 9);
  });

  test('two jammers: the two large eigenvalues are those of the 2 × 2 Gram problem in closed form', () => {
    // R = I + J1 a1 a1ᴴ + J2 a2 a2ᴴ: the nonzero eigenvalues of Σ J a aᴴ are those of
    // [[J1 M, √(J1 J2) c], [√(J1 J2) c*, J2 M]] with c = a1ᴴ a2, i.e. (J1+J2)M/2 ± √(((J1−J2)M/2)² + J1 J2 |c|²).
    const n = 14;
    const [j1, j2] = [1e3, 1e2];
    const [u1, u2] = [0.3, -0.5];
    const a = (u: number, i: number) => Math.PI * i * u;
    const re = new Float64Array(n * n);
    const im = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        re[i * n + j] = (i === j ? 1 : 0) + j1 * Math.cos(a(u1, i) - a(u1, j)) + j2 * Math.cos(a(u2, i) - a(u2, j));
        im[i * n + j] = j1 * Math.sin(a(u1, i) - a(u1, j)) + j2 * Math.sin(a(u2, i) - a(u2, j));
      }
    }
    let cr = 0;
    let ci = 0;
    for (let i = 0; i < n; i++) {
      cr += Math.cos(a(u2, i) - a(u1, i));
      ci += Math.sin(a(u2, i) - a(u1, i));
    }
    const c2 = cr * cr + ci * ci;
    const mid = ((j1 + j2) * n) / 2;
    const half = Math.sqrt((((j1 - j2) * n) / 2) ** 2 + j1 * j2 * c2);
    const e = hermitianEigen(n, re, im);
    expect(e.values[0]).toBeCloseTo(1 + mid + half, 8);
    expect(e.values[1]).toBeCloseTo(1 + mid - half, 8);
    for (let k = 2; k < n; k++) expect(e.values[k]).toBeCloseTo(1, 9);
  });
});
