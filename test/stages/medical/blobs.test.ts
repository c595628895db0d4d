// The Laplacian-of-Gaussian blob detector against its closed form. For a ball of radius r and
// contrast c, −σ²∇²(G_σ ∗ ball) at the centre is σ² times minus the flux of ∇G through the
// sphere: c · 4π r³ (2π)^(−3/2) σ^(−3) exp(−r²/2σ²), largest at σ = r/√3. A Gaussian blob
// exp(−|x|²/2s²) gives 3c σ² s³ / (σ² + s²)^(5/2) there. The detector must find the ball at its
// centre, at the scale nearest r/√3, and nothing outside its search region.
import { describe, expect, test } from 'vitest';
import { detectBlobs, scaleNormalisedLog } from '../../../src/stages/medical/lib/blobs.ts';
import { scaleSigmas } from '../../../src/stages/medical/blob-candidates.ts';
import { ballShare } from '../../../src/stages/medical/lib/nodules.ts';

const n = 49;
const c = 24;
const grid = { dims: [n, n, n], spacing: [1, 1, 1] };
const ballResponse = (r: number, sigma: number) => 4 * Math.PI * r ** 3 * (2 * Math.PI) ** -1.5 * sigma ** -3 * Math.exp(-(r * r) / (2 * sigma * sigma));

/** A volume of 1-mm voxels: 0 outside, `contrast` × the share of each voxel inside a ball of radius r at the centre. */
function ball(r: number, contrast: number): Float32Array {
  const values = new Float32Array(n ** 3);
  for (let k = 0, p = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++, p++) values[p] = contrast * ballShare(i, j, k, [c, c, c], r, 0, grid.spacing);
  return values;
}

describe('LoG blob detector', () => {
  test('a ball of radius 7 mm: the response at its centre follows the closed form within 1.5 % at σ = 3 to 6 mm', () => {
    const values = ball(7, 1000);
    // (Below σ = 3 mm the response is a tiny tail, e^(−r²/2σ²), that 1-mm voxels do not resolve.)
    for (const sigma of [3, 4, 7 / Math.sqrt(3), 5, 6]) {
      const got = scaleNormalisedLog(values, grid, sigma)[(c * n + c) * n + c];
      expect(Math.abs(got / (1000 * ballResponse(7, sigma)) - 1)).toBeLessThan(0.015);
    }
    // Largest at r/√3, where it is 4π · 3^1.5 (2π)^−1.5 e^−1.5 = 0.925 of the contrast.
    expect(ballResponse(7, 7 / Math.sqrt(3))).toBeCloseTo(0.9251, 4);
  });

  test('a Gaussian blob of s = 3 mm follows 3cσ²s³/(σ² + s²)^2.5 within 2 % (second differences read 1-2 % low)', () => {
    const values = new Float32Array(n ** 3);
    for (let k = 0, p = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++, p++) values[p] = 500 * Math.exp(-((i - c) ** 2 + (j - c) ** 2 + (k - c) ** 2) / 18);
    for (const sigma of [2, 3 * Math.sqrt(2 / 3), 4]) {
      const got = scaleNormalisedLog(values, grid, sigma)[(c * n + c) * n + c];
      expect(Math.abs(got / ((3 * 500 * sigma ** 2 * 27) / (sigma ** 2 + 9) ** 2.5) - 1)).toBeLessThan(0.02);
    }
  });

  test('detection: the ball is found at its centre at the scale nearest r/√3; outside the region nothing is', () => {
    const values = ball(6, 800);
    const sigmas = scaleSigmas({ radii_mm: [2, 12], scales: 11 });
    const region = new Uint8Array(n ** 3).fill(1);
    const [best, ...rest] = detectBlobs(values, grid, region, sigmas, 50, 10);
    expect([best.i, best.j, best.k]).toEqual([c, c, c]);
    const nearest = sigmas.reduce((a, b) => (Math.abs(b - 6 / Math.sqrt(3)) < Math.abs(a - 6 / Math.sqrt(3)) ? b : a));
    expect(best.sigma_mm).toBe(nearest);
    expect(best.radius_mm).toBeCloseTo(nearest * Math.sqrt(3), 10);
    expect(Math.abs(best.score / (800 * ballResponse(6, nearest)) - 1)).toBeLessThan(0.03);
    // The ball is the only blob above threshold: anything else is a weaker ring artefact.
    for (const other of rest) expect(other.score).toBeLessThan(best.score / 2);
    const elsewhere = Uint8Array.from(region, (_, p) => (p % n < 10 ? 1 : 0)); // i < 10: 14 mm from the centre, 8 from the edge
    expect(detectBlobs(values, grid, elsewhere, sigmas, 50, 10).filter((b) => b.score > 0.5 * best.score)).toEqual([]);
  });
});
