// Aperture synthesis imaging, the textbook way (Thompson, Moran & Swenson ch. 10–11): visibilities
// V(u, v) = Σ F e^(−2πi(ul + vm)) of a sky of point sources; gridded (each sample and its complex
// conjugate at (−u, −v), natural weights) onto the Fourier plane of an N × N image of pixel Δ
// (cells 1/(NΔ) wide) and inverse-transformed to the dirty image; the same with every visibility 1
// gives the dirty beam. When the samples sit on cell centres, dirty = sky ⊛ beam exactly (the
// transform is linear and periodic), which the tests check. Högbom CLEAN then takes the dirty image
// apart into point components, restored with a Gaussian fitted to the beam's main lobe.
import { fftPlan } from '../../../numeric/fft.ts';

export interface Grid { n: number; pixelRad: number }

/** Cell of (u, v) on the grid (FFT order), or undefined if it falls outside. */
function cell(u: number, v: number, g: Grid): [number, number] | undefined {
  const du = 1 / (g.n * g.pixelRad);
  const ku = Math.round(u / du);
  const kv = Math.round(v / du);
  if (Math.abs(ku) >= g.n / 2 || Math.abs(kv) >= g.n / 2) return undefined;
  return [(ku + g.n) % g.n, (kv + g.n) % g.n];
}

/** (u, v) moved to the centre of its cell: where a simulation must sample for dirty = sky ⊛ beam to hold exactly. */
export function snapToCell(u: number, v: number, g: Grid): [number, number] {
  const du = 1 / (g.n * g.pixelRad);
  return [Math.round(u / du) * du, Math.round(v / du) * du];
}

/** Visibilities of point sources (l, m in radians from the phase centre, flux in Jy) at (u, v) in wavelengths. */
export function pointVisibilities(u: Float64Array, v: Float64Array, sky: { l: number; m: number; flux: number }[]) {
  const re = new Float64Array(u.length);
  const im = new Float64Array(u.length);
  for (let i = 0; i < u.length; i++) for (const s of sky) {
    const phase = -2 * Math.PI * (u[i] * s.l + v[i] * s.m);
    re[i] += s.flux * Math.cos(phase);
    im[i] += s.flux * Math.sin(phase);
  }
  return { re, im };
}

/** Inverse 2-D transform of a grid, centred: pixel (x, y) is offset (x − N/2, y − N/2) pixels from the phase centre. */
function toImage(gre: Float64Array, gim: Float64Array, n: number, scale: number): Float64Array {
  const plan = fftPlan(n);
  const rowRe = new Float64Array(n);
  const rowIm = new Float64Array(n);
  for (let y = 0; y < n; y++) {
    rowRe.set(gre.subarray(y * n, (y + 1) * n));
    rowIm.set(gim.subarray(y * n, (y + 1) * n));
    plan.inverse(rowRe, rowIm);
    gre.set(rowRe, y * n);
    gim.set(rowIm, y * n);
  }
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      rowRe[y] = gre[y * n + x];
      rowIm[y] = gim[y * n + x];
    }
    plan.inverse(rowRe, rowIm);
    for (let y = 0; y < n; y++) {
      gre[y * n + x] = rowRe[y];
      gim[y * n + x] = rowIm[y];
    }
  }
  const image = new Float64Array(n * n);
  const c = n / 2;
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) image[y * n + x] = gre[((y - c + n) % n) * n + ((x - c + n) % n)] * n * n * scale;
  return image;
}

/** Dirty image and dirty beam (peak 1) of visibilities, natural weighting. */
export function dirtyImage(u: Float64Array, v: Float64Array, re: Float64Array, im: Float64Array, g: Grid) {
  const n = g.n;
  const vr = new Float64Array(n * n);
  const vi = new Float64Array(n * n);
  const w = new Float64Array(n * n);
  let total = 0;
  let used = 0;
  for (let i = 0; i < u.length; i++) {
    for (const sign of [1, -1]) {
      const at = cell(sign * u[i], sign * v[i], g);
      if (!at) continue;
      const k = at[1] * n + at[0];
      vr[k] += re[i];
      vi[k] += sign * im[i];
      w[k] += 1;
      total += 1;
    }
    if (cell(u[i], v[i], g)) used++;
  }
  if (total === 0) throw new Error(`no visibility falls on the grid: a pixel of ${g.pixelRad} rad is too large for these baselines`);
  const dirty = toImage(vr, vi, n, 1 / total);
  const beam = toImage(w, new Float64Array(n * n), n, 1 / total);
  return { dirty, beam, used };
}

/** Högbom CLEAN: point components taken from the residual at its peak, `gain` of it at a time. */
export function hogbom(dirty: Float64Array, beam: Float64Array, n: number, o: { gain: number; threshold: number; iterations: number }) {
  const residual = Float64Array.from(dirty);
  const model = new Float64Array(n * n);
  const c = n / 2;
  let done = 0;
  for (; done < o.iterations; done++) {
    let peak = 0;
    for (let i = 1; i < residual.length; i++) if (Math.abs(residual[i]) > Math.abs(residual[peak])) peak = i;
    if (Math.abs(residual[peak]) <= o.threshold) break;
    const amount = o.gain * residual[peak];
    model[peak] += amount;
    const py = Math.floor(peak / n);
    const px = peak - py * n;
    // The beam, centred on the peak (periodic, as the transform is).
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) residual[y * n + x] -= amount * beam[((y - py + c + n) % n) * n + ((x - px + c + n) % n)];
  }
  return { model, residual, iterations: done };
}

/** A Gaussian fitted to the beam's main lobe (the connected pixels above half its peak, by moments). */
export function cleanBeam(beam: Float64Array, n: number): Float64Array {
  const c = n / 2;
  let sxx = 0, syy = 0, sxy = 0, sum = 0;
  const seen = new Uint8Array(n * n);
  const stack = [c * n + c];
  seen[c * n + c] = 1;
  while (stack.length) {
    const p = stack.pop()!;
    const y = Math.floor(p / n) - c;
    const x = (p % n) - c;
    sum += beam[p];
    sxx += beam[p] * x * x;
    syy += beam[p] * y * y;
    sxy += beam[p] * x * y;
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      const q = (y + c + dy) * n + (x + c + dx);
      if (y + c + dy >= 0 && y + c + dy < n && x + c + dx >= 0 && x + c + dx < n && !seen[q] && beam[q] > 0.5) {
        seen[q] = 1;
        stack.push(q);
      }
    }
  }
  // A Gaussian cut at half its peak has second moments σ² (1 − ln 2) along each axis, not σ².
  const factor = 1 / (1 - Math.log(2));
  const [a, b, d] = [(sxx / sum) * factor, (sxy / sum) * factor, (syy / sum) * factor];
  const det = a * d - b * b;
  const out = new Float64Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const dx = x - c;
    const dy = y - c;
    out[y * n + x] = Math.exp(-0.5 * (d * dx * dx - 2 * b * dx * dy + a * dy * dy) / det);
  }
  return out;
}

/** Circular convolution of an image with a kernel centred at (N/2, N/2). */
export function convolve(image: Float64Array, kernel: Float64Array, n: number): Float64Array {
  const c = n / 2;
  const out = new Float64Array(n * n);
  for (let p = 0; p < n * n; p++) {
    if (image[p] === 0) continue;
    const py = Math.floor(p / n);
    const px = p - py * n;
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) out[y * n + x] += image[p] * kernel[((y - py + c + n) % n) * n + ((x - px + c + n) % n)];
  }
  return out;
}
