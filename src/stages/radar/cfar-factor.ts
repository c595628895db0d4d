// CFAR threshold factors for square-law detection in exponentially distributed noise (Swerling
// noise power): the multiplier T that makes a cell's false-alarm probability exactly `pfa` when
// the threshold is T × (an estimate from the training cells). Gandhi & Kassam (1988), Rohling (1983).
//
//   CA: threshold = T × mean of N cells;          Pfa = (1 + T/N)^-N, so T = N (Pfa^(-1/N) - 1)
//   GO / SO: threshold = T × sum of the larger / smaller of two halves of n cells each;
//       Pfa_SO = 2 Σ_{i<n} C(n-1+i, i) (2+T)^-(n+i),   Pfa_GO = 2 (1+T)^-n - Pfa_SO
//   OS: threshold = T × the k-th smallest of N cells; Pfa = Π_{i<k} (N-i) / (N-i+T)
// GO, SO and OS are solved for T by bisection (each Pfa falls as T grows).

export type CfarMethod = 'ca' | 'go' | 'so' | 'os';

/** T for cell averaging over `cells` training cells. */
export function caFactor(pfa: number, cells: number): number {
  check(pfa, cells);
  return cells * (Math.pow(pfa, -1 / cells) - 1);
}

export function soPfa(t: number, half: number): number {
  let sum = 0;
  let binomial = 1; // C(n-1+i, i), from i = 0
  for (let i = 0; i < half; i++) {
    if (i > 0) binomial = (binomial * (half - 1 + i)) / i;
    sum += binomial * Math.pow(2 + t, -(half + i));
  }
  return 2 * sum;
}

export const goPfa = (t: number, half: number) => 2 * Math.pow(1 + t, -half) - soPfa(t, half);

export function osPfa(t: number, cells: number, k: number): number {
  let p = 1;
  for (let i = 0; i < k; i++) p *= (cells - i) / (cells - i + t);
  return p;
}

/** T for greatest-of / smallest-of over two halves of `half` cells each. */
export const goFactor = (pfa: number, half: number) => solve((t) => goPfa(t, half), pfa, half);
export const soFactor = (pfa: number, half: number) => solve((t) => soPfa(t, half), pfa, half);

/** T for the `k`-th smallest of `cells` training cells (1 ≤ k ≤ cells). */
export function osFactor(pfa: number, cells: number, k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > cells) throw new RangeError(`OS-CFAR rank k must be 1..${cells}, not ${k}`);
  return solve((t) => osPfa(t, cells, k), pfa, cells);
}

function check(pfa: number, cells: number) {
  if (!(pfa > 0 && pfa < 1)) throw new RangeError(`pfa must be between 0 and 1, not ${pfa}`);
  if (!Number.isInteger(cells) || cells < 1) throw new RangeError(`training cells must be a positive whole number, not ${cells}`);
}

/** The T where a decreasing `pfaOf` equals `pfa`, to full double precision. */
function solve(pfaOf: (t: number) => number, pfa: number, cells: number): number {
  check(pfa, cells);
  let lo = 0;
  let hi = 1;
  while (pfaOf(hi) > pfa) {
    hi *= 2;
    if (hi > 1e300) throw new RangeError(`no CFAR factor reaches pfa ${pfa} with ${cells} cells`);
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (pfaOf(mid) > pfa) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
