// Micro-Doppler returns of moving, articulated targets: complex baseband slow-time samples (one per
// pulse, one range cell) of a sum of point scatterers (or, for rotor blades, Chen's closed-form
// blade integral), each a·exp(+j 4π/λ · d(t)·l) where d(t) is the scatterer's displacement and l the
// unit vector from the target to the radar: a scatterer moving toward the radar has positive Doppler
// 2/λ · d'·l.
//
//   rigid       3–6 scatterers on one body translating at v; bulk Doppler 2 v cosθ / λ only.
//   rotor       (V. C. Chen, "The Micro-Doppler Effect in Radar", ch. 4) blade k of N at angle
//               θ_k(t) = Ωt + φ0 + 2πk/N, LOS at elevation β to the rotor plane: integrating the
//               blade's points from hub to tip (length L) gives
//                 s_k(t) = g · sinc(a L/2) · exp(j a L/2),   a = 4π/λ · cosβ · sin θ_k(t)
//               (sinc x = sin x / x): a "flash" when a blade is perpendicular to the LOS
//               (sin θ_k = 0), the tip's Doppler ±2ΩL cosβ/λ at most. Blade k flashes at θ_k = 0 and
//               π, twice a turn; with N even, blade k and k + N/2 are opposite and flash together,
//               so a turn has N distinct flashes (period 1/(N·rps)); with N odd none coincide: 2N
//               flashes a turn (period 1/(2N·rps)).
//   multirotor  a drone body and 4 or 6 rotors of 2 small blades at high rpm (each its own rpm).
//   helicopter  a fuselage and a main rotor of 2–5 long blades at low rpm.
//   bird        a body and two wings, each two hinged segments (inner and outer) flapping
//               sinusoidally, the outer lagging: ψ1 = A sin(2πft), ψ2 = ψ1 + A/2 · sin(2πft − π/4).
//   walk / run  a person as 14 body-part point scatterers on a simplified sinusoidal gait after
//               Boulic, Thalmann & Thalmann (1990): relative velocity RV = v / H_t (H_t: leg
//               length), cycle time 1.346/√RV, torso bobbing twice a cycle, hip flexion and knee
//               bending growing with RV, arms swinging against the legs. (Not the published spline
//               trajectories: the same periodicities and orders of amplitude.)
import { Random } from '../../../numeric/random.ts';
import { speedOfLight } from './chirp.ts';

export const microDopplerClasses = ['rigid', 'walk', 'run', 'bird', 'multirotor', 'helicopter'] as const;
export type MicroDopplerClass = (typeof microDopplerClasses)[number];

export interface MicroDopplerSetup {
  prf: number;
  carrierHz: number;
  pulses: number;
}

/** What was drawn for one sample (null where it does not apply to the class). */
export interface MicroDopplerTruth {
  speed_mps: number;
  radial_speed_mps: number;
  aspect_deg: number;
  blades: number | null;
  blade_length_m: number | null;
  rpm: number | null;
  flap_hz: number | null;
  gait_hz: number | null;
}

type Vec = [number, number, number];
const dot = (a: Vec, b: Vec) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const deg = Math.PI / 180;
const between = (r: Random, lo: number, hi: number) => lo + (hi - lo) * r.uniform();

/** A signal being summed: re/im per pulse. */
class Signal {
  readonly re: Float64Array;
  readonly im: Float64Array;
  constructor(readonly setup: MicroDopplerSetup) {
    this.re = new Float64Array(setup.pulses);
    this.im = new Float64Array(setup.pulses);
  }
  get k() { return (4 * Math.PI * this.setup.carrierHz) / speedOfLight; } // 4π/λ
  time(p: number) { return p / this.setup.prf; }
  /** A point scatterer of amplitude `a` whose projection on the LOS (metres toward the radar) is `along(t)`. */
  point(a: number, along: (t: number) => number) {
    for (let p = 0; p < this.re.length; p++) {
      const phase = this.k * along(this.time(p));
      this.re[p] += a * Math.cos(phase);
      this.im[p] += a * Math.sin(phase);
    }
  }
}

/**
 * A rotor's blades (Chen's closed form) on a hub whose LOS projection is `hub(t)`: N blades of length
 * L (m) at `rpm`, the LOS at elevation `beta` (rad) to the rotor plane, blade amplitude g.
 */
export function addRotor(s: Signal, { blades, length, rpm, beta, phase0, g, hub }:
  { blades: number; length: number; rpm: number; beta: number; phase0: number; g: number; hub: (t: number) => number }) {
  const omega = (2 * Math.PI * rpm) / 60;
  for (let p = 0; p < s.re.length; p++) {
    const t = s.time(p);
    const hubPhase = s.k * hub(t);
    for (let b = 0; b < blades; b++) {
      const a = s.k * Math.cos(beta) * Math.sin(omega * t + phase0 + (2 * Math.PI * b) / blades);
      const x = (a * length) / 2;
      const sinc = x === 0 ? 1 : Math.sin(x) / x;
      const phase = hubPhase + x;
      s.re[p] += g * sinc * Math.cos(phase);
      s.im[p] += g * sinc * Math.sin(phase);
    }
  }
}

/** LOS unit vector in a body frame (x forward along the motion, y left, z up): the radar `aspect` off the nose, `elevation` above. */
const los = (aspect: number, elevation: number): Vec => [Math.cos(elevation) * Math.cos(aspect), Math.cos(elevation) * Math.sin(aspect), Math.sin(elevation)];

function rigid(s: Signal, r: Random): MicroDopplerTruth {
  const v = between(r, 1, 15);
  const aspect = between(r, 0, 70) * deg * (r.uniform() < 0.5 ? -1 : 1);
  const l = los(aspect, between(r, 0, 10) * deg);
  const count = 3 + Math.floor(r.uniform() * 4);
  for (let i = 0; i < count; i++) {
    const offset: Vec = [between(r, -2.5, 2.5), between(r, -1, 1), between(r, 0, 1.5)];
    const base = dot(offset, l);
    s.point(between(r, 0.3, 1), (t) => base + v * t * l[0]);
  }
  return { speed_mps: v, radial_speed_mps: v * l[0], aspect_deg: aspect / deg, blades: null, blade_length_m: null, rpm: null, flap_hz: null, gait_hz: null };
}

function multirotor(s: Signal, r: Random): MicroDopplerTruth {
  const v = between(r, 0, 12);
  const aspect = between(r, -180, 180) * deg;
  const elevation = between(r, 0, 30) * deg;
  const l = los(aspect, elevation);
  const rotors = r.uniform() < 0.7 ? 4 : 6;
  const length = between(r, 0.06, 0.2);
  const rpm = between(r, 3000, 8000);
  s.point(1, (t) => v * t * l[0]);
  for (let i = 0; i < rotors; i++) {
    const arm = 1.5 * length + 0.05;
    const angle = (2 * Math.PI * i) / rotors;
    const base = dot([arm * Math.cos(angle), arm * Math.sin(angle), 0], l);
    addRotor(s, { blades: 2, length, rpm: rpm * between(r, 0.95, 1.05), beta: elevation, phase0: between(r, 0, 2 * Math.PI), g: 4 * length, hub: (t) => base + v * t * l[0] });
  }
  return { speed_mps: v, radial_speed_mps: v * l[0], aspect_deg: aspect / deg, blades: 2, blade_length_m: length, rpm, flap_hz: null, gait_hz: null };
}

function helicopter(s: Signal, r: Random): MicroDopplerTruth {
  const v = between(r, 0, 25);
  const aspect = between(r, -180, 180) * deg;
  const elevation = between(r, 0, 25) * deg;
  const l = los(aspect, elevation);
  const blades = 2 + Math.floor(r.uniform() * 4);
  const length = between(r, 4, 7.5);
  const rpm = between(r, 250, 420);
  s.point(1, (t) => v * t * l[0]);
  addRotor(s, { blades, length, rpm, beta: elevation, phase0: between(r, 0, 2 * Math.PI), g: 0.25 * length, hub: (t) => v * t * l[0] });
  return { speed_mps: v, radial_speed_mps: v * l[0], aspect_deg: aspect / deg, blades, blade_length_m: length, rpm, flap_hz: null, gait_hz: null };
}

function bird(s: Signal, r: Random): MicroDopplerTruth {
  const v = between(r, 4, 15);
  const aspect = between(r, -80, 80) * deg;
  const l = los(aspect, between(r, -20, 20) * deg);
  const span = between(r, 0.15, 0.5); // one wing
  const inner = 0.45 * span;
  const outer = span - inner;
  const f = between(r, 3, 10);
  const amplitude = between(r, 30, 60) * deg;
  const phase0 = between(r, 0, 2 * Math.PI);
  const halfBody = 0.04;
  s.point(1, (t) => v * t * l[0] + 0.01 * Math.sin(4 * Math.PI * f * t + phase0) * l[2]);
  for (const side of [1, -1]) {
    for (const [segment, fraction] of [[0, 0.5], [0, 1], [1, 0.5], [1, 1]] as const) {
      s.point(0.25, (t) => {
        const psi1 = amplitude * Math.sin(2 * Math.PI * f * t + phase0);
        const psi2 = psi1 + (amplitude / 2) * Math.sin(2 * Math.PI * f * t + phase0 - Math.PI / 4);
        const y = segment === 0 ? halfBody + fraction * inner * Math.cos(psi1) : halfBody + inner * Math.cos(psi1) + fraction * outer * Math.cos(psi2);
        const z = segment === 0 ? fraction * inner * Math.sin(psi1) : inner * Math.sin(psi1) + fraction * outer * Math.sin(psi2);
        return v * t * l[0] + side * y * l[1] + z * l[2];
      });
    }
  }
  return { speed_mps: v, radial_speed_mps: v * l[0], aspect_deg: aspect / deg, blades: null, blade_length_m: null, rpm: null, flap_hz: f, gait_hz: null };
}

function person(s: Signal, r: Random, running: boolean): MicroDopplerTruth {
  const v = running ? between(r, 2.2, 5) : between(r, 0.6, 1.9);
  const aspect = between(r, 0, 70) * deg * (r.uniform() < 0.5 ? -1 : 1);
  const l = los(aspect, between(r, 0, 10) * deg);
  const height = between(r, 1.5, 1.95);
  const leg = 0.53 * height; // H_t
  const rv = v / leg;
  const cycle = 1.346 / Math.sqrt(rv);
  const w = (2 * Math.PI) / cycle;
  const phase0 = between(r, 0, 2 * Math.PI);
  const hip = (running ? 40 : 12 + 8 * Math.min(rv, 2.3)) * deg;
  const knee = (running ? 100 : 40 + 10 * Math.min(rv, 2.3)) * deg;
  const arm = (running ? 50 : 10 + 10 * Math.min(rv, 2.3)) * deg;
  const elbow = (running ? 90 : 20) * deg;
  const bob = (running ? 0.04 : 0.015 * Math.min(rv, 2.3)) * leg;
  const thigh = 0.245 * height;
  const shin = 0.246 * height;
  const upperArm = 0.186 * height;
  const forearm = 0.146 * height;
  type Part = { a: number; at: (phi: number) => Vec };
  const torsoZ = (phi: number) => bob * Math.cos(2 * phi);
  const surge = (phi: number) => 0.5 * bob * Math.sin(2 * phi);
  const parts: Part[] = [
    { a: 1, at: (phi) => [surge(phi), 0, 0.62 * height + torsoZ(phi)] },
    { a: 0.3, at: (phi) => [surge(phi), 0, 0.93 * height + torsoZ(phi)] },
  ];
  for (const side of [1, -1]) {
    const legPhase = side === 1 ? 0 : Math.PI;
    const lateral = 0.09 * side;
    const hipAngle = (phi: number) => hip * Math.sin(phi + legPhase);
    const kneeAngle = (phi: number) => knee * (0.5 - 0.5 * Math.cos(phi + legPhase + 0.6)) + 5 * deg;
    const kneeAt = (phi: number): Vec => [surge(phi) + thigh * Math.sin(hipAngle(phi)), lateral, leg + torsoZ(phi) - thigh * Math.cos(hipAngle(phi))];
    const shinAt = (phi: number, f: number): Vec => {
      const k = kneeAt(phi);
      const angle = hipAngle(phi) - kneeAngle(phi);
      return [k[0] + f * shin * Math.sin(angle), lateral, k[2] - f * shin * Math.cos(angle)];
    };
    parts.push(
      { a: 0.35, at: (phi) => [surge(phi) + 0.5 * thigh * Math.sin(hipAngle(phi)), lateral, leg + torsoZ(phi) - 0.5 * thigh * Math.cos(hipAngle(phi))] },
      { a: 0.25, at: (phi) => shinAt(phi, 0.5) },
      { a: 0.1, at: (phi) => shinAt(phi, 1) },
    );
    const shoulderZ = 0.818 * height;
    const swing = (phi: number) => -arm * Math.sin(phi + legPhase);
    const elbowAt = (phi: number): Vec => [surge(phi) + upperArm * Math.sin(swing(phi)), 1.9 * lateral, shoulderZ + torsoZ(phi) - upperArm * Math.cos(swing(phi))];
    parts.push(
      { a: 0.2, at: (phi) => [surge(phi) + 0.5 * upperArm * Math.sin(swing(phi)), 1.9 * lateral, shoulderZ + torsoZ(phi) - 0.5 * upperArm * Math.cos(swing(phi))] },
      { a: 0.15, at: (phi) => {
        const e = elbowAt(phi);
        const angle = swing(phi) + elbow;
        return [e[0] + 0.5 * forearm * Math.sin(angle), e[1], e[2] - 0.5 * forearm * Math.cos(angle)];
      } },
    );
  }
  for (const part of parts) s.point(part.a, (t) => v * t * l[0] + dot(part.at(w * t + phase0), l));
  return { speed_mps: v, radial_speed_mps: v * l[0], aspect_deg: aspect / deg, blades: null, blade_length_m: null, rpm: null, flap_hz: null, gait_hz: 1 / cycle };
}

const models: Record<MicroDopplerClass, (s: Signal, r: Random) => MicroDopplerTruth> = {
  rigid, multirotor, helicopter, bird,
  walk: (s, r) => person(s, r, false),
  run: (s, r) => person(s, r, true),
};

/**
 * One sample: the target's echo scaled to mean power 10^(snr/10) over the sample, plus complex white
 * noise of power 1 (SNR per pulse, before any processing); interleaved I/Q.
 */
export function simulateMicroDoppler(kind: MicroDopplerClass, setup: MicroDopplerSetup, snrDb: number | null, r: Random): { iq: Float32Array; truth: MicroDopplerTruth } {
  const s = new Signal(setup);
  const truth = models[kind](s, r);
  let power = 0;
  for (let p = 0; p < setup.pulses; p++) power += s.re[p] ** 2 + s.im[p] ** 2;
  power /= setup.pulses;
  const gain = snrDb === null ? 1 : Math.sqrt(10 ** (snrDb / 10) / power);
  const noise = snrDb === null ? 0 : Math.SQRT1_2;
  const iq = new Float32Array(2 * setup.pulses);
  for (let p = 0; p < setup.pulses; p++) {
    iq[2 * p] = gain * s.re[p] + (noise && noise * r.normal());
    iq[2 * p + 1] = gain * s.im[p] + (noise && noise * r.normal());
  }
  return { iq, truth };
}

export const newSignal = (setup: MicroDopplerSetup) => new Signal(setup);
