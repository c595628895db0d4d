// The FFT against the DFT sum computed directly, for powers of two and for other lengths
// (Bluestein), and forward-then-inverse giving the input back.
import { describe, expect, test } from 'vitest';
import { fftPlan } from '../../src/numeric/fft.ts';
import { Random } from '../../src/numeric/random.ts';

function dft(re: Float64Array, im: Float64Array) {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const angle = (-2 * Math.PI * ((j * k) % n)) / n;
      outRe[k] += re[j] * Math.cos(angle) - im[j] * Math.sin(angle);
      outIm[k] += re[j] * Math.sin(angle) + im[j] * Math.cos(angle);
    }
  }
  return { re: outRe, im: outIm };
}

describe('fft', () => {
  test.each([1, 2, 8, 16, 64, 3, 5, 403, 404, 1000])('length %i equals the direct DFT to 1e-9 of the largest value', (n) => {
    const random = new Random(n);
    const re = Float64Array.from({ length: n }, () => random.normal());
    const im = Float64Array.from({ length: n }, () => random.normal());
    const expected = dft(re, im);
    const plan = fftPlan(n);
    const gotRe = re.slice();
    const gotIm = im.slice();
    plan.forward(gotRe, gotIm);
    const scale = Math.max(...expected.re.map(Math.abs), ...expected.im.map(Math.abs));
    for (let k = 0; k < n; k++) {
      expect(Math.abs(gotRe[k] - expected.re[k])).toBeLessThan(1e-9 * scale);
      expect(Math.abs(gotIm[k] - expected.im[k])).toBeLessThan(1e-9 * scale);
    }
    plan.inverse(gotRe, gotIm);
    for (let j = 0; j < n; j++) {
      expect(gotRe[j]).toBeCloseTo(re[j], 10);
      expect(gotIm[j]).toBeCloseTo(im[j], 10);
    }
  });

  test('a plan is built once per length', () => {
    expect(fftPlan(403)).toBe(fftPlan(403));
    expect(() => fftPlan(0)).toThrow('FFT length must be a positive whole number, not 0');
  });
});
