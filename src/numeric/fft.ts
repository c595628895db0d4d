// Complex FFT of any length, in place on separate real and imaginary arrays. Powers of two use an
// iterative radix-2 transform; other lengths (a radar's 403 range samples) Bluestein's chirp-z
// algorithm on a power-of-two transform, so every length costs O(n log n).
// forward: X[k] = Σ x[j] e^(-2πi jk/n);  inverse: x[j] = (1/n) Σ X[k] e^(+2πi jk/n).

export interface Fft {
  readonly n: number;
  forward(re: Float64Array, im: Float64Array): void;
  inverse(re: Float64Array, im: Float64Array): void;
}

const plans = new Map<number, Fft>();

/** The transform for length `n`, built once per length and reused. */
export function fftPlan(n: number): Fft {
  let plan = plans.get(n);
  if (!plan) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT length must be a positive whole number, not ${n}`);
    plan = (n & (n - 1)) === 0 ? new Radix2(n) : new Bluestein(n);
    plans.set(n, plan);
  }
  return plan;
}

function inverseByConjugation(plan: Fft, re: Float64Array, im: Float64Array) {
  const n = plan.n;
  for (let i = 0; i < n; i++) im[i] = -im[i];
  plan.forward(re, im);
  for (let i = 0; i < n; i++) {
    re[i] /= n;
    im[i] = -im[i] / n;
  }
}

class Radix2 implements Fft {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly reversed: Uint32Array;

  constructor(readonly n: number) {
    this.cos = new Float64Array(n / 2);
    this.sin = new Float64Array(n / 2);
    for (let i = 0; i < n / 2; i++) {
      this.cos[i] = Math.cos((2 * Math.PI * i) / n);
      this.sin[i] = -Math.sin((2 * Math.PI * i) / n);
    }
    const bits = Math.log2(n);
    this.reversed = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.reversed[i] = r;
    }
  }

  forward(re: Float64Array, im: Float64Array) {
    const { n, cos, sin, reversed } = this;
    for (let i = 0; i < n; i++) {
      const j = reversed[i];
      if (j > i) {
        let t = re[i]; re[i] = re[j]; re[j] = t;
        t = im[i]; im[i] = im[j]; im[j] = t;
      }
    }
    for (let size = 2; size <= n; size *= 2) {
      const half = size / 2;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0, w = 0; k < half; k++, w += step) {
          const a = start + k;
          const b = a + half;
          const tr = re[b] * cos[w] - im[b] * sin[w];
          const ti = re[b] * sin[w] + im[b] * cos[w];
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
  }

  inverse(re: Float64Array, im: Float64Array) {
    inverseByConjugation(this, re, im);
  }
}

/** X[k] = conj(w[k]) Σ (x[j] conj(w[j])) w[k-j], w[j] = e^(iπ j²/n): a convolution done by FFT. */
class Bluestein implements Fft {
  private readonly inner: Fft;
  private readonly wRe: Float64Array;
  private readonly wIm: Float64Array;
  private readonly kernelRe: Float64Array;
  private readonly kernelIm: Float64Array;
  private readonly aRe: Float64Array;
  private readonly aIm: Float64Array;

  constructor(readonly n: number) {
    let m = 1;
    while (m < 2 * n - 1) m *= 2;
    this.inner = fftPlan(m);
    this.wRe = new Float64Array(n);
    this.wIm = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const angle = (Math.PI * ((j * j) % (2 * n))) / n; // j² mod 2n keeps the angle exact for large j
      this.wRe[j] = Math.cos(angle);
      this.wIm[j] = Math.sin(angle);
    }
    this.kernelRe = new Float64Array(m);
    this.kernelIm = new Float64Array(m);
    for (let j = 0; j < n; j++) {
      this.kernelRe[j] = this.wRe[j];
      this.kernelIm[j] = this.wIm[j];
      if (j > 0) {
        this.kernelRe[m - j] = this.wRe[j];
        this.kernelIm[m - j] = this.wIm[j];
      }
    }
    this.inner.forward(this.kernelRe, this.kernelIm);
    this.aRe = new Float64Array(m);
    this.aIm = new Float64Array(m);
  }

  forward(re: Float64Array, im: Float64Array) {
    const { n, wRe, wIm, kernelRe, kernelIm, aRe, aIm, inner } = this;
    const m = inner.n;
    aRe.fill(0);
    aIm.fill(0);
    for (let j = 0; j < n; j++) {
      aRe[j] = re[j] * wRe[j] + im[j] * wIm[j];
      aIm[j] = im[j] * wRe[j] - re[j] * wIm[j];
    }
    inner.forward(aRe, aIm);
    for (let k = 0; k < m; k++) {
      const r = aRe[k] * kernelRe[k] - aIm[k] * kernelIm[k];
      aIm[k] = aRe[k] * kernelIm[k] + aIm[k] * kernelRe[k];
      aRe[k] = r;
    }
    inner.inverse(aRe, aIm);
    for (let k = 0; k < n; k++) {
      re[k] = aRe[k] * wRe[k] + aIm[k] * wIm[k];
      im[k] = aIm[k] * wRe[k] - aRe[k] * wIm[k];
    }
  }

  inverse(re: Float64Array, im: Float64Array) {
    inverseByConjugation(this, re, im);
  }
}
