// Keys cubic convolution and block averaging against a second implementation and closed forms:
// PIL's Image.resize(BICUBIC) on a float image (a = −0.5, the same half-pixel alignment) inside the
// image, exact reproduction of quadratics, constants kept to the edges, and block means by hand.
import { describe, expect, test } from 'vitest';
import { bicubicUpsample, blockAverage, keysKernel } from '../../src/numeric/bicubic.ts';

// The 5 × 6 image lr[i][j] = ((7i + 13j) mod 11) − 5 + ij/4, upsampled 4× by PIL 10 (float32 'F' mode):
// Image.fromarray(lr, 'F').resize((24, 20), Image.BICUBIC), rows 6..13 and columns 6..17 — the
// pixels whose four taps along each axis lie inside the image (PIL re-weights at the edges, we repeat the edge pixel).
const pil = [
  [3.70592, 1.50326, -1.20051, -3.40787, -4.22903, -3.89085, -2.98065, -2.04225, -1.53117, -1.22232, -0.96030, -0.65145],
  [3.29339, 1.79709, -0.10079, -1.62731, -2.07045, -1.52866, -0.58269, 0.19141, 0.26698, -0.26884, -1.00558, -1.54140],
  [2.36901, 1.86927, 1.12456, 0.57446, 0.66016, 1.44987, 2.41147, 2.96889, 2.54468, 1.05172, -0.81637, -2.30932],
  [1.29382, 1.66291, 1.95639, 2.29258, 2.84694, 3.83221, 4.78929, 5.17435, 4.40057, 2.24287, -0.41182, -2.56951],
  [0.26835, 1.01077, 1.83308, 2.64263, 3.43406, 4.49337, 5.44459, 5.80834, 5.04967, 2.90951, 0.26824, -1.87662],
  [-1.20617, -0.47364, 0.53483, 1.56545, 2.46784, 3.56023, 4.56870, 5.11056, 4.76214, 3.32834, 1.49296, 0.02894],
  [-2.66525, -2.10777, -1.08367, 0.02435, 0.94236, 1.98861, 3.01270, 3.76086, 3.96276, 3.52552, 2.84331, 2.35571],
  [-3.47240, -3.06178, -2.06368, -0.95750, -0.11919, 0.73724, 1.60642, 2.39571, 3.01257, 3.44416, 3.80014, 4.19883],
];

describe('bicubic upsampling (Keys, a = −0.5)', () => {
  test('the kernel: 1 at 0, 0 at the other integers, weights of any phase sum to 1', () => {
    expect([0, 1, 2, -1, 3].map(keysKernel)).toEqual([1, 0, 0, 0, 0]);
    for (const t of [0.125, 0.375, 0.5, 0.8]) expect(keysKernel(1 + t) + keysKernel(t) + keysKernel(1 - t) + keysKernel(2 - t)).toBeCloseTo(1, 14);
    expect(keysKernel(0.5)).toBeCloseTo(0.5625, 14); // (1.5·0.125 − 2.5·0.25 + 1)
    expect(keysKernel(1.5)).toBeCloseTo(-0.0625, 14); // (−0.5·3.375 + 2.5·2.25 − 4·1.5 + 2)
  });

  test('matches PIL inside the image', () => {
    const [h, w, s] = [5, 6, 4];
    const lr = Float64Array.from({ length: h * w }, (_, k) => {
      const [i, j] = [Math.floor(k / w), k % w];
      return ((i * 7 + j * 13) % 11) - 5 + 0.25 * i * j;
    });
    const hr = bicubicUpsample(lr, h, w, s);
    pil.forEach((row, y) => row.forEach((v, x) => expect(Math.abs(hr[(y + 6) * w * s + x + 6] - v)).toBeLessThan(2e-5)));
  });

  test('reproduces a quadratic exactly inside the image (low-res pixel i has its centre at high-res 4i + 1.5)', () => {
    const [h, w, s] = [7, 9, 4];
    const f = (y: number, x: number) => 3 + 0.7 * x - 1.1 * y + 0.05 * x * x + 0.02 * x * y - 0.03 * y * y;
    // A low-res pixel samples f at its centre, in high-res coordinates ((i + 0.5)·s − 0.5).
    const lr = Float64Array.from({ length: h * w }, (_, k) => f((Math.floor(k / w) + 0.5) * s - 0.5, ((k % w) + 0.5) * s - 0.5));
    const hr = bicubicUpsample(lr, h, w, s);
    for (let y = 6; y <= h * s - 7; y++) for (let x = 6; x <= w * s - 7; x++) expect(hr[y * w * s + x]).toBeCloseTo(f(y, x), 10);
  });

  test('a constant stays constant to the edges; the output is scale times larger', () => {
    const hr = bicubicUpsample(new Float64Array(12).fill(-7.5), 3, 4, 3);
    expect(hr.length).toBe(9 * 12);
    hr.forEach((v) => expect(v).toBeCloseTo(-7.5, 12));
    expect(() => bicubicUpsample(new Float64Array(11), 3, 4, 3)).toThrow(/3 × 4 needs 12 values, not 11/);
  });

  test('block averaging crops to multiples of the factor and takes each block\'s mean', () => {
    // 5 × 7 image of value 10y + x, blocks of 2: block (i, j) holds y ∈ {2i, 2i+1}, x ∈ {2j, 2j+1}: mean 10(2i + 0.5) + 2j + 0.5.
    const image = Float64Array.from({ length: 35 }, (_, k) => 10 * Math.floor(k / 7) + (k % 7));
    const low = blockAverage(image, 5, 7, 2);
    expect(Array.from(low)).toEqual([0, 1, 2, 3, 4, 5].map((k) => 10 * (2 * Math.floor(k / 3) + 0.5) + 2 * (k % 3) + 0.5));
  });
});
