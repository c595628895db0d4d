// CFAR factors against their closed forms and against simulation: exponential noise, the
// threshold the factor gives, and the false-alarm rate it actually produces.
import { describe, expect, test } from 'vitest';
import { caFactor, goFactor, goPfa, osFactor, osPfa, soFactor, soPfa } from '../../../../src/stages/radar/lib/cfar-factor.ts';

/** A seeded exponential(1) generator (xorshift32 → uniform → −ln u). */
function exponentials(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return -Math.log((x + 0.5) / 4294967296);
  };
}

/** Observed false alarms of `trials` cells tested against T × estimate(training cells). */
function simulate(trials: number, cells: number, factor: number, estimate: (training: Float64Array) => number, seed: number): number {
  const draw = exponentials(seed);
  const training = new Float64Array(cells);
  let alarms = 0;
  for (let t = 0; t < trials; t++) {
    for (let i = 0; i < cells; i++) training[i] = draw();
    if (draw() > factor * estimate(training)) alarms++;
  }
  return alarms / trials;
}

const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
/** The means of the first `m` cells and of the rest. */
const halves = (a: Float64Array, m = a.length / 2) => [mean(a.subarray(0, m)), mean(a.subarray(m))];

/** A second form for equal halves of n cells, threshold on the half sums (Gandhi & Kassam): Pfa_SO = 2 Σ_{i<n} C(n-1+i, i) (2+T)^-(n+i). */
function soPfaEqualSums(t: number, n: number): number {
  let sum = 0;
  let binomial = 1;
  for (let i = 0; i < n; i++) {
    if (i > 0) binomial = (binomial * (n - 1 + i)) / i;
    sum += binomial * Math.pow(2 + t, -(n + i));
  }
  return 2 * sum;
}

describe('CFAR factors', () => {
  test('CA: the closed form, and Pfa = (1 + T/N)^-N back', () => {
    expect(caFactor(1e-6, 24)).toBeCloseTo(24 * (Math.pow(1e-6, -1 / 24) - 1), 12);
    for (const [pfa, n] of [[1e-3, 8], [1e-6, 32], [1e-4, 1]] as const) {
      expect(Math.pow(1 + caFactor(pfa, n) / n, -n) / pfa).toBeCloseTo(1, 12);
    }
  });

  test('GO, SO and OS give back the requested Pfa from their formulas', () => {
    for (const pfa of [1e-2, 1e-4, 1e-6]) {
      expect(goPfa(goFactor(pfa, 12, 12), 12, 12) / pfa).toBeCloseTo(1, 9);
      expect(soPfa(soFactor(pfa, 12, 12), 12, 12) / pfa).toBeCloseTo(1, 9);
      expect(soPfa(soFactor(pfa, 5, 19), 5, 19) / pfa).toBeCloseTo(1, 9);
      expect(osPfa(osFactor(pfa, 24, 18), 24, 18) / pfa).toBeCloseTo(1, 9);
    }
    // Ordering known from theory: for the same Pfa, SO needs the largest factor on a half sum, GO the smallest.
    expect(soFactor(1e-4, 8, 8)).toBeGreaterThan(goFactor(1e-4, 8, 8));
    // One half empty (the window cut at the map's edge): CA over the other half.
    expect(goFactor(1e-4, 0, 8)).toBe(caFactor(1e-4, 8));
    // With one cell per half, SO's Pfa is 2/(2+T): T = 2/Pfa - 2.
    expect(soFactor(0.01, 1, 1)).toBeCloseTo(198, 9);
  });

  test('SO on means of equal halves agrees with the equal-halves formula on sums (threshold on a sum = T/n)', () => {
    for (const [t, n] of [[0.5, 1], [3, 4], [10, 12], [40, 32]] as const) {
      expect(soPfa(t, n, n) / soPfaEqualSums(t / n, n)).toBeCloseTo(1, 10);
    }
  });

  test('simulated exponential noise gives the requested Pfa (within 4 binomial standard deviations)', () => {
    const pfa = 0.01;
    const trials = 200_000;
    const sigma = Math.sqrt((pfa * (1 - pfa)) / trials);
    const n = 16;
    const cases: [string, number][] = [
      ['ca', simulate(trials, n, caFactor(pfa, n), mean, 1)],
      ['go', simulate(trials, n, goFactor(pfa, n / 2, n / 2), (a) => Math.max(...halves(a)), 2)],
      ['so', simulate(trials, n, soFactor(pfa, n / 2, n / 2), (a) => Math.min(...halves(a)), 3)],
      ['go, halves of 5 and 11', simulate(trials, n, goFactor(pfa, 5, 11), (a) => Math.max(...halves(a, 5)), 5)],
      ['so, halves of 5 and 11', simulate(trials, n, soFactor(pfa, 5, 11), (a) => Math.min(...halves(a, 5)), 6)],
      ['os', simulate(trials, n, osFactor(pfa, n, 12), (a) => Float64Array.from(a).sort()[11], 4)],
    ];
    for (const [method, observed] of cases) expect(Math.abs(observed - pfa), `${method}: observed ${observed}`).toBeLessThan(4 * sigma);
  });

  test('bad arguments are refused with the value', () => {
    expect(() => caFactor(0, 8)).toThrow('pfa must be between 0 and 1, not 0');
    expect(() => osFactor(1e-3, 8, 9)).toThrow('OS-CFAR rank k must be 1..8, not 9');
  });
});
