// How a beamformer does on a scene whose truth is known (lib/jammer-scene.ts): its SINR loss
// against the optimum (MVDR with the true covariance) and its null depth toward each jammer, for
// the learned weights beside the classical ones on the same sample covariance — sample-matrix
// MVDR (R̂⁻¹ a), loaded MVDR ((R̂ + σ̂² I)⁻¹ a, σ̂² the median eigenvalue: loading at the noise
// level) — and the conventional beam (a / M).
import type { ComplexVector } from '../../../numeric/hermitian.ts';
import { solveHermitian } from '../../../numeric/hermitian.ts';
import { distortionless, type ComplexMatrix } from './covariance.ts';
import { optimumSinr, relativeGainDb, sinr } from './jammer-scene.ts';
import { spectralWeights, type Spectrum } from './spectral-beamformer.ts';

export const methods = ['learned', 'mvdr_sample', 'mvdr_loaded', 'conventional'] as const;
export type Method = (typeof methods)[number];

export interface SceneMetrics {
  /** SINR loss in dB against the optimum, per method */
  lossDb: Record<Method, number>;
  /** beam gain toward each jammer relative to the look direction, dB, per method */
  nullDb: Record<Method, number[]>;
}

/** The four beamformers' weights for one scene: the learned ones from the network's output `y`. */
export function beamformerWeights(r: ComplexMatrix, s: Spectrum, y: ArrayLike<number>, a: ComplexVector): Record<Method, ComplexVector> {
  const m = a.re.length;
  const loaded = { re: Float64Array.from(r.re), im: r.im };
  const noise = s.eigen.values[0] / s.relative[0];
  for (let i = 0; i < m; i++) loaded.re[i * m + i] += noise;
  return {
    learned: spectralWeights(s, y, a),
    mvdr_sample: distortionless(solveHermitian(m, r.re, r.im, a), a),
    mvdr_loaded: distortionless(solveHermitian(m, loaded.re, loaded.im, a), a),
    conventional: { re: a.re.map((v) => v / m), im: a.im.map((v) => v / m) },
  };
}

export function sceneMetrics(weights: Record<Method, ComplexVector>, a: ComplexVector, rIn: ComplexMatrix, jammers: ComplexVector[]): SceneMetrics {
  const optimum = optimumSinr(a, rIn);
  const lossDb = {} as Record<Method, number>;
  const nullDb = {} as Record<Method, number[]>;
  for (const method of methods) {
    lossDb[method] = 10 * Math.log10(optimum / sinr(weights[method], a, rIn));
    nullDb[method] = jammers.map((b) => relativeGainDb(weights[method], a, b));
  }
  return { lossDb, nullDb };
}

/** Mean and percentiles of `values` (nearest rank). */
export function summary(values: number[]) {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  return { count: sorted.length, mean: sorted.reduce((x, y) => x + y, 0) / sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] };
}

/** The per-method summaries of a set of scenes: SINR loss (dB) and null depth (dB, every jammer of every scene). */
export function methodSummaries(scenes: SceneMetrics[]) {
  return Object.fromEntries(methods.map((method) => [method, {
    sinrLossDb: summary(scenes.map((s) => s.lossDb[method])),
    nullDb: summary(scenes.flatMap((s) => s.nullDb[method])),
  }]));
}
