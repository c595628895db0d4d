// IRAF's zscale display limits, as astropy.visualization.ZScaleInterval computes them (defaults
// n_samples 1000, contrast 0.25, max_reject 0.5, min_npixels 5, krej 2.5, max_iterations 5): a
// regular sample of the finite values, sorted; a straight line fitted to it with k-sigma rejection
// (rejected points grown by 1 % of the sample); the limits where that line, its slope divided by
// the contrast, crosses the sample's ends, kept within the sample's own range.

export interface ZScaleOptions { samples?: number; contrast?: number; maxReject?: number; minPixels?: number; krej?: number; maxIterations?: number }

export function zscale(values: ArrayLike<number>, options: ZScaleOptions = {}): [number, number] {
  const { samples: nSamples = 1000, contrast = 0.25, maxReject = 0.5, minPixels = 5, krej = 2.5, maxIterations = 5 } = options;
  // values[np.isfinite(values)][::stride][:n_samples], stride from the finite count.
  let finite = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite++;
  if (finite === 0) return [NaN, NaN];
  const stride = Math.max(1, Math.trunc(finite / nSamples));
  const picked: number[] = [];
  for (let i = 0, k = 0; i < values.length && picked.length < nSamples; i++) {
    if (!Number.isFinite(values[i])) continue;
    if (k++ % stride === 0) picked.push(values[i]);
  }
  const samples = Float64Array.from(picked).sort();
  const npix = samples.length;
  let vmin = samples[0];
  let vmax = samples[npix - 1];
  const minpix = Math.max(minPixels, Math.trunc(npix * maxReject));
  const ngrow = Math.max(1, Math.trunc(npix * 0.01));
  let bad = new Uint8Array(npix);
  let ngood = npix;
  let lastNgood = npix + 1;
  let fit: [number, number] | undefined;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (ngood >= lastNgood || ngood < minpix) break;
    fit = lineFit(samples, bad);
    const [slope, intercept] = fit;
    // Standard deviation (ddof 0) of the good points' residuals.
    let sum = 0, sum2 = 0, n = 0;
    for (let i = 0; i < npix; i++) {
      if (bad[i]) continue;
      const r = samples[i] - (slope * i + intercept);
      sum += r; sum2 += r * r; n++;
    }
    const mean = sum / n;
    const threshold = krej * Math.sqrt(Math.max(0, sum2 / n - mean * mean));
    for (let i = 0; i < npix; i++) {
      const r = samples[i] - (slope * i + intercept);
      if (r < -threshold || r > threshold) bad[i] = 1;
    }
    // np.convolve(bad, ones(ngrow), 'same') on booleans: out[i] = any(bad[i + s - j]), j < ngrow, s = (ngrow - 1) // 2.
    const grown = new Uint8Array(npix);
    const s = (ngrow - 1) >> 1;
    for (let i = 0; i < npix; i++) {
      for (let j = 0; j < ngrow; j++) {
        const k = i + s - j;
        if (k >= 0 && k < npix && bad[k]) { grown[i] = 1; break; }
      }
    }
    bad = grown;
    lastNgood = ngood;
    ngood = 0;
    for (let i = 0; i < npix; i++) if (!bad[i]) ngood++;
  }
  if (ngood >= minpix && fit) {
    let slope = fit[0];
    if (contrast > 0) slope /= contrast;
    const center = Math.trunc((npix - 1) / 2);
    const median = npix % 2 ? samples[(npix - 1) / 2] : (samples[npix / 2 - 1] + samples[npix / 2]) / 2;
    vmin = Math.max(vmin, median - (center - 1) * slope);
    vmax = Math.min(vmax, median + (npix - center) * slope);
  }
  return [vmin, vmax];
}

/** Least-squares line through (i, y[i]) over the points not marked bad (np.polyfit deg 1 with 0/1 weights). */
function lineFit(y: Float64Array, bad: Uint8Array): [number, number] {
  let n = 0, sx = 0, sy = 0;
  for (let i = 0; i < y.length; i++) if (!bad[i]) { n++; sx += i; sy += y[i]; }
  const mx = sx / n, my = sy / n;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < y.length; i++) if (!bad[i]) { sxx += (i - mx) * (i - mx); sxy += (i - mx) * (y[i] - my); }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return [slope, my - slope * mx];
}
