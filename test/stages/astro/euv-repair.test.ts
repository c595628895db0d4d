// EUV over-exposure repair by closed forms: harmonic inpainting reproduces discrete-harmonic
// functions and biharmonic inpainting quadratics and cubics exactly inside a masked square; a column
// over-exposed by a known excess bleeds exactly as far as that charge fills; the mask finds core,
// bleed and dilation; masked PSNR and flux error worked by hand.
import { describe, expect, test } from 'vitest';
import { biharmonicInpaint, harmonicInpaint } from '../../../src/stages/astro/lib/inpainting.ts';
import { maskedFluxError, maskedPsnr, maskedSums } from '../../../src/stages/astro/lib/masked-scores.ts';
import { repairInput } from '../../../src/stages/astro/lib/repair-input.ts';
import { overexpose, saturationMask } from '../../../src/stages/astro/lib/saturation.ts';

const grid = { height: 24, width: 20 };
const sample = (f: (x: number, y: number) => number) => Float64Array.from({ length: grid.height * grid.width }, (_, i) => f(i % grid.width, Math.floor(i / grid.width)));
/** A 7 × 9 masked block, away from the edges. */
const block = sample((x, y) => (x >= 6 && x < 13 && y >= 8 && y < 17 ? 1 : 0));
const maxError = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
/** The image with the masked pixels spoiled (as saturation would). */
const spoiled = (truth: Float64Array, mask: Float64Array) => truth.map((v, i) => (mask[i] ? 255 : v));

describe('inpainting', () => {
  test('harmonic: a + bx + cy + dxy + e(x² − y²) (discretely harmonic) is rebuilt exactly', () => {
    const truth = sample((x, y) => 40 + 3 * x - 2 * y + 0.5 * x * y + 0.25 * (x * x - y * y));
    expect(maxError(harmonicInpaint(spoiled(truth, block), block, grid), truth)).toBeLessThan(1e-8);
  });

  test('biharmonic: quadratics and cubics are rebuilt exactly; harmonic cannot rebuild x² + y²', () => {
    const bowl = sample((x, y) => 10 + (x - 9) ** 2 + (y - 12) ** 2);
    const cubic = sample((x, y) => 100 + 0.1 * x ** 3 - 0.05 * x * x * y + 0.02 * y ** 3 + x * y);
    expect(maxError(biharmonicInpaint(spoiled(bowl, block), block, grid), bowl)).toBeLessThan(1e-6);
    expect(maxError(biharmonicInpaint(spoiled(cubic, block), block, grid), cubic)).toBeLessThan(1e-6);
    // Δ(x² + y²) = 4: the harmonic fill (Δu = 0) must differ from it.
    expect(maxError(harmonicInpaint(spoiled(bowl, block), block, grid), bowl)).toBeGreaterThan(1);
  });

  test('unmasked pixels are returned unchanged, and a mask over everything is refused', () => {
    const truth = sample((x, y) => x * 7 + y);
    const filled = harmonicInpaint(spoiled(truth, block), block, grid);
    truth.forEach((v, i) => block[i] || expect(filled[i]).toBe(v));
    expect(() => harmonicInpaint(truth, truth.map(() => 1), grid)).toThrow(/covers the whole image/);
  });
});

describe('over-exposure', () => {
  test('a column with excess 3 × level spills 1.5 levels each way: one pixel full, the next half', () => {
    const g = { height: 21, width: 1 };
    const truth = new Float64Array(21);
    truth[10] = 4 * 100; // level 100: excess 300
    const observed = overexpose(truth, g, 100, 1);
    expect(Array.from(observed.slice(7, 14))).toEqual([0, 50, 100, 100, 100, 50, 0]);
    expect(observed.reduce((a, b) => a + b, 0)).toBe(400); // charge kept
    // Half the excess drained: 75 each way.
    expect(Array.from(overexpose(truth, g, 100, 0.5).slice(8, 13))).toEqual([0, 75, 100, 75, 0]);
  });

  test('the mask: saturated core, its column bleed down to bleed_level, then dilation', () => {
    const g = { height: 12, width: 9 };
    const image = new Float64Array(12 * 9).fill(10);
    const at = (y: number, x: number) => y * 9 + x;
    [[5, 4], [6, 4], [5, 5]].forEach(([y, x]) => (image[at(y, x)] = 255));
    [3, 4, 7, 8].forEach((y) => (image[at(y, 4)] = 200)); // bleed up and down column 4
    image[at(9, 4)] = 150; // too faint to count
    image[at(2, 1)] = 220; // bright, but no saturated pixel in its run
    const masked = (m: Uint8Array) => [...m.keys()].filter((i) => m[i]).map((i) => [Math.floor(i / 9), i % 9]);
    expect(masked(saturationMask(image, g, { level: 255, dilate: 0 }))).toEqual([[5, 4], [6, 4], [5, 5]].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    expect(masked(saturationMask(image, g, { level: 255, bleedLevel: 180, dilate: 0 }))).toEqual([[3, 4], [4, 4], [5, 4], [5, 5], [6, 4], [7, 4], [8, 4]]);
    const dilated = saturationMask(image, g, { level: 255, bleedLevel: 180, dilate: 1 });
    // Rows 2..9, columns 3..5, and column 6 on rows 4..6 (around (5, 5)).
    expect(dilated.reduce((a, b) => a + b, 0)).toBe(8 * 3 + 3);
    expect(dilated[at(9, 4)] && dilated[at(4, 6)] && !dilated[at(3, 6)] && !dilated[at(10, 4)]).toBeTruthy();
  });

  test('the network input: image in units of the level, masked pixels at 1, the mask beside', () => {
    expect(Array.from(repairInput([51, 255, 102], [0, 1, 0], 255))).toEqual([0.2, 0, 1, 1, 0.4, 0].map(Math.fround));
  });
});

describe('masked scores', () => {
  test('PSNR and flux error over the masked pixels only, worked by hand', () => {
    const reference = [100, 200, 50, 0];
    const image = [110, 190, 50, 999]; // the last pixel is outside the mask
    const s = maskedSums(image, reference, [1, 1, 1, 0]);
    expect(s).toEqual({ pixels: 3, squaredError: 200, flux: 350, referenceFlux: 350 });
    // MSE 200 / 3; peak 255: 10 log10(255² × 3 / 200) = 29.8920... dB.
    expect(maskedPsnr(s, 255)).toBeCloseTo(10 * Math.log10((65025 * 3) / 200), 12);
    expect(maskedPsnr(s, 255)).toBeCloseTo(29.892, 3);
    expect(maskedFluxError(maskedSums([120, 200, 50], reference, [1, 1, 1]))).toBeCloseTo(20 / 350, 12);
  });
});
