// Aperture synthesis by closed forms: with samples on cell centres the dirty image is exactly the
// sky convolved with the dirty beam; the beam peaks at 1 at the centre; CLEAN takes a sky of
// point sources apart into components holding their flux; the clean beam of a Gaussian is itself.
import { describe, expect, test } from 'vitest';
import { Random } from '../../../../src/numeric/random.ts';
import { cleanBeam, convolve, dirtyImage, hogbom, pointVisibilities, snapToCell } from '../../../../src/stages/astro/lib/imaging.ts';

const n = 64;
const pixelRad = 2e-6 / 206265; // 2 µas
const grid = { n, pixelRad };

function coverage(seed: number) {
  const random = new Random(seed);
  const u = new Float64Array(800);
  const v = new Float64Array(800);
  // Tracks of a few baselines turning with the Earth, up to 0.4 of the grid's reach.
  const reach = 0.4 / pixelRad;
  for (let b = 0; b < 20; b++) {
    const length = reach * (0.2 + 0.8 * random.uniform());
    const angle = Math.PI * random.uniform();
    for (let t = 0; t < 40; t++) {
      const a = angle + (t / 40) * 1.2;
      [u[b * 40 + t], v[b * 40 + t]] = snapToCell(length * Math.cos(a), 0.6 * length * Math.sin(a), grid);
    }
  }
  return { u, v };
}

const sky = [
  { x: 32, y: 32, flux: 1 }, { x: 40, y: 30, flux: 0.5 }, { x: 27, y: 38, flux: 0.3 }, { x: 35, y: 22, flux: 0.2 },
];
const toLm = (s: { x: number; y: number; flux: number }) => ({ l: (s.x - n / 2) * pixelRad, m: (s.y - n / 2) * pixelRad, flux: s.flux });

describe('aperture synthesis imaging', () => {
  test('dirty image = sky ⊛ dirty beam to float precision; the beam peaks at 1 at the centre', () => {
    const { u, v } = coverage(1);
    const { re, im } = pointVisibilities(u, v, sky.map(toLm));
    const { dirty, beam } = dirtyImage(u, v, re, im, grid);
    expect(beam[(n / 2) * n + n / 2]).toBeCloseTo(1, 12);
    expect(Math.max(...beam)).toBeCloseTo(1, 12);
    const model = new Float64Array(n * n);
    for (const s of sky) model[s.y * n + s.x] += s.flux;
    const expected = convolve(model, beam, n);
    expect(Math.max(...dirty.map((d, i) => Math.abs(d - expected[i])))).toBeLessThan(1e-12);
  });

  test('Högbom CLEAN: components at the sources, holding their flux; the residual below the threshold', () => {
    const { u, v } = coverage(2);
    const { re, im } = pointVisibilities(u, v, sky.map(toLm));
    const { dirty, beam } = dirtyImage(u, v, re, im, grid);
    const { model, residual, iterations } = hogbom(dirty, beam, n, { gain: 0.1, threshold: 0.002, iterations: 5000 });
    expect(iterations).toBeLessThan(5000);
    expect(Math.max(...residual.map(Math.abs))).toBeLessThanOrEqual(0.002);
    const total = model.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - 2) / 2).toBeLessThan(0.02);
    for (const s of sky) {
      let near = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) near += model[(s.y + dy) * n + s.x + dx];
      expect(Math.abs(near - s.flux)).toBeLessThan(0.05 * s.flux + 0.01);
    }
  });

  test('the clean beam fitted to a Gaussian beam is that Gaussian', () => {
    const sigmaX = 3;
    const sigmaY = 2;
    const gauss = Float64Array.from({ length: n * n }, (_, i) => Math.exp(-(((i % n) - n / 2) ** 2) / (2 * sigmaX ** 2) - ((Math.floor(i / n) - n / 2) ** 2) / (2 * sigmaY ** 2)));
    const fitted = cleanBeam(gauss, n);
    expect(Math.max(...fitted.map((f, i) => Math.abs(f - gauss[i])))).toBeLessThan(0.05);
  });
});
