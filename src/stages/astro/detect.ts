// `astro.detect`: sources in images → a catalog, one row per source. On the background-subtracted
// image (after astro.background), smoothed by a Gaussian of `smooth_fwhm` for detection only as
// SExtractor filters, pixels above `threshold` × rms are grouped 8-connected; groups of at least
// `min_area` pixels are sources, split where they hold several peaks that each stand out
// (`deblend_nsigma` above the saddle between them). Each is measured on the unsmoothed image:
//   fwhm          from the area above half the (smoothed) peak, less the smoothing in quadrature:
//                 a part can hold nebulosity far wider than its star, so size comes from the core
//   x, y          windowed centroid (SExtractor's XWIN: Gaussian-weighted, iterated from the peak
//                 pixel, window σ = fwhm / 2.3548), zero-based pixels
//   flux_aper     sum in a circle of `aperture_radius` about (x, y), edge pixels by their covered
//                 fraction (sampled 5 × 5), less the local sky: the median of the annulus from
//                 `annulus` × radius out to twice that, sigma-clipped (what the background map
//                 misses under the source: nebulosity, its own wings in the meshes);
//                 error √(k² (Σ rms² + A² (π/2) σ²_annulus / n_annulus) + flux / gain), where k
//                 is measured with `empty_apertures` apertures on empty sky (see emptyApertureScale)
//   flux_iso      sum over the part's pixels, error √(Σ rms² + flux / gain)
//   flags         1 touches the image edge, 2 aperture runs off the image, 4 blank pixels in the aperture
//   ra, dec       from the image's WCS when its header has one
import { Field, Float64, Int32, Schema, Utf8, makeData, vectorFromArray, type Data } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { floatData } from '../../arrow/added-columns.ts';
import { Random } from '../../numeric/random.ts';
import { sigmaClippedStats } from './lib/sigma-clip.ts';
import { Wcs } from './lib/wcs.ts';

const params = z.object({
  threshold: z.number().positive().default(1.5).describe('detection threshold, in rms above the background (per smoothed pixel)'),
  min_area: z.number().int().min(1).default(5),
  smooth_fwhm: z.number().min(0).default(2).describe('Gaussian smoothing for detection, FWHM in pixels (0: none)'),
  aperture_radius: z.number().positive().default(5),
  annulus: z.number().min(1).default(1.5).describe('the local sky annulus starts at this many aperture radii (and ends at twice that)'),
  deblend_nsigma: z.number().min(0).default(3).describe('a peak is a source of its own when it rises this many smoothed-noise sigmas above its saddle (0: no deblending)'),
  empty_apertures: z.number().int().min(0).default(300).describe('apertures on empty sky that calibrate the background error (0: trust the rms map)'),
  gain: z.number().positive().optional().describe('electrons per data unit, for the source noise; default the header GAIN, else none'),
}).strict();

export interface Source {
  x: number; y: number; flux_aper: number; flux_aper_err: number; flux_iso: number; flux_iso_err: number;
  area: number; peak: number; fwhm: number; flags: number;
}

const columns = ['x', 'y', 'flux_aper', 'flux_aper_err', 'flux_iso', 'flux_iso_err', 'area', 'peak', 'fwhm'] as const;
const schema = new Schema([
  new Field('_source', new Utf8(), false), new Field('id', new Int32(), false),
  ...columns.map((c) => new Field(c, new Float64(), true)), new Field('flags', new Int32(), false),
  new Field('ra', new Float64(), true), new Field('dec', new Float64(), true),
]);

/** A normalised 1-D Gaussian kernel of the given FWHM (out to 3σ). */
function kernel(fwhm: number): Float64Array {
  const sigma = fwhm / 2.3548;
  const half = Math.max(1, Math.ceil(3 * sigma));
  const k = Float64Array.from({ length: 2 * half + 1 }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** Separable convolution (blank pixels count as zero, weights renormalised at the edges). */
function smooth(image: Float64Array, ny: number, nx: number, fwhm: number): Float64Array {
  if (fwhm === 0) return image;
  const k = kernel(fwhm);
  const half = (k.length - 1) / 2;
  const pass = (src: Float64Array, along: 'x' | 'y') => {
    const out = new Float64Array(src.length);
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      let sum = 0;
      let weight = 0;
      for (let t = -half; t <= half; t++) {
        const xx = along === 'x' ? x + t : x;
        const yy = along === 'y' ? y + t : y;
        if (xx < 0 || yy < 0 || xx >= nx || yy >= ny) continue;
        const v = src[yy * nx + xx];
        if (!Number.isFinite(v)) continue;
        sum += k[t + half] * v;
        weight += k[t + half];
      }
      out[y * nx + x] = weight > 0 ? sum / weight : NaN;
    }
    return out;
  };
  return pass(pass(image, 'x'), 'y');
}

/**
 * Splits a group into its peaks (a watershed on the smoothed image: each pixel climbs to the
 * highest of its neighbours until it reaches a peak). A peak that rises less than `nsigma` times
 * the smoothed noise above the highest saddle to another part is not a source of its own: it is
 * merged across that saddle, the lowest peaks first, until every part left stands out.
 */
function deblend(pixels: number[], smoothed: Float64Array, rms: ArrayLike<number>, noiseScale: number, nx: number, nsigma: number): number[][] {
  const inGroup = new Set(pixels);
  const up = new Map<number, number>();
  for (const p of pixels) {
    const py = Math.floor(p / nx);
    let best = p;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const q = p + dy * nx + dx;
      if ((dx !== 0 || dy !== 0) && Math.floor(q / nx) === py + dy && inGroup.has(q) && smoothed[q] > smoothed[best]) best = q;
    }
    up.set(p, best);
  }
  const peakOf = new Map<number, number>();
  const climb = (p: number): number => {
    const known = peakOf.get(p);
    if (known !== undefined) return known;
    const next = up.get(p)!;
    const peak = next === p ? p : climb(next);
    peakOf.set(p, peak);
    return peak;
  };
  for (const p of pixels) climb(p);
  // Union-find over peaks; merge until every part stands out above its highest saddle.
  const parent = new Map<number, number>();
  const find = (a: number): number => {
    while (parent.get(a) !== undefined && parent.get(a) !== a) a = parent.get(a)!;
    return a;
  };
  const top = new Map<number, number>(); // a part's highest pixel
  for (const peak of new Set(peakOf.values())) {
    parent.set(peak, peak);
    top.set(peak, peak);
  }
  for (let changed = true; changed;) {
    changed = false;
    const saddle = new Map<number, { value: number; other: number }>();
    for (const p of pixels) {
      const a = find(peakOf.get(p)!);
      const py = Math.floor(p / nx);
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const q = p + dy * nx + dx;
        if (!inGroup.has(q) || Math.floor(q / nx) !== py + dy) continue;
        const b = find(peakOf.get(q)!);
        if (a === b) continue;
        const value = Math.min(smoothed[p], smoothed[q]);
        if (!saddle.has(a) || saddle.get(a)!.value < value) saddle.set(a, { value, other: b });
      }
    }
    const parts = [...saddle.keys()].sort((a, b) => smoothed[top.get(a)!] - smoothed[top.get(b)!]);
    // Many merges per pass, but none touching a part already merged in it (its saddles are stale).
    const touched = new Set<number>();
    for (const a of parts) {
      const peak = top.get(a)!;
      const s = saddle.get(a)!;
      const b = find(s.other);
      if (touched.has(a) || touched.has(b) || smoothed[peak] - s.value >= nsigma * rms[peak] * noiseScale) continue;
      parent.set(a, b);
      if (smoothed[peak] > smoothed[top.get(b)!]) top.set(b, peak);
      touched.add(a).add(b);
      changed = true;
    }
  }
  const parts = new Map<number, number[]>();
  for (const p of pixels) {
    const root = find(peakOf.get(p)!);
    if (!parts.has(root)) parts.set(root, []);
    parts.get(root)!.push(p);
  }
  return [...parts.values()];
}

/** Sources of one image; `signal` is the background-subtracted image, `rms` its noise. */
export function detectSources(signal: Float64Array, rms: ArrayLike<number>, ny: number, nx: number, o: z.output<typeof params>, gain?: number): { sources: Source[]; errorScale: number } {
  const smoothed = smooth(signal, ny, nx, o.smooth_fwhm);
  // Smoothing lowers the noise by the kernel's norm: the threshold is in the smoothed image's rms.
  const k = o.smooth_fwhm > 0 ? kernel(o.smooth_fwhm) : Float64Array.of(1);
  const noiseScale = k.reduce((a, v) => a + v * v, 0);
  const above = new Uint8Array(ny * nx);
  for (let i = 0; i < ny * nx; i++) above[i] = smoothed[i] > o.threshold * rms[i] * noiseScale ? 1 : 0;
  const visited = new Uint8Array(ny * nx);
  const groups: number[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < ny * nx; start++) {
    if (!above[start] || visited[start]) continue;
    const pixels: number[] = [];
    visited[start] = 1;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      pixels.push(p);
      const py = Math.floor(p / nx);
      const px = p - py * nx;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const y = py + dy;
        const x = px + dx;
        if (y < 0 || x < 0 || y >= ny || x >= nx) continue;
        const q = y * nx + x;
        if (above[q] && !visited[q]) {
          visited[q] = 1;
          stack.push(q);
        }
      }
    }
    if (pixels.length < o.min_area) continue;
    if (o.deblend_nsigma > 0) groups.push(...deblend(pixels, smoothed, rms, noiseScale, nx, o.deblend_nsigma).filter((b) => b.length >= o.min_area));
    else groups.push(pixels);
  }
  const peaks = groups.map((pixels) => pixels.reduce((best, p) => (smoothed[p] > smoothed[best] ? p : best)));
  const errorScale = o.empty_apertures > 0 ? emptyApertureScale(signal, rms, peaks, ny, nx, o) : 1;
  // Which part each pixel went to: a windowed centroid must not climb onto a neighbour.
  const owner = new Int32Array(ny * nx).fill(-1);
  groups.forEach((pixels, part) => { for (const p of pixels) owner[p] = part; });
  const image: Image = { signal, smoothed, rms, owner, ny, nx };
  const sources = groups.map((pixels, part) => measure(image, part, pixels, peaks[part], o, errorScale, gain));
  return { sources, errorScale };
}

/** What measuring a part needs: the image, its smoothed copy and noise, and which part owns each pixel. */
interface Image {
  signal: Float64Array;
  smoothed: Float64Array;
  rms: ArrayLike<number>;
  owner: Int32Array;
  ny: number;
  nx: number;
}

/** Part `part` (its `pixels`, its highest smoothed pixel `top`) measured. */
function measure({ signal, smoothed, rms, owner, ny, nx }: Image, part: number, pixels: number[], top: number, o: z.output<typeof params>, errorScale: number, gain?: number): Source {
  let flux = 0, variance = 0, peak = -Infinity, edge = false;
  for (const p of pixels) {
    const v = signal[p];
    const y = Math.floor(p / nx);
    const x = p - y * nx;
    if (x === 0 || y === 0 || x === nx - 1 || y === ny - 1) edge = true;
    flux += v;
    variance += rms[p] ** 2;
    if (v > peak) peak = v;
  }
  // Size and start from the core, not the whole part: a star's part can hold nebulosity hundreds
  // of pixels wide. FWHM from the area above half the smoothed peak, less the smoothing in quadrature.
  const halfArea = pixels.reduce((a, p) => a + (smoothed[p] >= smoothed[top] / 2 ? 1 : 0), 0);
  const fwhm = Math.sqrt(Math.max((4 * halfArea) / Math.PI - o.smooth_fwhm ** 2, 1));
  const [cx, cy] = windowedCentroid(signal, owner, part, ny, nx, top, fwhm / 2.3548) ?? barycentre(signal, pixels, nx);
  const aper = skySubtractedAperture(signal, rms, ny, nx, cx, cy, o);
  aper.variance *= errorScale ** 2;
  const sourceNoise = (f: number) => (gain ? Math.max(f, 0) / gain : 0);
  let flags = edge ? 1 : 0;
  if (aper.offImage) flags |= 2;
  if (aper.blank) flags |= 4;
  return {
    x: cx, y: cy, flux_aper: aper.flux, flux_aper_err: Math.sqrt(aper.variance + sourceNoise(aper.flux)),
    flux_iso: flux, flux_iso_err: Math.sqrt(variance + sourceNoise(flux)), area: pixels.length, peak, fwhm, flags,
  };
}

/**
 * SExtractor's windowed centroid: a Gaussian window of σ = `sigma`, started at the peak pixel and
 * iterated to convergence, skipping pixels of other parts (else a faint part beside a bright star
 * climbs onto the star). Undefined when it runs off: out of the image or beyond the window's reach.
 */
function windowedCentroid(signal: Float64Array, owner: Int32Array, part: number, ny: number, nx: number, top: number, sigma: number): [number, number] | undefined {
  const sigmaWin = Math.max(0.5, sigma);
  const reach = Math.ceil(4 * sigmaWin);
  const y0 = Math.floor(top / nx);
  const x0 = top - y0 * nx;
  let cx = x0, cy = y0;
  for (let iteration = 0; iteration < 16; iteration++) {
    let wsum = 0, wx = 0, wy = 0;
    for (let y = Math.max(0, Math.floor(cy) - reach); y <= Math.min(ny - 1, Math.ceil(cy) + reach); y++) {
      for (let x = Math.max(0, Math.floor(cx) - reach); x <= Math.min(nx - 1, Math.ceil(cx) + reach); x++) {
        const v = signal[y * nx + x];
        if (!Number.isFinite(v) || (owner[y * nx + x] !== -1 && owner[y * nx + x] !== part)) continue;
        const w = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigmaWin * sigmaWin)) * v;
        wsum += w;
        wx += w * (x - cx);
        wy += w * (y - cy);
      }
    }
    if (!(wsum > 0)) return undefined;
    const dx = (2 * wx) / wsum;
    const dy = (2 * wy) / wsum;
    cx += dx;
    cy += dy;
    if (cx < 0 || cy < 0 || cx > nx - 1 || cy > ny - 1 || Math.hypot(cx - x0, cy - y0) > reach) return undefined;
    if (dx * dx + dy * dy < 1e-8) break;
  }
  return [cx, cy];
}

/** The signal-weighted mean position of a part's positive pixels (its pixels' mean when none is positive). */
function barycentre(signal: Float64Array, pixels: number[], nx: number): [number, number] {
  let sum = 0, sx = 0, sy = 0;
  for (const p of pixels) {
    const v = Math.max(signal[p], 0);
    sum += v;
    sx += v * (p % nx);
    sy += v * Math.floor(p / nx);
  }
  if (sum > 0) return [sx / sum, sy / sum];
  return [pixels.reduce((a, p) => a + (p % nx), 0) / pixels.length, pixels.reduce((a, p) => a + Math.floor(p / nx), 0) / pixels.length];
}

/** Aperture flux less the local sky (when the annulus has enough pixels), with its background variance. */
function skySubtractedAperture(signal: Float64Array, rms: ArrayLike<number>, ny: number, nx: number, cx: number, cy: number, o: z.output<typeof params>) {
  const aper = aperture(signal, rms, ny, nx, cx, cy, o.aperture_radius);
  const sky = annulusSky(signal, ny, nx, cx, cy, o.annulus * o.aperture_radius, 2 * o.annulus * o.aperture_radius);
  if (sky) {
    aper.flux -= aper.area * sky.level;
    aper.variance += aper.area ** 2 * sky.variance;
  }
  return aper;
}

/**
 * How far the background error of an aperture exceeds what the rms map predicts, measured with
 * empty apertures (Labbé et al. 2003): apertures dropped where nothing was detected, measured as
 * sources are. Their scatter holds what per-pixel noise does not: noise correlated between pixels
 * (resampled, interleaved images) and sky structure such as nebulosity. The robust spread of
 * flux / predicted error is the factor; 1 when fewer than 50 places are free.
 */
function emptyApertureScale(signal: Float64Array, rms: ArrayLike<number>, peaks: number[], ny: number, nx: number, o: z.output<typeof params>): number {
  const random = new Random(1);
  const r = o.aperture_radius;
  const margin = Math.ceil(2 * o.annulus * r) + 1;
  if (nx <= 2 * margin || ny <= 2 * margin) return 1;
  const pulls: number[] = [];
  for (let attempt = 0; attempt < 20 * o.empty_apertures && pulls.length < o.empty_apertures; attempt++) {
    const cx = margin + random.uniform() * (nx - 2 * margin);
    const cy = margin + random.uniform() * (ny - 2 * margin);
    if (peaks.some((p) => (p % nx - cx) ** 2 + (Math.floor(p / nx) - cy) ** 2 < 4 * r * r)) continue;
    const aper = skySubtractedAperture(signal, rms, ny, nx, cx, cy, o);
    if (!aper.blank && aper.variance > 0 && Number.isFinite(aper.flux)) pulls.push(aper.flux / Math.sqrt(aper.variance));
  }
  if (pulls.length < 50) return 1;
  pulls.sort((a, b) => a - b);
  const median = pulls[pulls.length >> 1];
  const deviations = pulls.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  return 1.4826 * deviations[deviations.length >> 1];
}

/** Circular aperture sum, each pixel weighted by the share of its 5 × 5 sub-pixels inside. */
function aperture(signal: Float64Array, rms: ArrayLike<number>, ny: number, nx: number, cx: number, cy: number, r: number) {
  let flux = 0, variance = 0, area = 0, offImage = false, blank = false;
  for (let y = Math.floor(cy - r - 1); y <= Math.ceil(cy + r + 1); y++) {
    for (let x = Math.floor(cx - r - 1); x <= Math.ceil(cx + r + 1); x++) {
      let inside = 0;
      for (let sy = 0; sy < 5; sy++) for (let sx = 0; sx < 5; sx++) {
        const px = x - 0.4 + 0.2 * sx;
        const py = y - 0.4 + 0.2 * sy;
        if ((px - cx) ** 2 + (py - cy) ** 2 <= r * r) inside++;
      }
      if (inside === 0) continue;
      if (x < 0 || y < 0 || x >= nx || y >= ny) {
        offImage = true;
        continue;
      }
      const v = signal[y * nx + x];
      if (!Number.isFinite(v)) {
        blank = true;
        continue;
      }
      const share = inside / 25;
      flux += share * v;
      area += share;
      variance += share * share * rms[y * nx + x] ** 2;
    }
  }
  return { flux, variance, area, offImage, blank };
}

/**
 * The sky level left in an annulus (the sigma-clipped median: clipping drops other stars' cores;
 * leaving out every pixel above the detection threshold instead would drop the noise's upper
 * side and bias the sky low) and that level's variance.
 */
function annulusSky(signal: Float64Array, ny: number, nx: number, cx: number, cy: number, inner: number, outer: number) {
  const values: number[] = [];
  for (let y = Math.max(0, Math.floor(cy - outer)); y <= Math.min(ny - 1, Math.ceil(cy + outer)); y++) {
    for (let x = Math.max(0, Math.floor(cx - outer)); x <= Math.min(nx - 1, Math.ceil(cx + outer)); x++) {
      const d2 = (x - cx) ** 2 + (y - cy) ** 2;
      const v = signal[y * nx + x];
      if (d2 >= inner * inner && d2 <= outer * outer && Number.isFinite(v)) values.push(v);
    }
  }
  if (values.length < 10) return undefined;
  const s = sigmaClippedStats(values, 3, 5);
  // The variance of a median of n values is π/2 times that of their mean.
  return { level: s.median, variance: (Math.PI / 2) * (s.std * s.std) / s.count };
}

export const detect = defineMap({
  name: 'astro.detect',
  kind: 'map',
  version: '2',
  description: 'Source detection and photometry on background-subtracted images → a catalog (windowed centroids, aperture and isophotal fluxes with errors, FWHM, flags, RA/Dec).',
  params,
  outputSchema({ inputs: [input] }) {
    for (const name of ['data', 'background', 'rms']) {
      if (tensorInfo(input, name).shape.length !== 2) throw new SchemaError(`'${name}' must hold 2-D images`);
    }
    requireColumn(input, 'header');
    return schema;
  },
  create(p, { inputSchema }) {
    const [ny, nx] = tensorInfo(inputSchema, 'data').shape;
    return (batch) => {
      const data = tensorValues(batch, 'data');
      const bkg = tensorValues(batch, 'background');
      const rms = tensorValues(batch, 'rms');
      const rows: (Source & { source: string; id: number; ra: number; dec: number })[] = [];
      for (let r = 0; r < batch.numRows; r++) {
        const header = JSON.parse(String(batch.getChild('header')!.get(r))) as Record<string, unknown>;
        const signal = Float64Array.from({ length: ny * nx }, (_, i) => data[r * ny * nx + i] - bkg[r * ny * nx + i]);
        const gain = p.gain ?? (typeof header.GAIN === 'number' ? header.GAIN : undefined);
        const found = detectSources(signal, rms.subarray(r * ny * nx, (r + 1) * ny * nx), ny, nx, p, gain).sources;
        const wcs = Wcs.fromHeaderIfAny((k) => header[k] as never);
        const source = String(batch.getChild('_source')?.get(r) ?? '');
        found.forEach((s, id) => {
          const [ra, dec] = wcs ? wcs.pixelToWorld(s.x, s.y) : [NaN, NaN];
          rows.push({ ...s, source, id: id + 1, ra, dec });
        });
      }
      const floats = (pick: (s: (typeof rows)[number]) => number) => floatData(Float64Array.from(rows, pick));
      const ints = (pick: (s: (typeof rows)[number]) => number): Data => makeData({ type: new Int32(), length: rows.length, nullCount: 0, data: Int32Array.from(rows, pick) });
      return makeBatch(schema, [
        vectorFromArray(rows.map((s) => s.source), new Utf8()).data[0], ints((s) => s.id),
        ...columns.map((c) => floats((s) => s[c])), ints((s) => s.flags), floats((s) => s.ra), floats((s) => s.dec),
      ], rows.length);
    };
  },
});
