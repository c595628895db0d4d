// Background and detection on a synthetic sky whose truth is known: a sloped background with
// Gaussian noise, stars of known flux and position. The background map must follow the slope
// within its noise, the rms map must give the noise, and 95 % of the stars above 5σ must come back
// with their positions to 0.1 px rms and their aperture fluxes within their errors.
import { describe, expect, test } from 'vitest';
import { Random } from '../../../src/numeric/random.ts';
import { estimateBackground } from '../../../src/stages/astro/background.ts';
import { detectSources } from '../../../src/stages/astro/detect.ts';
import { sigmaClippedStats } from '../../../src/stages/astro/lib/sigma-clip.ts';

const ny = 256;
const nx = 256;
const noise = 10;
const gain = 4;
const sigma = 3 / 2.3548;
const radius = 7;

function sky(seed: number) {
  const random = new Random(seed);
  const image = Float64Array.from({ length: ny * nx }, (_, i) => 1000 + 0.2 * (i % nx) + 0.1 * Math.floor(i / nx) + noise * random.normal());
  const stars: { x: number; y: number; flux: number; snr: number }[] = [];
  while (stars.length < 80) {
    const x = 12 + random.uniform() * (nx - 24);
    const y = 12 + random.uniform() * (ny - 24);
    if (stars.some((s) => Math.hypot(s.x - x, s.y - y) < 16)) continue;
    const snr = 3 * 100 ** random.uniform();
    // Aperture S/N = F / √(π r² σ² + F / g), solved for F.
    const area = Math.PI * radius * radius;
    const flux = ((snr * snr) / gain + Math.sqrt(snr ** 4 / gain ** 2 + 4 * snr * snr * area * noise * noise)) / 2;
    stars.push({ x, y, flux, snr });
    for (let yy = Math.floor(y) - 10; yy <= Math.floor(y) + 10; yy++) for (let xx = Math.floor(x) - 10; xx <= Math.floor(x) + 10; xx++) {
      let v = 0;
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) v += Math.exp(-((xx - 0.375 + 0.25 * a - x) ** 2 + (yy - 0.375 + 0.25 * b - y) ** 2) / (2 * sigma * sigma));
      v *= flux / (16 * 2 * Math.PI * sigma * sigma);
      image[yy * nx + xx] += v + Math.sqrt(v / gain) * random.normal();
    }
  }
  return { image, stars };
}

describe('astro.background and astro.detect on a synthetic sky', () => {
  test('sigma clipping equals astropy sigma_clipped_stats on the same values', () => {
    const values = [...Array.from({ length: 200 }, (_, i) => ((i * 7919) % 1000) / 100), 50, 60, -40, 100];
    const s = sigmaClippedStats(values, 3, 10);
    // astropy 5.2: sigma_clipped_stats(x, sigma=3, maxiters=10) → (4.955, 4.965, 2.909523156807658)
    expect(s.mean).toBeCloseTo(4.955, 12);
    expect(s.median).toBe(4.965);
    expect(s.std).toBeCloseTo(2.909523156807658, 12);
  });

  test('background follows the slope, rms is the noise; stars above 5σ found, placed to 0.1 px, fluxes within their errors', () => {
    const { image, stars } = sky(3);
    const maps = estimateBackground(image, ny, nx, { box: 32, filter: 3, sigma: 3, mask_sources: true, mask_grow: 3 });
    let worst = 0;
    // Away from the outer meshes: there the median filter has fewer neighbours and, on a slope,
    // leans inwards by half a mesh's rise (as photutils' does).
    for (let y = 48; y < ny - 48; y += 8) for (let x = 48; x < nx - 48; x += 8) worst = Math.max(worst, Math.abs(maps.background[y * nx + x] - (1000 + 0.2 * x + 0.1 * y)));
    expect(worst).toBeLessThan(3); // a quarter of the pixel noise, at the worst of 25 places
    const rmsMedian = sigmaClippedStats(maps.rms).median;
    expect(Math.abs(rmsMedian - noise) / noise).toBeLessThan(0.03);

    const signal = Float64Array.from(image, (v, i) => v - maps.background[i]);
    const { sources: found } = detectSources(signal, maps.rms, ny, nx, { threshold: 1.5, min_area: 5, smooth_fwhm: 2, aperture_radius: radius, annulus: 1.5, deblend_nsigma: 3, empty_apertures: 300 }, gain);
    const bright = stars.filter((s) => s.snr >= 5);
    const matched = bright.map((s) => ({ s, m: found.find((f) => Math.hypot(f.x - s.x, f.y - s.y) < 1.5) }));
    const recovered = matched.filter((p) => p.m);
    expect(recovered.length / bright.length).toBeGreaterThanOrEqual(0.95);
    const offsets = recovered.map(({ s, m }) => (m!.x - s.x) ** 2 + (m!.y - s.y) ** 2);
    expect(Math.sqrt(offsets.reduce((a, b) => a + b, 0) / offsets.length)).toBeLessThan(0.1);
    // Fluxes against their errors, for stars bright enough that every one is found (fainter ones
    // are found more often when the noise lifts them, and so come out high: Eddington bias).
    const z = recovered.filter(({ s }) => s.snr >= 10).map(({ s, m }) => (m!.flux_aper - s.flux) / m!.flux_aper_err);
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    const spread = Math.sqrt(z.reduce((a, v) => a + (v - mean) ** 2, 0) / z.length);
    expect(z.length).toBeGreaterThan(50);
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(spread).toBeGreaterThan(0.7);
    expect(spread).toBeLessThan(1.3);
    expect(z.filter((v) => Math.abs(v) < 2).length / z.length).toBeGreaterThanOrEqual(0.9);
  });

  test('on white noise, empty apertures scatter as the rms map predicts', () => {
    const random = new Random(5);
    const image = Float64Array.from({ length: ny * nx }, () => noise * random.normal());
    const rms = new Float32Array(ny * nx).fill(noise);
    const { sources, errorScale } = detectSources(image, rms, ny, nx, { threshold: 3, min_area: 5, smooth_fwhm: 2, aperture_radius: radius, annulus: 1.5, deblend_nsigma: 3, empty_apertures: 300 });
    expect(sources.length).toBeLessThan(5);
    // 300 pulls: the MAD-based spread is good to about 1/√300 × 1.3.
    expect(Math.abs(errorScale - 1)).toBeLessThan(0.1);
  });
});
