// Classical inpainting of masked pixels from the unmasked ones around them (row-major images).
// Both methods use the image's graph Laplacian, (Lu)_p = Σ over p's in-image 4-neighbours j of
// (u_j − u_p): the 5-point Laplacian inside the image, no flux through its edge.
//   harmonic     Laplace's equation (steady diffusion) inside the mask, the unmasked pixels as its
//                boundary values: (Lu)_q = 0 at every masked q. Reproduces any discrete-harmonic
//                function (a + bx + cy + dxy + e(x² − y²)) exactly; never exceeds the boundary's
//                extremes, so it cannot rebuild a peak that was clipped.
//   biharmonic   the smoothest fill in the thin-plate sense: minimises Σ (Lu)_p² over the masked
//                pixels and their neighbours, so that L²u = 0 at each masked pixel (the equation
//                scikit-image's inpaint_biharmonic solves). Reproduces quadratics and cubics exactly.
// Each is a symmetric positive-definite system over the masked pixels, solved directly (banded
// Cholesky, the pixels in row-major order: coupled pixels lie within two rows of each other).

export interface Grid { height: number; width: number }

/** A sparse symmetric matrix, row by row: column → value. */
type Rows = Map<number, number>[];

/** p's in-image 4-neighbours. */
function neighboursOf(p: number, { height, width }: Grid): number[] {
  const [y, x] = [Math.floor(p / width), p % width];
  const out: number[] = [];
  if (y > 0) out.push(p - width);
  if (y < height - 1) out.push(p + width);
  if (x > 0) out.push(p - 1);
  if (x < width - 1) out.push(p + 1);
  return out;
}

/** Solves M x = b, M symmetric positive-definite, by Cholesky factorisation within its band. */
export function solveBanded(rows: Rows, b: Float64Array): Float64Array {
  const n = b.length;
  let w = 0;
  rows.forEach((row, i) => row.forEach((_, j) => (w = Math.max(w, i - j))));
  const at = (i: number, j: number) => i * (w + 1) + j - i + w;
  const factor = new Float64Array(n * (w + 1));
  for (let i = 0; i < n; i++) {
    for (let j = Math.max(0, i - w); j <= i; j++) {
      let s = rows[i].get(j) ?? 0;
      for (let k = Math.max(0, i - w); k < j; k++) s -= factor[at(i, k)] * factor[at(j, k)];
      if (i === j) {
        if (!(s > 0)) throw new Error('the inpainting system is not positive-definite: a masked region touches no unmasked pixel');
        factor[at(i, i)] = Math.sqrt(s);
      } else factor[at(i, j)] = s / factor[at(j, j)];
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    for (let k = Math.max(0, i - w); k < i; k++) x[i] -= factor[at(i, k)] * x[k];
    x[i] /= factor[at(i, i)];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k <= Math.min(n - 1, i + w); k++) x[i] -= factor[at(k, i)] * x[k];
    x[i] /= factor[at(i, i)];
  }
  return x;
}

/** The masked pixels (indices, row-major) and, per pixel, its place among them (−1 if known). */
function unknownsOf(mask: ArrayLike<number>, { height, width }: Grid) {
  if (mask.length !== height * width) throw new Error(`the mask has ${mask.length} values, the image ${height} × ${width}`);
  const place = new Int32Array(height * width).fill(-1);
  const pixels: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] > 0) place[i] = pixels.push(i) - 1;
  if (pixels.length === mask.length) throw new Error('the mask covers the whole image: nothing to inpaint from');
  return { pixels: Int32Array.from(pixels), place };
}

/** The image with the solved values put in at the masked pixels. */
function filled(image: ArrayLike<number>, pixels: Int32Array, values: Float64Array): Float64Array {
  const out = Float64Array.from(image);
  pixels.forEach((q, k) => (out[q] = values[k]));
  return out;
}

/** The image with its masked pixels replaced by the harmonic (Laplace) fill. */
export function harmonicInpaint(image: ArrayLike<number>, mask: ArrayLike<number>, grid: Grid): Float64Array {
  const { pixels, place } = unknownsOf(mask, grid);
  // Row q: Σ over neighbours j of (u_q − u_j) = 0, the known u_j on the right.
  const rows: Rows = Array.from(pixels, () => new Map());
  const b = new Float64Array(pixels.length);
  pixels.forEach((q, k) => {
    const around = neighboursOf(q, grid);
    rows[k].set(k, around.length);
    for (const j of around) {
      if (place[j] >= 0) rows[k].set(place[j], -1);
      else b[k] += image[j];
    }
  });
  return filled(image, pixels, solveBanded(rows, b));
}

/** The image with its masked pixels replaced by the biharmonic fill. */
export function biharmonicInpaint(image: ArrayLike<number>, mask: ArrayLike<number>, grid: Grid): Float64Array {
  const { pixels, place } = unknownsOf(mask, grid);
  // Least squares over the centres p (masked pixels and their neighbours): minimise Σ (a_p·u + c_p)²,
  // a_p the Laplacian's weights at p on the masked pixels, c_p its sum over the known ones.
  const centres = new Set<number>();
  for (const q of pixels) for (const p of [q, ...neighboursOf(q, grid)]) centres.add(p);
  const rows: Rows = Array.from(pixels, () => new Map());
  const b = new Float64Array(pixels.length);
  for (const p of centres) {
    const around = neighboursOf(p, grid);
    const weights = [[p, -around.length], ...around.map((j) => [j, 1])];
    let known = 0;
    const masked: [number, number][] = [];
    for (const [j, a] of weights) {
      if (place[j] >= 0) masked.push([place[j], a]);
      else known += a * image[j];
    }
    for (const [k, a] of masked) {
      b[k] -= a * known;
      for (const [l, c] of masked) if (l <= k) rows[k].set(l, (rows[k].get(l) ?? 0) + a * c);
    }
  }
  return filled(image, pixels, solveBanded(rows, b));
}
