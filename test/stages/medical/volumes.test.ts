// The medical volume stages by closed forms and second implementations: the seed's uint8 cast
// wrapping against a window; RAS reorientation keeping every voxel's world position; a sphere
// phantom keeping its volume through 0.7 × 0.7 × 2.5 mm → 1 mm; the distance transform against
// brute force; measurements of a known histogram.
import { describe, expect, test } from 'vitest';
import { Random } from '../../../src/numeric/random.ts';
import { hd95, squaredDistances } from '../../../src/stages/medical/lib/distance.ts';
import { windowValues } from '../../../src/stages/medical/hu-window.ts';
import { measureMask } from '../../../src/stages/medical/measure.ts';
import { axisCodes } from '../../../src/numeric/orientation.ts';
import { toRas } from '../../../src/stages/medical/orient.ts';
import { resampleVolume } from '../../../src/stages/medical/resample.ts';
import type { GridVolume } from '../../../src/stages/medical/lib/volume-rows.ts';

const world = (affine: number[], i: number, j: number, k: number) => [0, 1, 2].map((r) => affine[r * 4] * i + affine[r * 4 + 1] * j + affine[r * 4 + 2] * k + affine[r * 4 + 3]);

describe('medical volume stages', () => {
  test('HU window before a uint8 cast: the seed\'s direct cast wraps −1000 HU to 24, the window gives 0', () => {
    const hu = [-1000, -1024, 0, 400, 3000];
    expect(Array.from(Uint8Array.from(hu))).toEqual([24, 0, 0, 144, 184]); // what np.uint8(hu) does
    expect(Array.from(windowValues(hu, -1000, 400, [0, 255])).map(Math.round)).toEqual([0, 0, 182, 255, 255]);
    expect(Array.from(windowValues(hu, -1000, 400))).toEqual([-1000, -1000, 0, 400, 400]);
  });

  test('to RAS: axes permuted and flipped, every voxel where it was in the world', () => {
    // A grid far from RAS: i → anterior, j → superior, k → left.
    const affine = [0, 0, -2, 50, 0.7, 0, 0, -30, 0, 1.5, 0, 10, 0, 0, 0, 1];
    expect(axisCodes(affine)).toEqual(['A', 'S', 'L']);
    const shape = [4, 5, 6]; // k, j, i
    const values = Float32Array.from({ length: 120 }, (_, n) => n);
    const v: GridVolume = { values, shape, affine, spacing: [2, 1.5, 0.7] };
    const ras = toRas(v);
    expect(axisCodes(ras.affine)).toEqual(['R', 'A', 'S']);
    expect(ras.shape).toEqual([5, 6, 4]);
    expect(ras.spacing).toEqual([1.5, 0.7, 2]);
    const [nk, nj, ni] = ras.shape;
    for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) {
      const value = ras.values[(k * nj + j) * ni + i];
      const [oi, oj, ok] = [value % 6, Math.floor(value / 6) % 5, Math.floor(value / 30)];
      expect(world(ras.affine, i, j, k)).toEqual(world(affine, oi, oj, ok));
    }
  });

  test('a sphere phantom keeps its volume within 5 % from 0.7 × 0.7 × 2.5 mm to 1 mm', () => {
    const radius = 20;
    const spacing = [0.7, 0.7, 2.5]; // i, j, k
    const dims = [80, 80, 24];
    const centre = dims.map((n, a) => ((n - 1) * spacing[a]) / 2);
    const values = new Float32Array(dims[0] * dims[1] * dims[2]);
    for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) {
      const d = Math.hypot(i * spacing[0] - centre[0], j * spacing[1] - centre[1], k * spacing[2] - centre[2]);
      values[(k * dims[1] + j) * dims[0] + i] = d <= radius ? 1 : 0;
    }
    const v: GridVolume = { values, shape: [dims[2], dims[1], dims[0]], affine: [0.7, 0, 0, 0, 0, 0.7, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1], spacing: [2.5, 0.7, 0.7] };
    const truth = (4 / 3) * Math.PI * radius ** 3;
    const volumeOf = (g: GridVolume, above: number) => g.values.reduce((a, x) => a + (x > above ? 1 : 0), 0) * g.spacing.reduce((a, b) => a * b, 1);
    expect(Math.abs(volumeOf(v, 0.5) / truth - 1)).toBeLessThan(0.05);
    const nearest = resampleVolume(v, [1, 1, 1], 'nearest');
    const linear = resampleVolume(v, [1, 1, 1], 'linear');
    expect(nearest.spacing).toEqual([1, 1, 1]);
    expect(nearest.affine).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    expect(nearest.shape).toEqual([58, 56, 56]); // (24 − 1) × 2.5 + 1, (80 − 1) × 0.7 + 1
    expect(Math.abs(volumeOf(nearest, 0.5) / truth - 1)).toBeLessThan(0.05);
    expect(Math.abs(volumeOf(linear, 0.5) / truth - 1)).toBeLessThan(0.05);
    // Nearest keeps labels; linear makes the values in between.
    expect(new Set(nearest.values)).toEqual(new Set([0, 1]));
  });

  test('the distance transform equals brute force on an anisotropic grid; HD95 of two offset cubes', () => {
    const dims = [9, 7, 5];
    const spacing = [0.5, 1.2, 3];
    const random = new Random(4);
    const feature = Uint8Array.from({ length: 315 }, () => (random.uniform() < 0.05 ? 1 : 0));
    const d = squaredDistances(feature, dims, spacing);
    for (let p = 0; p < 315; p++) {
      let best = Infinity;
      for (let q = 0; q < 315; q++) {
        if (!feature[q]) continue;
        const a = [p % 9 - q % 9, Math.floor(p / 9) % 7 - Math.floor(q / 9) % 7, Math.floor(p / 63) - Math.floor(q / 63)];
        best = Math.min(best, a.reduce((s, x, i) => s + (x * spacing[i]) ** 2, 0));
      }
      expect(d[p]).toBeCloseTo(best, 9);
    }
    // Two 4-voxel cubes one voxel apart along i at 1 mm: every surface distance is 0 or 1 mm.
    const cube = (shift: number) => Uint8Array.from({ length: 1000 }, (_, p) => {
      const [i, j, k] = [p % 10, Math.floor(p / 10) % 10, Math.floor(p / 100)];
      return i >= 3 + shift && i < 7 + shift && j >= 3 && j < 7 && k >= 3 && k < 7 ? 1 : 0;
    });
    expect(hd95(cube(0), cube(1), [10, 10, 10], [1, 1, 1])).toBe(1);
    expect(hd95(cube(0), cube(0), [10, 10, 10], [1, 1, 1])).toBe(0);
  });

  test('measurements of a known histogram: volume, mean, numpy-style percentiles, emphysema index', () => {
    const values = [-1000, -960, -940, -900, -850, -800, -700, -600, -500, 0];
    const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0];
    const m = measureMask(values, mask, 0.027, -950);
    expect(m.voxels).toBe(9);
    expect(m.volume_ml).toBeCloseTo(0.243, 12);
    expect(m.mean_hu).toBeCloseTo(-7250 / 9, 9);
    // numpy 1.24: percentile([-1000, -960, -940, -900, -850, -800, -700, -600, -500], 15) = -956.0
    expect(m.p15_hu).toBeCloseTo(-956, 9);
    expect(m.median_hu).toBe(-850);
    expect(m.emphysema_index).toBeCloseTo(2 / 9, 12);
  });
});
