// EUV over-exposure repair by closed forms: harmonic inpainting reproduces discrete-harmonic
// functions and biharmonic inpainting quadratics and cubics exactly inside a masked square; a column
// over-exposed by a known excess bleeds exactly as far as that charge fills; the mask finds core,
// bleed and dilation; masked PSNR and flux error worked by hand.
import { Schema } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../../src/arrow/tensor.ts';
import { inpaint } from '../../../src/stages/astro/inpaint.ts';
import { saturationMaskStage } from '../../../src/stages/astro/saturation-mask.ts';
import { biharmonicInpaint, harmonicInpaint } from '../../../src/stages/astro/lib/inpainting.ts';
import { maskedFluxError, maskedPsnr, maskedSums } from '../../../src/stages/astro/lib/masked-scores.ts';
import { repairInput } from '../../../src/stages/astro/lib/repair-input.ts';
import { overexposeTile, tilesOf } from '../../../src/stages/astro/overexposure-pairs.ts';
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

  test('the network input: image in units of the level, the mask beside', () => {
    expect(Array.from(repairInput([51, 255, 102], [0, 1, 1], 255))).toEqual([0.2, 0, 1, 1, 0.4, 1].map(Math.fround));
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

describe('training material', () => {
  test('tiles: held-out quadrants side by side, training tiles every stride, none across a quadrant edge or overlapping another split', () => {
    const tiles = tilesOf(256, 256, { tile: 64, stride: 32, validation: 1, test: 2 });
    const of = (split: string) => tiles.filter((t) => t.split === split);
    expect(of('test').length).toBe(4); // 2 × 2 tiles of 64 in a 128² quadrant
    expect(of('validation').length).toBe(4);
    expect(of('train').length).toBe(2 * 9); // 3 × 3 starts (0, 32, 64) in each of two quadrants
    expect(of('test').every((t) => t.row >= 128 && t.column + 64 <= 128)).toBe(true);
    const overlap = (a: (typeof tiles)[number], b: (typeof tiles)[number]) => Math.abs(a.row - b.row) < 64 && Math.abs(a.column - b.column) < 64;
    for (const a of of('train')) for (const b of [...of('test'), ...of('validation')]) expect(overlap(a, b)).toBe(false);
  });

  test('an over-exposed tile: the chosen share above the level, clipped and masked, the truth scaled', () => {
    const side = 16;
    // A bright blob in the middle (every value distinct), far enough from the edges that no bleed leaves the tile.
    const tile = Float64Array.from({ length: side * side }, (_, i) => 10 + 90 * Math.exp(-((i % side - 7.6) ** 2 + (Math.floor(i / side) - 8.3) ** 2) / 8) + i * 1e-3);
    const made = overexposeTile(tile, side, 0.05, { level: 255, max_gain: 6, bleed: 1, dilate: 0 })!;
    const above = made.truth.filter((v) => v > 255).length;
    expect(above).toBe(Math.ceil(0.05 * side * side)); // 13 of 256: the quantile pixel and those above it
    expect(made.truth[5] / tile[5]).toBeCloseTo(made.gain, 6);
    expect(Math.max(...made.observed)).toBe(255);
    // Every pixel above the level is masked; the bleed keeps every column's charge (none leaves the tile).
    made.truth.forEach((v, i) => v > 255 && expect(made.mask[i]).toBe(1));
    expect(made.observed.reduce((a, b) => a + b, 0)).toBeCloseTo(made.truth.reduce((a, b) => a + b, 0), 6);
    expect(made.observed[0] === made.truth[0] && made.observed.at(-1) === made.truth.at(-1)).toBe(true);
    // Too dark to saturate without a gain above max_gain: no over-exposure.
    expect(overexposeTile(tile.map((v) => v / 10), side, 0.05, { level: 255, max_gain: 6, bleed: 1, dilate: 0 })).toBeUndefined();
  });
});

describe('the stages', () => {
  const g = { height: 12, width: 10 };
  const schema = new Schema([tensorField('data', { shape: [g.height, g.width], kind: 'float32' })]);
  // Two rows: a saturated pixel with a column bleed on a plane, and the same plane unsaturated.
  const plane = Float32Array.from({ length: 120 }, (_, i) => 20 + 2 * (i % 10) + Math.floor(i / 10));
  const spoiledPlane = plane.map((v, i) => ([45, 55, 65].includes(i) ? 255 : v));
  const batch = makeBatch(schema, [tensorData(schema.fields[0], Float32Array.from([...spoiledPlane, ...plane]), 2)], 2);

  test('astro.saturation-mask then astro.inpaint (harmonic): the plane comes back, the clean row untouched', async () => {
    const maskParams = saturationMaskStage.params.parse({ level: 255, dilate: 0 });
    const maskSchema = saturationMaskStage.outputSchema({ params: maskParams, inputs: [schema], baseDir: '.' });
    const masked = (await (await saturationMaskStage.create(maskParams, { inputSchema: schema, outputSchema: maskSchema, baseDir: '.' }))(batch, { index: 0, key: 'k' }))!;
    expect(Array.from(tensorValues(masked, 'mask').subarray(0, 120)).flatMap((v, i) => (v ? [i] : []))).toEqual([45, 55, 65]);
    const p = inpaint.params.parse({ method: 'harmonic' });
    const outSchema = inpaint.outputSchema({ params: p, inputs: [maskSchema], baseDir: '.' });
    const repaired = tensorValues((await (await inpaint.create(p, { inputSchema: maskSchema, outputSchema: outSchema, baseDir: '.' }))(masked, { index: 0, key: 'k' }))!, 'repaired');
    // A plane is harmonic: rebuilt to float32 precision; the second row had nothing masked.
    plane.forEach((v, i) => expect(repaired[i]).toBeCloseTo(v, 3));
    expect(Array.from(repaired.subarray(120))).toEqual(Array.from(plane));
  });

  test('bad params and columns are refused by name', () => {
    expect(() => inpaint.params.parse({ method: 'model' })).toThrow(/needs an artifact/);
    expect(() => saturationMaskStage.params.parse({ level: 200, bleed_level: 220 })).toThrow(/bleed_level/);
    const cube = new Schema([tensorField('data', { shape: [2, 3, 4], kind: 'float32' })]);
    expect(() => saturationMaskStage.outputSchema({ params: saturationMaskStage.params.parse({ level: 255 }), inputs: [cube], baseDir: '.' })).toThrow(/'data' must be a 2-D image/);
  });
});
