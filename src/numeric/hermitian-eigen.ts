// Eigendecomposition of a Hermitian complex matrix (a covariance matrix) by cyclic Jacobi
// rotations: each off-diagonal element a_pq is first made real by a phase on column and row q,
// then zeroed by the real rotation of the symmetric case (Numerical Recipes' tan θ from
// τ = (a_qq − a_pp) / 2|a_pq|). Sweeps repeat until the off-diagonal mass is negligible; for the
// 14 × 14 matrices of an array's channels that takes five to eight sweeps. Matrices are row-major
// with separate real and imaginary parts.

export interface HermitianEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvectors as the columns of an n × n matrix (row-major): vector k is entries [i·n + k]. */
  re: Float64Array;
  im: Float64Array;
}

/** A = V diag(values) Vᴴ with V unitary. `aRe`, `aIm` are left unchanged. */
export function hermitianEigen(n: number, aRe: ArrayLike<number>, aIm: ArrayLike<number>, maxSweeps = 60): HermitianEigen {
  const ar = Float64Array.from(aRe);
  const ai = Float64Array.from(aIm);
  const vr = new Float64Array(n * n);
  const vi = new Float64Array(n * n);
  for (let i = 0; i < n; i++) vr[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += ar[i] * ar[i] + ai[i] * ai[i];
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += ar[p * n + q] ** 2 + ai[p * n + q] ** 2;
    if (off <= 1e-30 * scale) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) rotate(n, ar, ai, vr, vi, p, q);
    }
  }
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => ar[b * n + b] - ar[a * n + a]);
  const values = Float64Array.from(order, (k) => ar[k * n + k]);
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  order.forEach((k, j) => {
    for (let i = 0; i < n; i++) {
      re[i * n + j] = vr[i * n + k];
      im[i * n + j] = vi[i * n + k];
    }
  });
  return { values, re, im };
}

/** One Jacobi step on (p, q): A ← Jᴴ A J, V ← V J, with J = diag(phase on q) · real rotation. */
function rotate(n: number, ar: Float64Array, ai: Float64Array, vr: Float64Array, vi: Float64Array, p: number, q: number) {
  const xr = ar[p * n + q];
  const xi = ai[p * n + q];
  const magnitude = Math.hypot(xr, xi);
  if (magnitude === 0) return;
  // Column q times conj(e), row q times e, e = a_pq / |a_pq|: a_pq becomes |a_pq|.
  const er = xr / magnitude;
  const ei = xi / magnitude;
  for (let k = 0; k < n; k++) {
    const [cr, ci] = [ar[k * n + q], ai[k * n + q]];
    ar[k * n + q] = cr * er + ci * ei;
    ai[k * n + q] = ci * er - cr * ei;
    const [wr, wi] = [vr[k * n + q], vi[k * n + q]];
    vr[k * n + q] = wr * er + wi * ei;
    vi[k * n + q] = wi * er - wr * ei;
  }
  for (let k = 0; k < n; k++) {
    const [rr, ri] = [ar[q * n + k], ai[q * n + k]];
    ar[q * n + k] = rr * er - ri * ei;
    ai[q * n + k] = ri * er + rr * ei;
  }
  const tau = (ar[q * n + q] - ar[p * n + p]) / (2 * magnitude);
  const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
  const c = 1 / Math.sqrt(1 + t * t);
  const s = t * c;
  // Lines p and q (columns, or rows): p ← c·p − s·q, q ← s·p + c·q. `at(line, k)` is the k-th element's index.
  const rotate = (mr: Float64Array, mi: Float64Array, at: (line: number, k: number) => number) => {
    for (let k = 0; k < n; k++) {
      const [ip, iq] = [at(p, k), at(q, k)];
      const [pr, pi, qr, qi] = [mr[ip], mi[ip], mr[iq], mi[iq]];
      mr[ip] = c * pr - s * qr;
      mi[ip] = c * pi - s * qi;
      mr[iq] = s * pr + c * qr;
      mi[iq] = s * pi + c * qi;
    }
  };
  const column = (line: number, k: number) => k * n + line;
  rotate(ar, ai, column);
  rotate(vr, vi, column);
  rotate(ar, ai, (line, k) => line * n + k);
  ar[p * n + q] = ar[q * n + p] = 0;
  ai[p * n + q] = ai[q * n + p] = 0;
  ai[p * n + p] = ai[q * n + q] = 0;
}
