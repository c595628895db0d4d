// Simulated jamming scenes for an adaptive array, and what their known truth lets us measure.
// A scene is white noise of power 1 per channel plus 1–3 broadband noise jammers (each the same
// on every channel up to the plane-wave phase, as lib/simulate.ts makes them), and optionally weaker
// interferers besides, seen in `snapshots`
// independent snapshots, with a look direction. Its interference-plus-noise covariance is known in
// closed form, R_in = I + Σ_j JNR_j a_j a_jᴴ, so every beamformer's SINR can be computed exactly:
//   SINR(w) = |wᴴ a|² / (wᴴ R_in w)   (a signal of power 1 from the look direction, steering a)
// and the optimum, reached by MVDR with the true covariance, w ∝ R_in⁻¹ a, is aᴴ R_in⁻¹ a.
import { solveHermitian, type ComplexVector } from '../../../numeric/hermitian.ts';
import type { Random } from '../../../numeric/random.ts';
import { innerProduct, matrixVector, type ComplexMatrix } from './covariance.ts';
import { simulateCpi } from './simulate.ts';
import { speedOfLight } from './chirp.ts';

export interface Jammer {
  angleDeg: number;
  jnrDb: number;
}

export interface Scene {
  lookDeg: number;
  jammers: Jammer[];
  snapshots: number;
}

export interface SceneRanges {
  channels: number;
  /** element spacing over wavelength */
  spacing: number;
  jammers: [number, number];
  jnrDb: [number, number];
  lookDeg: [number, number];
  /** jammers arrive within ±this angle of broadside */
  maxAngleDeg: number;
  snapshots: [number, number];
  /** weaker interferers drawn after the rest, [fewest, most] and their JNR range (none if absent) */
  weakJammers?: [number, number];
  weakJnrDb?: [number, number];
}

const sinDeg = (deg: number) => Math.sin((deg * Math.PI) / 180);

/**
 * One scene drawn from `ranges`: look direction uniform in angle, jammer count uniform, JNR uniform
 * in dB, jammer directions uniform in sin θ but outside the look direction's main lobe (|Δ sin θ| at
 * least λ/(M d), the first null: a jammer inside it cannot be nulled without nulling the look
 * direction), snapshot count log-uniform; then the weak interferers, if asked for, drawn alike.
 */
export function drawScene(random: Random, r: SceneRanges): Scene {
  const uniform = ([low, high]: [number, number]) => low + (high - low) * random.uniform();
  const lookDeg = uniform(r.lookDeg);
  const mainLobe = 1 / (r.channels * r.spacing);
  const edge = sinDeg(r.maxAngleDeg);
  const jammers: Jammer[] = [];
  const draw = (counts: [number, number], jnrDb: [number, number]) => {
    const count = counts[0] + Math.floor(random.uniform() * (counts[1] - counts[0] + 1));
    for (let drawn = 0; drawn < count;) {
      const u = uniform([-edge, edge]);
      if (Math.abs(u - sinDeg(lookDeg)) < mainLobe) continue;
      jammers.push({ angleDeg: (Math.asin(u) * 180) / Math.PI, jnrDb: uniform(jnrDb) });
      drawn++;
    }
  };
  draw(r.jammers, r.jnrDb);
  const snapshots = Math.round(Math.exp(uniform([Math.log(r.snapshots[0]), Math.log(r.snapshots[1])])));
  if (r.weakJammers) draw(r.weakJammers, r.weakJnrDb ?? r.jnrDb);
  return { lookDeg, jammers, snapshots };
}

/** The scene's snapshots, channel-major (lib/simulate.ts with one pulse of `snapshots` samples); geometry of an array at `centerHz`. */
export function simulateSnapshots(scene: Scene, channels: number, spacing: number, random: Random): Float32Array {
  const centerHz = 1e9;
  return simulateCpi({
    pulses: 1, samples: scene.snapshots, channels, sample_rate_hz: 1, pri_s: 1, center_frequency_hz: centerHz,
    element_spacing_m: (spacing * speedOfLight) / centerHz, record_gate_start_s: 0,
    jammers: scene.jammers.map((j) => ({ angle_deg: j.angleDeg, jnr_db: j.jnrDb })), targets: [],
  }, random).data;
}

/** R_in = I + Σ JNR_j a_j a_jᴴ. */
export function interferenceCovariance(scene: Scene, steer: (angleDeg: number) => ComplexVector, channels: number): ComplexMatrix {
  const m = channels;
  const re = new Float64Array(m * m);
  const im = new Float64Array(m * m);
  for (let i = 0; i < m; i++) re[i * m + i] = 1;
  for (const j of scene.jammers) {
    const a = steer(j.angleDeg);
    const jnr = Math.pow(10, j.jnrDb / 10);
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < m; c++) {
        re[r * m + c] += jnr * (a.re[r] * a.re[c] + a.im[r] * a.im[c]);
        im[r * m + c] += jnr * (a.im[r] * a.re[c] - a.re[r] * a.im[c]);
      }
    }
  }
  return { re, im };
}

/** SINR of weights `w` for a unit-power signal with steering `a` in interference `rIn`. */
export function sinr(w: ComplexVector, a: ComplexVector, rIn: ComplexMatrix): number {
  const gain = innerProduct(w, a);
  return (gain.re ** 2 + gain.im ** 2) / innerProduct(w, matrixVector(rIn, w)).re;
}

/** The optimum SINR aᴴ R_in⁻¹ a (MVDR with the true covariance). */
export function optimumSinr(a: ComplexVector, rIn: ComplexMatrix): number {
  return innerProduct(a, solveHermitian(a.re.length, rIn.re, rIn.im, a)).re;
}

/** The beam pattern at steering `b` relative to the look direction's gain, in dB: |wᴴ b|² / |wᴴ a|². */
export function relativeGainDb(w: ComplexVector, a: ComplexVector, b: ComplexVector): number {
  const g = innerProduct(w, b);
  const g0 = innerProduct(w, a);
  return 10 * Math.log10((g.re ** 2 + g.im ** 2) / (g0.re ** 2 + g0.im ** 2));
}
