// Classical inpainting of masked pixels from the unmasked ones around them (row-major images).
//   harmonic     Laplace's equation (steady diffusion) inside the mask, the unmasked pixels as its
//                boundary values: each masked pixel the mean of its 4 neighbours. Reproduces any
//                discrete-harmonic function (a + bx + cy + dxy + e(x² − y²)) exactly; never
//                exceeds the boundary's extremes, so it cannot rebuild a peak that was clipped.
//   biharmonic   the smoothest fill in the thin-plate sense: minimises Σ (Δu)² over every pixel
//                whose 5-point Laplacian touches a masked one, so Δ²u = 0 at each masked pixel (as
//                scikit-image's inpaint_biharmonic). Reproduces quadratics and cubics exactly.
// Both are symmetric positive-definite systems over the masked pixels, solved by conjugate
// gradients; outside the image the Laplacian is not evaluated (harmonic: no flux through the edge).

export interface Grid { height: number; width: number }

const neighbours = [[-1, 0], [1, 0], [0, -1], [0, 1]] as const;

/** Conjugate gradients for A x = b (A symmetric positive-definite, given as a product), from x. */
function conjugateGradients(apply: (v: Float64Array, out: Float64Array) => void, b: Float64Array, x: Float64Array, what: string): Float64Array {
  const n = b.length;
  const r = new Float64Array(n);
  const ap = new Float64Array(n);
  apply(x, ap);
  for (let i = 0; i < n; i++) r[i] = b[i] - ap[i];
  const p = Float64Array.from(r);
  const dot = (a: Float64Array, c: Float64Array) => a.reduce((s, v, i) => s + v * c[i], 0);
  let rr = dot(r, r);
  const stop = 1e-24 * Math.max(dot(b, b), 1e-300);
  const limit = 20 * n + 1000;
  for (let k = 0; k < limit && rr > stop; k++) {
    apply(p, ap);
    const alpha = rr / dot(p, ap);
    for (let i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * ap[i];
    }
    const next = dot(r, r);
    for (let i = 0; i < n; i++) p[i] = r[i] + (next / rr) * p[i];
    rr = next;
  }
  if (rr > stop * 1e6) throw new Error(`${what} inpainting did not converge in ${limit} conjugate-gradient steps (relative residual ${Math.sqrt(rr / dot(b, b)).toExponential(2)})`);
  return x;
}

/** The masked pixels (indices) and, per pixel, its place among them (−1 if known). */
function unknownsOf(mask: ArrayLike<number>, { height, width }: Grid) {
  if (mask.length !== height * width) throw new Error(`the mask has ${mask.length} values, the image ${height} × ${width}`);
  const place = new Int32Array(height * width).fill(-1);
  const pixels: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] > 0) place[i] = pixels.push(i) - 1;
  if (pixels.length === mask.length) throw new Error('the mask covers the whole image: nothing to inpaint from');
  return { pixels: Int32Array.from(pixels), place };
}

/** The image with its masked pixels replaced by the harmonic (Laplace) fill. */
export function harmonicInpaint(image: ArrayLike<number>, mask: ArrayLike<number>, grid: Grid): Float64Array {
  const { height, width } = grid;
  const out = Float64Array.from(image);
  const { pixels, place } = unknownsOf(mask, grid);
  if (pixels.length === 0) return out;
  // Row q: Σ over in-image neighbours j of (u_q − u_j) = 0; known neighbours go to the right side.
  const links = Array.from(pixels, (q) => {
    const [y, x] = [Math.floor(q / width), q % width];
    return neighbours.map(([dy, dx]) => [y + dy, x + dx]).filter(([a, c]) => a >= 0 && a < height && c >= 0 && c < width).map(([a, c]) => a * width + c);
  });
  const b = Float64Array.from(links, (js) => js.reduce((s, j) => s + (place[j] < 0 ? image[j] : 0), 0));
  const apply = (v: Float64Array, result: Float64Array) => {
    links.forEach((js, k) => {
      let s = js.length * v[k];
      for (const j of js) if (place[j] >= 0) s -= v[place[j]];
      result[k] = s;
    });
  };
  const start = new Float64Array(pixels.length).fill(b.reduce((s, v) => s + v, 0) / Math.max(1, links.reduce((s, js) => s + js.filter((j) => place[j] < 0).length, 0)));
  const solved = conjugateGradients(apply, b, start, 'harmonic');
  pixels.forEach((q, k) => (out[q] = solved[k]));
  return out;
}

/** The image with its masked pixels replaced by the biharmonic fill (started from the harmonic one). */
export function biharmonicInpaint(image: ArrayLike<number>, mask: ArrayLike<number>, grid: Grid): Float64Array {
  const { height, width } = grid;
  const { pixels, place } = unknownsOf(mask, grid);
  const start = harmonicInpaint(image, mask, grid);
  if (pixels.length === 0) return start;
  // The pixels whose full 5-point Laplacian lies inside the image and touches a masked pixel.
  const centres = new Set<number>();
  for (const q of pixels) {
    const [y, x] = [Math.floor(q / width), q % width];
    for (const [dy, dx] of [[0, 0], ...neighbours]) {
      const [a, c] = [y + dy, x + dx];
      if (a >= 1 && a < height - 1 && c >= 1 && c < width - 1) centres.add(a * width + c);
    }
  }
  const rows = Int32Array.from(centres);
  const laplacian = (values: Float64Array, p: number) => values[p - 1] + values[p + 1] + values[p - width] + values[p + width] - 4 * values[p];
  // Aᵀ r at a masked pixel: its neighbours' r less 4 of its own (r is 0 off `rows`, and off the image).
  const transposed = (r: Float64Array, q: number) => {
    const [y, x] = [Math.floor(q / width), q % width];
    return (x > 0 ? r[q - 1] : 0) + (x < width - 1 ? r[q + 1] : 0) + (y > 0 ? r[q - width] : 0) + (y < height - 1 ? r[q + width] : 0) - 4 * r[q];
  };
  // Least squares: minimise |A u + c|², A the Laplacian at `rows` of the masked values, c that of the known ones.
  const known = Float64Array.from(image, (v, i) => (place[i] >= 0 ? 0 : v));
  const spread = new Float64Array(height * width);
  const residual = new Float64Array(height * width);
  const normal = (v: Float64Array, result: Float64Array) => {
    pixels.forEach((q, k) => (spread[q] = v[k]));
    for (const p of rows) residual[p] = laplacian(spread, p);
    pixels.forEach((q, k) => (result[k] = transposed(residual, q)));
  };
  for (const p of rows) residual[p] = -laplacian(known, p);
  const b = Float64Array.from(pixels, (q) => transposed(residual, q));
  residual.fill(0);
  const solved = conjugateGradients(normal, b, Float64Array.from(pixels, (q) => start[q]), 'biharmonic');
  pixels.forEach((q, k) => (start[q] = solved[k]));
  return start;
}
