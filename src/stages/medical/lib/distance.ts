// Exact Euclidean distance transform on a voxel grid of any spacing (Felzenszwalb & Huttenlocher
// 2012: the lower envelope of parabolas, one axis at a time), and the surface distances between
// two masks that HD95 is made of (as MedPy's hd95: the 95th percentile of both directions' surface
// distances together).
import { percentile } from '../../../numeric/percentile.ts';

/** Squared distance (mm²) from every voxel to the nearest voxel where `feature` is 1. */
export function squaredDistances(feature: Uint8Array, dims: number[], spacing: number[]): Float64Array {
  const d = Float64Array.from(feature, (v) => (v ? 0 : Infinity));
  const [ni, nj, nk] = dims;
  const strides = [1, ni, ni * nj];
  const longest = Math.max(ni, nj, nk);
  const f = new Float64Array(longest);
  const out = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis];
    const s = spacing[axis];
    const stride = strides[axis];
    const others = [0, 1, 2].filter((a) => a !== axis);
    for (let b = 0; b < dims[others[1]]; b++) for (let a = 0; a < dims[others[0]]; a++) {
      const base = a * strides[others[0]] + b * strides[others[1]];
      for (let q = 0; q < n; q++) f[q] = d[base + q * stride];
      // Lower envelope of the parabolas s²(p − q)² + f(q) over the finite f(q).
      let k = -1;
      for (let q = 0; q < n; q++) {
        if (f[q] === Infinity) continue;
        const xq = q * s;
        while (k >= 0) {
          const xv = v[k] * s;
          const cross = (f[q] + xq * xq - (f[v[k]] + xv * xv)) / (2 * (xq - xv));
          if (cross <= z[k]) k--;
          else {
            k++;
            v[k] = q;
            z[k] = cross;
            z[k + 1] = Infinity;
            break;
          }
        }
        if (k < 0) {
          k = 0;
          v[0] = q;
          z[0] = -Infinity;
          z[1] = Infinity;
        }
      }
      if (k < 0) continue; // no feature on this line: stays infinite
      let j = 0;
      for (let p = 0; p < n; p++) {
        const xp = p * s;
        while (z[j + 1] < xp) j++;
        const xv = v[j] * s;
        out[p] = (xp - xv) ** 2 + f[v[j]];
      }
      for (let p = 0; p < n; p++) d[base + p * stride] = out[p];
    }
  }
  return d;
}

/** Voxels of `mask` with a 6-neighbour outside it (or at the grid's edge). */
export function surface(mask: Uint8Array, dims: number[]): Uint8Array {
  const [ni, nj, nk] = dims;
  const plane = ni * nj;
  return Uint8Array.from(mask, (m, p) => {
    if (!m) return 0;
    const i = p % ni;
    const j = Math.floor(p / ni) % nj;
    const k = Math.floor(p / plane);
    if (i === 0 || j === 0 || k === 0 || i === ni - 1 || j === nj - 1 || k === nk - 1) return 1;
    return mask[p - 1] && mask[p + 1] && mask[p - ni] && mask[p + ni] && mask[p - plane] && mask[p + plane] ? 0 : 1;
  });
}

/** 95th percentile of the surface distances of a to b and b to a (mm); NaN when either is empty. */
export function hd95(a: Uint8Array, b: Uint8Array, dims: number[], spacing: number[]): number {
  const sa = surface(a, dims);
  const sb = surface(b, dims);
  if (!sa.includes(1) || !sb.includes(1)) return NaN;
  const toB = squaredDistances(sb, dims, spacing);
  const toA = squaredDistances(sa, dims, spacing);
  const distances: number[] = [];
  for (let p = 0; p < sa.length; p++) {
    if (sa[p]) distances.push(Math.sqrt(toB[p]));
    if (sb[p]) distances.push(Math.sqrt(toA[p]));
  }
  return percentile(distances.sort((x, y) => x - y), 95);
}
