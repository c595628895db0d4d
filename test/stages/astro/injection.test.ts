// Stars of known flux and position injected into a real image — the UKIDSS K-band cutout of
// survey-reduce.yaml, deep in Taurus nebulosity — and reduced with that workflow's own settings.
// Of those above 5σ (by the errors the pipeline states), ≥ 95 % must come back, placed to 0.1 px
// rms, with fluxes whose deviations from the truth scatter as their stated errors say (a unit
// normal: mean near 0, spread near 1, ~95 % within 2σ), and sizes near the image's seeing.
import { readFile } from 'node:fs/promises';
import { fileBytes } from '../../../src/io/byte-reader.ts';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { listHdus, pickHdu } from '../../../connectors/fits/file.ts';
import { decodePixels, imageLayout } from '../../../connectors/fits/image.ts';
import { Random } from '../../../src/numeric/random.ts';
import { background, estimateBackground } from '../../../src/stages/astro/background.ts';
import { detect, detectSources } from '../../../src/stages/astro/detect.ts';

const workflow = new URL('../../../workflows/astronomy/survey-reduce.yaml', import.meta.url).pathname;
const file = new URL('../../../data/astronomy/astroquery_ukidss_wfcam_K_cutout.fits', import.meta.url).pathname;

async function realImage() {
  const handle = await fileBytes(file, file);
  const hdus = await listHdus(handle).finally(() => handle.close());
  const hdu = pickHdu(hdus, 'WSAIMAGE', file);
  const layout = imageLayout(hdu.header);
  const bytes = (await readFile(file)).subarray(hdu.dataStart, hdu.dataStart + hdu.dataBytes);
  const [ny, nx] = layout.shape;
  return { image: Float64Array.from(decodePixels(bytes, layout)), ny, nx, gain: hdu.header.number('GAIN'), seeing: hdu.header.number('SEEING') };
}

async function workflowSettings() {
  const stages = (parse(await readFile(workflow, 'utf8')) as { stages: { id: string; with: object }[] }).stages;
  const sky = background.params.parse(stages.find((s) => s.id === 'sky')!.with);
  const sources = detect.params.parse(stages.find((s) => s.id === 'sources')!.with);
  return { sky, sources };
}

/** Adds a Gaussian star (sampled 4 × 4 per pixel) with its photon noise. */
function inject(image: Float64Array, nx: number, star: { x: number; y: number; flux: number }, sigma: number, gain: number, random: Random) {
  for (let y = Math.floor(star.y) - 12; y <= Math.floor(star.y) + 12; y++) for (let x = Math.floor(star.x) - 12; x <= Math.floor(star.x) + 12; x++) {
    let v = 0;
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) v += Math.exp(-((x - 0.375 + 0.25 * a - star.x) ** 2 + (y - 0.375 + 0.25 * b - star.y) ** 2) / (2 * sigma * sigma));
    v *= star.flux / (16 * 2 * Math.PI * sigma * sigma);
    image[y * nx + x] += v + Math.sqrt(v / gain) * random.normal();
  }
}

describe('stars injected into a real UKIDSS image', () => {
  test('≥ 95 % above 5σ recovered, positions to 0.1 px rms, fluxes within their errors', async () => {
    const { image: original, ny, nx, gain, seeing } = await realImage();
    const { sky, sources } = await workflowSettings();
    const reduce = (image: Float64Array) => {
      const maps = estimateBackground(image, ny, nx, sky);
      return detectSources(Float64Array.from(image, (v, i) => v - maps.background[i]), maps.rms, ny, nx, sources, gain);
    };
    const before = reduce(original);
    const sky0 = estimateBackground(original, ny, nx, sky);
    // The errors the pipeline states are the rms map's, scaled by its empty-aperture factor: on
    // this image the nebulosity makes an aperture's background several times noisier than the
    // pixel noise says.
    expect(before.errorScale).toBeGreaterThan(2);
    const radius = sources.aperture_radius;
    const area = Math.PI * radius * radius;
    // The annulus median adds (π/2)·σ²/n_annulus per pixel of aperture: n_annulus = 3 × area × annulus².
    const skyTerm = 1 + (Math.PI / 2) * area / (3 * area * sources.annulus ** 2);
    const sigma = seeing / 2.3548;
    const trials: { snr: number; dx?: number; dy?: number; pull?: number; fwhm?: number }[] = [];
    for (let seed = 1; seed <= 6; seed++) {
      const random = new Random(seed);
      const image = Float64Array.from(original);
      const stars: { x: number; y: number; flux: number; snr: number }[] = [];
      for (let attempt = 0; stars.length < 30 && attempt < 10_000; attempt++) {
        const x = 15 + random.uniform() * (nx - 30);
        const y = 15 + random.uniform() * (ny - 30);
        // Away from each other and from what the image already holds: this tests measurement, not blending.
        if (stars.some((s) => Math.hypot(s.x - x, s.y - y) < 20) || before.sources.some((s) => Math.hypot(s.x - x, s.y - y) < 12)) continue;
        const snr = 3 * 30 ** random.uniform();
        const noise = sky0.rms[Math.round(y) * nx + Math.round(x)] * before.errorScale;
        // S/N = F / √(A·σ²·skyTerm + F / g), solved for F.
        const b = area * noise * noise * skyTerm;
        const flux = ((snr * snr) / gain + Math.sqrt(snr ** 4 / gain ** 2 + 4 * snr * snr * b)) / 2;
        stars.push({ x, y, flux, snr });
        inject(image, nx, { x, y, flux }, sigma, gain, random);
      }
      const found = reduce(image).sources;
      for (const s of stars) {
        const near = found.filter((f) => Math.hypot(f.x - s.x, f.y - s.y) < 2);
        const m = near.sort((a, b) => Math.hypot(a.x - s.x, a.y - s.y) - Math.hypot(b.x - s.x, b.y - s.y))[0];
        trials.push(m ? { snr: s.snr, dx: m.x - s.x, dy: m.y - s.y, pull: (m.flux_aper - s.flux) / m.flux_aper_err, fwhm: m.fwhm } : { snr: s.snr });
      }
    }
    const bright = trials.filter((t) => t.snr >= 5);
    const recovered = bright.filter((t) => t.pull !== undefined);
    expect(bright.length).toBeGreaterThan(100);
    expect(recovered.length / bright.length).toBeGreaterThanOrEqual(0.95);
    const rms = Math.sqrt(recovered.reduce((a, t) => a + t.dx! ** 2 + t.dy! ** 2, 0) / recovered.length);
    expect(rms).toBeLessThan(0.1);
    const pulls = recovered.map((t) => t.pull!);
    const mean = pulls.reduce((a, b) => a + b, 0) / pulls.length;
    const spread = Math.sqrt(pulls.reduce((a, v) => a + (v - mean) ** 2, 0) / pulls.length);
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(spread).toBeGreaterThan(0.8);
    expect(spread).toBeLessThan(1.25);
    expect(pulls.filter((v) => Math.abs(v) < 2).length / pulls.length).toBeGreaterThanOrEqual(0.9);
    // Sizes: the FWHM from the half-maximum area, for stars bright enough that noise does not shape it.
    const sizes = recovered.filter((t) => t.snr >= 20).map((t) => t.fwhm!).sort((a, b) => a - b);
    const fwhm = sizes[sizes.length >> 1];
    // Counting whole pixels above half maximum reads a little wide (4.05 px for 3.81).
    expect(Math.abs(fwhm / seeing - 1)).toBeLessThan(0.1);
  });
});
