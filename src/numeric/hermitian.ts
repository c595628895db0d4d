// Solving A x = b for a Hermitian positive-definite complex matrix A (a covariance matrix) by
// Cholesky factorisation A = L Lᴴ, then forward and back substitution. Matrices are row-major
// with separate real and imaginary parts.

export interface ComplexVector {
  re: Float64Array;
  im: Float64Array;
}

export function solveHermitian(n: number, aRe: Float64Array, aIm: Float64Array, b: ComplexVector): ComplexVector {
  const lRe = new Float64Array(n * n);
  const lIm = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diagonal = aRe[j * n + j];
    for (let k = 0; k < j; k++) diagonal -= lRe[j * n + k] ** 2 + lIm[j * n + k] ** 2;
    if (!(diagonal > 0)) throw new RangeError('the matrix is not positive definite (add diagonal loading)');
    const d = Math.sqrt(diagonal);
    lRe[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      // L[i][j] = (A[i][j] - Σ_k L[i][k] conj(L[j][k])) / L[j][j]
      let sr = aRe[i * n + j];
      let si = aIm[i * n + j];
      for (let k = 0; k < j; k++) {
        sr -= lRe[i * n + k] * lRe[j * n + k] + lIm[i * n + k] * lIm[j * n + k];
        si -= lIm[i * n + k] * lRe[j * n + k] - lRe[i * n + k] * lIm[j * n + k];
      }
      lRe[i * n + j] = sr / d;
      lIm[i * n + j] = si / d;
    }
  }
  // L y = b
  const yRe = new Float64Array(n);
  const yIm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sr = b.re[i];
    let si = b.im[i];
    for (let k = 0; k < i; k++) {
      sr -= lRe[i * n + k] * yRe[k] - lIm[i * n + k] * yIm[k];
      si -= lRe[i * n + k] * yIm[k] + lIm[i * n + k] * yRe[k];
    }
    yRe[i] = sr / lRe[i * n + i];
    yIm[i] = si / lRe[i * n + i];
  }
  // Lᴴ x = y: (Lᴴ)[i][k] = conj(L[k][i])
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sr = yRe[i];
    let si = yIm[i];
    for (let k = i + 1; k < n; k++) {
      sr -= lRe[k * n + i] * re[k] + lIm[k * n + i] * im[k];
      si -= lRe[k * n + i] * im[k] - lIm[k * n + i] * re[k];
    }
    re[i] = sr / lRe[i * n + i];
    im[i] = si / lRe[i * n + i];
  }
  return { re, im };
}
