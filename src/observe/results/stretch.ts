// Values → colours for image previews. Each stretch maps a float image to RGBA bytes (NaN and
// BLANK pixels transparent); the limits it used are returned so the preview can say them.
import { huWindows } from '../../workflow/results.ts';
import { zscale } from './zscale.ts';

export type Stretch = 'zscale-asinh' | 'hu-window' | 'diverging' | 'linear';
export type WindowSpec = [number, number] | keyof typeof huWindows;

export interface Stretched { rgba: Uint8Array; limits: [number, number]; label: string }

/** astropy's AsinhStretch(a = 0.1): y = asinh(x / a) / asinh(1 / a), for x in [0, 1]. */
export const asinhStretch = (x: number, a = 0.1): number => Math.asinh(x / a) / Math.asinh(1 / a);

/** A CT window (or [lo, hi]) to grey 0–255: values at or below lo black, at or above hi white. */
export function huGrey(value: number, [lo, hi]: readonly [number, number]): number {
  if (!(value > lo)) return 0;
  if (value >= hi) return 255;
  return Math.round(((value - lo) / (hi - lo)) * 255);
}

export function resolveWindow(window: WindowSpec | undefined): [number, number] | undefined {
  if (window === undefined) return undefined;
  return typeof window === 'string' ? [...huWindows[window]] as [number, number] : window;
}

// RdBu reversed (ColorBrewer): blue for negative, white at 0, red for positive.
const diverging = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247], [253, 219, 199], [239, 138, 98], [178, 24, 43]];

/** t in [-1, 1] to the diverging map's colour; 0 is white. */
export function divergingColour(t: number): [number, number, number] {
  const x = (Math.max(-1, Math.min(1, t)) + 1) / 2 * (diverging.length - 1);
  const i = Math.min(diverging.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(diverging[i][c] + f * (diverging[i + 1][c] - diverging[i][c]))) as [number, number, number];
}

/** A sorted sample (≤ 20,000 values) of the finite values: percentiles without sorting a whole image. */
function finiteSample(values: ArrayLike<number>): Float64Array {
  const step = Math.max(1, Math.floor(values.length / 20_000));
  const out: number[] = [];
  for (let i = 0; i < values.length; i += step) if (Number.isFinite(values[i])) out.push(values[i]);
  return Float64Array.from(out).sort();
}
const at = (sorted: Float64Array, q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];

/** `zscaleLimits`: zscale's limits computed on the full image, where `values` are a shrunk copy. */
export function stretchImage(values: ArrayLike<number>, stretch: Stretch, window?: WindowSpec, zscaleLimits?: [number, number]): Stretched {
  const n = values.length;
  const rgba = new Uint8Array(n * 4);
  const put = (i: number, r: number, g: number, b: number) => { rgba[i * 4] = r; rgba[i * 4 + 1] = g; rgba[i * 4 + 2] = b; rgba[i * 4 + 3] = 255; };
  const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(3) : String(+v.toPrecision(4)));
  if (stretch === 'diverging') {
    // Symmetric about 0: ±the 99.5th percentile of |value|, so a few extreme pixels do not wash it out.
    const given = resolveWindow(window);
    const m = given ? Math.max(Math.abs(given[0]), Math.abs(given[1])) : at(finiteSample(Array.from(finiteSample(values), Math.abs)), 0.995) || 1;
    for (let i = 0; i < n; i++) if (Number.isFinite(values[i])) put(i, ...divergingColour(values[i] / m));
    return { rgba, limits: [-m, m], label: `diverging, ±${fmt(m)} (blue negative, red positive)` };
  }
  let limits: [number, number];
  let label: string;
  if (stretch === 'zscale-asinh') {
    limits = zscaleLimits ?? zscale(values);
    label = `zscale ${fmt(limits[0])} … ${fmt(limits[1])}, asinh`;
  } else if (stretch === 'hu-window') {
    limits = resolveWindow(window) ?? [...huWindows.lung] as [number, number];
    label = `window ${typeof window === 'string' ? `${window} ` : ''}[${limits[0]}, ${limits[1]}] HU`;
  } else {
    const sample = finiteSample(values);
    limits = resolveWindow(window) ?? [sample[0], sample[sample.length - 1]];
    label = `linear ${fmt(limits[0])} … ${fmt(limits[1])}`;
  }
  const [lo, hi] = limits;
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    let grey: number;
    if (stretch === 'hu-window') grey = huGrey(v, limits);
    else {
      const t = Math.max(0, Math.min(1, (v - lo) / span));
      grey = Math.round((stretch === 'zscale-asinh' ? asinhStretch(t) : t) * 255);
    }
    put(i, grey, grey, grey);
  }
  return { rgba, limits, label };
}

// Mask labels in colour: 1 red-orange, 2 green, 3 blue, … (alpha-blended over the grey image).
const labelColours = [[255, 80, 40], [40, 200, 80], [60, 120, 255], [240, 200, 30], [200, 60, 220], [40, 210, 210]];

/** Blends `mask` (> 0: a label) over `rgba` in place, at `alpha`. */
export function overlayMask(rgba: Uint8Array, mask: ArrayLike<number>, alpha = 0.45): number {
  let marked = 0;
  for (let i = 0; i < mask.length; i++) {
    const label = Math.round(mask[i]);
    if (!(label > 0)) continue;
    marked++;
    const c = labelColours[(label - 1) % labelColours.length];
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = Math.round(rgba[i * 4 + k] * (1 - alpha) + c[k] * alpha);
    rgba[i * 4 + 3] = 255;
  }
  return marked;
}
