// The classical blob detector: the scale-normalised Laplacian of Gaussian, −σ²∇²(G_σ ∗ I), over a
// set of scales σ (Lindeberg 1998), its local maxima in space and scale inside a search region.
// For a bright ball of radius r and contrast c the response at its centre is
// c · 4π r³ (2π)^(−3/2) σ^(−3) exp(−r² / 2σ²), largest at σ = r/√3 (about 0.93 c there), so a
// maximum's scale gives the blob's radius: r = σ√3. Blurs are separable, in mm (anisotropic voxels
// get their own σ per axis), with edges replicated; second differences are in mm too.

export interface Blob {
  /** Voxel of the maximum (i column, j row, k slice). */
  i: number;
  j: number;
  k: number;
  sigma_mm: number;
  /** σ√3: the radius of the ball that answers most at this scale. */
  radius_mm: number;
  /** −σ²∇²(G_σ ∗ I) at the maximum (HU for a CT). */
  score: number;
}

interface Grid {
  dims: number[];
  spacing: number[];
}

/** A sampled Gaussian of `sigma` voxels (radius ⌈3σ⌉), summing to 1; [1] for σ near 0. */
function gaussianKernel(sigma: number): Float64Array {
  if (sigma < 1e-3) return Float64Array.of(1);
  const radius = Math.ceil(3 * sigma);
  const kernel = Float64Array.from({ length: 2 * radius + 1 }, (_, n) => Math.exp(-((n - radius) ** 2) / (2 * sigma * sigma)));
  const sum = kernel.reduce((a, b) => a + b, 0);
  return kernel.map((v) => v / sum);
}

/** `values` blurred along axis `axis` (0 i, 1 j, 2 k) by `kernel`, edges replicated. */
function blurAxis(values: Float32Array, dims: number[], axis: number, kernel: Float64Array): Float32Array {
  const out = new Float32Array(values.length);
  const n = dims[axis];
  const stride = [1, dims[0], dims[0] * dims[1]][axis];
  const radius = (kernel.length - 1) / 2;
  for (let p = 0; p < values.length; p++) {
    const at = Math.floor(p / stride) % n;
    const base = p - at * stride;
    let sum = 0;
    for (let t = -radius; t <= radius; t++) sum += kernel[t + radius] * values[base + Math.min(n - 1, Math.max(0, at + t)) * stride];
    out[p] = sum;
  }
  return out;
}

/** The volume blurred by a Gaussian of `sigmaMm`. */
export function gaussianBlur(values: Float32Array, grid: Grid, sigmaMm: number): Float32Array {
  let out = values;
  for (let a = 0; a < 3; a++) out = blurAxis(out, grid.dims, a, gaussianKernel(sigmaMm / grid.spacing[a]));
  return out;
}

/** −σ²∇²(G_σ ∗ values), σ in mm; zero on the outermost voxels. */
export function scaleNormalisedLog(values: Float32Array, grid: Grid, sigmaMm: number): Float32Array {
  const blurred = gaussianBlur(values, grid, sigmaMm);
  const [ni, nj, nk] = grid.dims;
  const strides = [1, ni, ni * nj];
  const out = new Float32Array(values.length);
  const weight = grid.spacing.map((s) => (sigmaMm * sigmaMm) / (s * s));
  for (let k = 1; k < nk - 1; k++) for (let j = 1; j < nj - 1; j++) for (let i = 1; i < ni - 1; i++) {
    const p = (k * nj + j) * ni + i;
    let sum = 0;
    for (let a = 0; a < 3; a++) sum += weight[a] * (blurred[p - strides[a]] - 2 * blurred[p] + blurred[p + strides[a]]);
    out[p] = -sum;
  }
  return out;
}

/** The box of `region` (inclusive voxel ranges per axis), widened by `margin` voxels per axis and clipped to the volume. */
function boundingBox(region: Uint8Array, dims: number[], margin: number[]): number[][] | undefined {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  region.forEach((m, p) => {
    if (!m) return;
    const c = [p % dims[0], Math.floor(p / dims[0]) % dims[1], Math.floor(p / (dims[0] * dims[1]))];
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], c[a]);
      hi[a] = Math.max(hi[a], c[a]);
    }
  });
  if (hi[0] < 0) return undefined;
  return [0, 1, 2].map((a) => [Math.max(0, lo[a] - margin[a]), Math.min(dims[a] - 1, hi[a] + margin[a])]);
}

/** The sub-volume of `values` in `box`. */
function crop(values: Float32Array | Uint8Array, dims: number[], box: number[][]) {
  const size = box.map(([a, b]) => b - a + 1);
  const out = new (values.constructor as Float32ArrayConstructor)(size[0] * size[1] * size[2]);
  for (let k = 0; k < size[2]; k++) for (let j = 0; j < size[1]; j++) {
    const from = ((box[2][0] + k) * dims[1] + box[1][0] + j) * dims[0] + box[0][0];
    out.set(values.subarray(from, from + size[0]), (k * size[1] + j) * size[0]);
  }
  return { values: out, dims: size };
}

/**
 * Maxima of the scale-normalised LoG at `sigmasMm` (ascending) inside `region`, above `threshold`:
 * a voxel at least as strong as its 26 neighbours at its scale and the 27 at the scales either
 * side. Strongest first; a maximum nearer a stronger one than the smaller of their radii is dropped
 * (a small blob beside a large one stays); at most `limit`.
 */
export function detectBlobs(values: Float32Array, grid: Grid, region: Uint8Array, sigmasMm: number[], threshold: number, limit: number): Blob[] {
  const margin = grid.spacing.map((s) => Math.ceil((4 * Math.max(...sigmasMm)) / s) + 1);
  const box = boundingBox(region, grid.dims, margin);
  if (!box) return [];
  const sub = crop(values, grid.dims, box);
  const inside = crop(region, grid.dims, box).values;
  const subGrid = { dims: sub.dims, spacing: grid.spacing };
  const responses = sigmasMm.map((s) => scaleNormalisedLog(sub.values as Float32Array, subGrid, s));
  const [ni, nj, nk] = sub.dims;
  const found: Blob[] = [];
  for (let s = 0; s < sigmasMm.length; s++) {
    const here = responses[s];
    for (let k = 1; k < nk - 1; k++) for (let j = 1; j < nj - 1; j++) for (let i = 1; i < ni - 1; i++) {
      const p = (k * nj + j) * ni + i;
      if (!inside[p] || here[p] <= threshold || !isPeak(responses, s, p, ni, nj)) continue;
      found.push({ i: i + box[0][0], j: j + box[1][0], k: k + box[2][0], sigma_mm: sigmasMm[s], radius_mm: sigmasMm[s] * Math.sqrt(3), score: here[p] });
    }
  }
  found.sort((a, b) => b.score - a.score);
  const kept: Blob[] = [];
  for (const blob of found) {
    if (kept.length >= limit) break;
    const near = kept.some((o) => Math.hypot((o.i - blob.i) * grid.spacing[0], (o.j - blob.j) * grid.spacing[1], (o.k - blob.k) * grid.spacing[2]) < Math.min(o.radius_mm, blob.radius_mm));
    if (!near) kept.push(blob);
  }
  return kept;
}

/** Is voxel `p` at scale `s` at least its 26 neighbours there and its 27 at the scales either side? */
function isPeak(responses: Float32Array[], s: number, p: number, ni: number, nj: number): boolean {
  const value = responses[s][p];
  for (let t = Math.max(0, s - 1); t <= Math.min(responses.length - 1, s + 1); t++) {
    const r = responses[t];
    for (let dk = -1; dk <= 1; dk++) for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
      if (r[p + (dk * nj + dj) * ni + di] > value) return false;
    }
  }
  return true;
}
