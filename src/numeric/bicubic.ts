// Integer-factor resampling of 2-D images stored row after row: block averaging (what a detector
// with pixels `scale` times larger records) and its usual inverse, Keys' cubic convolution
// (a = −0.5, Keys 1981; PIL's BICUBIC). Pixel centres are aligned as block averaging puts them: low-res
// pixel i is the mean of high-res pixels i·s … i·s + s − 1, so its centre sits at high-res
// coordinate i·s + (s − 1)/2 (1.5 for s = 4), and high-res pixel x samples the low-res image at
// u = (x + 0.5)/s − 0.5. Beyond the image the edge pixel repeats. Inside, the interpolation
// reproduces any polynomial of degree ≤ 2 exactly (Keys' kernel is third-order accurate).

/** Keys' cubic convolution kernel with a = −0.5. */
export function keysKernel(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

/** The `height` × `width` image cropped to multiples of `scale` and averaged over `scale` × `scale` blocks. */
export function blockAverage(values: ArrayLike<number>, height: number, width: number, scale: number): Float64Array {
  const [h, w] = [Math.floor(height / scale), Math.floor(width / scale)];
  const out = new Float64Array(h * w);
  for (let y = 0; y < h * scale; y++) {
    for (let x = 0; x < w * scale; x++) out[Math.floor(y / scale) * w + Math.floor(x / scale)] += values[y * width + x];
  }
  return out.map((v) => v / (scale * scale));
}

/** The four taps and weights each of the `scale` output phases takes along one axis. */
function phases(scale: number): { offset: number; weights: number[] }[] {
  return Array.from({ length: scale }, (_, phase) => {
    const u = (phase + 0.5) / scale - 0.5;
    const base = Math.floor(u);
    const t = u - base;
    return { offset: base - 1, weights: [keysKernel(1 + t), keysKernel(t), keysKernel(1 - t), keysKernel(2 - t)] };
  });
}

/** Cubic convolution along the rows (`along` 'x') or the columns ('y'), by `scale`. */
function upsampleAxis(values: ArrayLike<number>, height: number, width: number, scale: number, along: 'x' | 'y'): Float64Array {
  const [outH, outW] = along === 'x' ? [height, width * scale] : [height * scale, width];
  const n = along === 'x' ? width : height;
  const taps = phases(scale);
  const out = new Float64Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const at = along === 'x' ? x : y;
      const { offset, weights } = taps[at % scale];
      const first = Math.floor(at / scale) + offset;
      let sum = 0;
      for (let k = 0; k < 4; k++) {
        const i = Math.min(n - 1, Math.max(0, first + k));
        sum += weights[k] * (along === 'x' ? values[y * width + i] : values[i * width + x]);
      }
      out[y * outW + x] = sum;
    }
  }
  return out;
}

/** The `height` × `width` image upsampled `scale` times in each direction by Keys' cubic convolution. */
export function bicubicUpsample(values: ArrayLike<number>, height: number, width: number, scale: number): Float64Array {
  if (values.length !== height * width) throw new Error(`an image of ${height} × ${width} needs ${height * width} values, not ${values.length}`);
  return upsampleAxis(upsampleAxis(values, height, width, scale, 'x'), height, width * scale, scale, 'y');
}
