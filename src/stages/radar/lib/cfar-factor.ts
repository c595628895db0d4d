// CFAR threshold factors for square-law detection in exponentially distributed noise (Swerling
// noise power): the multiplier T that makes a cell's false-alarm probability exactly `pfa` when
// the threshold is T × (an estimate from the training cells). Gandhi & Kassam (1988), Rohling (1983).
//
//   CA: threshold = T × mean of N cells;   Pfa = (1 + T/N)^-N, so T = N (Pfa^(-1/N) - 1)
//   GO / SO: threshold = T × the larger / smaller of the means of two halves of m and n cells
//       (unequal where a window is cut at the edge of the map). With Z = min of the two means,
//       Pfa_SO = E[e^(-TZ)] = Σ_{j<n} C(m-1+j, j) m^m n^j (T+m+n)^-(m+j) + (the same, m and n swapped),
//       Pfa_GO = (1 + T/m)^-m + (1 + T/n)^-n - Pfa_SO    (e^-T·max + e^-T·min = e^-TX + e^-TY)
//   OS: threshold = T × the k-th smallest of N cells; Pfa = Π_{i<k} (N-i) / (N-i+T)
// GO, SO and OS are solved for T by bisection (each Pfa falls as T grows).

export type CfarMethod = 'ca' | 'go' | 'so' | 'os';

/** T for cell averaging over `cells` training cells. */
export function caFactor(pfa: number, cells: number): number {
  check(pfa, cells);
  return cells * (Math.pow(pfa, -1 / cells) - 1);
}

export function soPfa(t: number, m: number, n: number): number {
  const logBase = Math.log(t + m + n);
  const logFactorial = [0];
  for (let i = 1; i < m + n; i++) logFactorial[i] = logFactorial[i - 1] + Math.log(i);
  // One sum per half being the smaller: Σ_{j<n} C(m-1+j, j) m^m n^j (T+m+n)^-(m+j), and its mirror.
  const side = (m: number, n: number) => {
    let sum = 0;
    for (let j = 0; j < n; j++) {
      sum += Math.exp(logFactorial[m - 1 + j] - logFactorial[m - 1] - logFactorial[j] + m * Math.log(m) + j * Math.log(n) - (m + j) * logBase);
    }
    return sum;
  };
  return side(m, n) + side(n, m);
}

export const goPfa = (t: number, m: number, n: number) => Math.pow(1 + t / m, -m) + Math.pow(1 + t / n, -n) - soPfa(t, m, n);

export function osPfa(t: number, cells: number, k: number): number {
  let p = 1;
  for (let i = 0; i < k; i++) p *= (cells - i) / (cells - i + t);
  return p;
}

/** T for greatest-of / smallest-of over halves of `m` and `n` cells; with one half empty, CA over the other. */
export const goFactor = (pfa: number, m: number, n: number) => halves(pfa, m, n) ?? solve((t) => goPfa(t, m, n), pfa, m + n);
export const soFactor = (pfa: number, m: number, n: number) => halves(pfa, m, n) ?? solve((t) => soPfa(t, m, n), pfa, m + n);

function halves(pfa: number, m: number, n: number): number | undefined {
  if (m === 0 || n === 0) return caFactor(pfa, m + n);
  check(pfa, m);
  check(pfa, n);
  return undefined;
}

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
