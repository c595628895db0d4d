// Simulated nodules against closed forms: the error function; a blurred ball's volume,
// ∫Φ((r − |x|)/w) dx = (4/3)π(r³ + 3rw²) (the third moment of a normal of mean r and variance w²,
// exponentially small terms left out), on 1-mm and 3-mm voxels; the HU at the centre and in the
// ground-glass ring; and placement: every centre in the search region (one lung), deep enough
// inside the mask, no two nodules overlapping, diameters in range.
import { describe, expect, test } from 'vitest';
import { erfc, normalCdf } from '../../../src/numeric/erf.ts';
import { Random } from '../../../src/numeric/random.ts';
import { depthInside, drawNodules, implant, sideOf, type Nodule, type VoxelGrid } from '../../../src/stages/medical/lib/nodules.ts';
import { insertNodules } from '../../../src/stages/medical/insert-nodules.ts';

const lungHu = -850;

/** A flat −850 HU cube of n³ voxels of `s` mm, on an axis-aligned RAS grid. */
function flatVolume(n: number, s: number): { values: Float32Array; grid: VoxelGrid } {
  return { values: new Float32Array(n ** 3).fill(lungHu), grid: { dims: [n, n, n], spacing: [s, s, s], affine: [s, 0, 0, 0, 0, s, 0, 0, 0, 0, s, 0, 0, 0, 0, 1] } };
}

const nodule = (over: Partial<Nodule>): Nodule => ({
  nodule: 1, kind: 'solid', diameter_mm: 12, core_diameter_mm: 12, core_hu: 50, halo_hu: null, i: 0, j: 0, k: 0, x_mm: 0, y_mm: 0, z_mm: 0, ...over,
});

/** The nodule's volume in mm³: each voxel's share of the way from lung to `hu`. */
const lesionVolume = (values: Float32Array, grid: VoxelGrid, hu: number) => values.reduce((sum, v) => sum + (v - lungHu) / (hu - lungHu), 0) * grid.spacing[0] ** 3;

describe('simulated nodules', () => {
  test('erfc and Φ match tabulated values to 1.2e-7', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1)).toBeCloseTo(0.8413447461, 7);
    expect(normalCdf(-2)).toBeCloseTo(0.0227501319, 7);
    expect(erfc(0.5)).toBeCloseTo(0.4795001222, 7);
    expect(erfc(-1.5)).toBeCloseTo(1.9661051465, 7);
  });

  test.each([[1, 6, 0.7, 0.01], [1, 2.5, 0.7, 0.02], [3, 7.5, 0.7, 0.03], [3, 2, 0.7, 0.08]])(
    'on %d-mm voxels a solid nodule of radius %d mm (edge %d mm) holds (4/3)π(r³ + 3rw²) within %d', (s, r, w, tolerance) => {
      const n = Math.ceil((2 * r + 8 * w) / s) + 4;
      const { values, grid } = flatVolume(n, s);
      const c = (n - 1) / 2 + 0.3; // off the voxel centres
      implant(values, grid, nodule({ diameter_mm: 2 * r, core_diameter_mm: 2 * r, i: c, j: c - 0.1, k: c + 0.2 }), { edgeMm: w, noiseHu: 0 }, new Random(1));
      const truth = (4 / 3) * Math.PI * (r ** 3 + 3 * r * w * w);
      expect(Math.abs(lesionVolume(values, grid, 50) / truth - 1)).toBeLessThan(tolerance);
    });

  test('a part-solid nodule: core HU at the centre, ground glass in the ring, lung outside', () => {
    const { values, grid } = flatVolume(41, 0.5);
    implant(values, grid, nodule({ kind: 'part-solid', diameter_mm: 16, core_diameter_mm: 6, core_hu: 80, halo_hu: -450, i: 20, j: 20, k: 20 }), { edgeMm: 0.7, noiseHu: 0 }, new Random(1));
    const at = (i: number, j: number, k: number) => values[(k * 41 + j) * 41 + i];
    expect(at(20, 20, 20)).toBeCloseTo(80, 0); // Φ(3 / 0.7) of the core, 1 − 1e-5
    expect(at(20 + 11, 20, 20)).toBeCloseTo(-450, 0); // 5.5 mm: 2.5 mm out of the core, 2.5 mm inside the edge
    expect(at(20, 20, 0)).toBeCloseTo(lungHu + 400 * normalCdf(-2 / 0.7), 0); // 10 mm: 2 mm = 2.9 w outside the edge
    // On the edge, half the ground glass (Φ(0)), within 2 HU: the voxel's 27 points straddle a curved edge.
    expect(Math.abs(at(20 + 16, 20, 20) - (lungHu + -450) / 2)).toBeLessThan(2);
  });

  test('placement: centres in the chosen lung, at least min(r, fit) inside the mask, no overlaps; the stage is repeatable', () => {
    // Two ellipsoidal "lungs" of 3-mm voxels either side of x = 0.
    const n = [40, 24, 16];
    const grid: VoxelGrid = { dims: n, spacing: [3, 3, 3], affine: [3, 0, 0, -60, 0, 3, 0, -36, 0, 0, 3, -24, 0, 0, 0, 1] };
    const mask = new Float32Array(n[0] * n[1] * n[2]);
    for (let k = 0, p = 0; k < n[2]; k++) for (let j = 0; j < n[1]; j++) for (let i = 0; i < n[0]; i++, p++) {
      const [x, y, z] = [3 * i - 60, 3 * j - 36, 3 * k - 24];
      mask[p] = Math.hypot((Math.abs(x) - 30) / 24, y / 30, z / 20) <= 1 ? 1 : 0;
    }
    const values = Float32Array.from(mask, (m) => (m ? lungHu : 40));
    const p = { count: 4, copies: 1, diameter_mm: [3, 30] as [number, number], kinds: ['solid', 'part-solid'] as ('solid' | 'part-solid')[], side: 'left' as const, edge_mm: 0.7, noise_hu: 15, fit_mm: 6, seed: 5, mask: 'mask' };
    const binary = Uint8Array.from(mask);
    const depth = depthInside(binary, grid);
    expect(sideOf(binary, grid, 'left').reduce((a, b) => a + b, 0)).toBe(binary.reduce((a, b) => a + b, 0) / 2);
    const copies = insertNodules(values, mask, grid, p, [0, 1, 2, 3, 4]);
    for (const [copy, { nodules, region, values: out }] of copies.entries()) {
      expect(nodules).toHaveLength(4);
      for (const [a, q] of nodules.entries()) {
        expect(q.diameter_mm).toBeGreaterThanOrEqual(3);
        expect(q.diameter_mm).toBeLessThanOrEqual(30);
        expect(q.x_mm).toBeGreaterThan(0); // the patient's left (RAS +x)
        const voxel = Math.round(q.k) * n[0] * n[1] + Math.round(q.j) * n[0] + Math.round(q.i);
        expect(region[voxel]).toBe(1);
        expect(depth[voxel]).toBeGreaterThanOrEqual(Math.min(q.diameter_mm / 2, 6));
        for (const other of nodules.slice(a + 1)) expect(Math.hypot(q.x_mm - other.x_mm, q.y_mm - other.y_mm, q.z_mm - other.z_mm)).toBeGreaterThanOrEqual((q.diameter_mm + other.diameter_mm) / 2);
      }
      expect(insertNodules(values, mask, grid, p, [copy])[0].values).toEqual(out);
    }
    expect(() => drawNodules(new Uint8Array(binary.length), depth, grid, { count: 1, diameterMm: [3, 30], kinds: ['solid'], edgeMm: 0.7, noiseHu: 0, fitMm: 6 }, new Random(1)))
      .toThrow(/no room for nodule 1/);
  });
});
