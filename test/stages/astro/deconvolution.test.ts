// The deconvolution material by closed forms: PSNR of an image off by a constant, and skies that
// are the same for the same seed and index and hold the flux they were given.
import { describe, expect, test } from 'vitest';
import { imageScores, simulateSky } from '../../../src/stages/astro/deconvolution.ts';

describe('deconvolution material', () => {
  test('PSNR and flux error of an image off by a constant', () => {
    const reference = Float64Array.from({ length: 100 }, (_, i) => (i === 0 ? 4 : 0));
    const image = reference.map((v) => v + 0.1);
    const s = imageScores(image, reference);
    expect(s.psnr).toBeCloseTo(10 * Math.log10(16 / 0.01), 10);
    expect(s.flux_error).toBeCloseTo(10 / 4, 10); // 100 × 0.1 more than the 4 there is
  });

  test('skies: seeded, each its own stream, points inside the margins', () => {
    const p = { count: 3, npix: 32, points: [2, 2] as [number, number], blobs: [0, 0] as [number, number], flux: [0.5, 0.5] as [number, number], seed: 4, split: { train: 0.7, validation: 0.15 } };
    expect(simulateSky(p, 1)).toEqual(simulateSky(p, 1));
    expect(simulateSky(p, 1)).not.toEqual(simulateSky(p, 2));
    const sky = simulateSky(p, 0);
    expect(sky.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    sky.forEach((v, i) => {
      if (v > 0) for (const c of [i % 32, Math.floor(i / 32)]) expect(c >= 4 && c < 28).toBe(true);
    });
  });
});
