// Simulated lung nodules written into a real CT volume. A nodule is a ball whose edge is blurred
// by a Gaussian of `edgeMm` (share covered: Φ((r − d) / w) at distance d from the centre), averaged
// over 3 × 3 × 3 points of each voxel, so a 3-mm nodule on 3-mm voxels shows the partial-volume
// contrast a scanner gives. It blends into the parenchyma around it: a voxel covered by a share α
// becomes (1 − α)·old + α·nodule. Solid: a core of 0 to +100 HU. Part-solid: a ground-glass ball
// of −600 to −300 HU around a solid core of 30-60 % of its diameter. A little texture (normal noise
// weighted by α) keeps the inside from being flat. Diameters are log-uniform, centres fall on
// random voxels of the search region (plus a sub-voxel offset) at least min(r, fitMm) inside the
// lung mask and the volume, and no two nodules overlap.
import { normalCdf } from '../../../numeric/erf.ts';
import type { Random } from '../../../numeric/random.ts';
import { squaredDistances } from './distance.ts';

export const noduleKinds = ['solid', 'part-solid'] as const;
export type NoduleKind = (typeof noduleKinds)[number];

export interface Nodule {
  /** 1, 2, … within its volume. */
  nodule: number;
  kind: NoduleKind;
  diameter_mm: number;
  /** The solid core's diameter (the whole nodule's for a solid one). */
  core_diameter_mm: number;
  core_hu: number;
  /** The ground-glass part's HU (part-solid), null for a solid nodule. */
  halo_hu: number | null;
  /** Centre in voxel coordinates (i column, j row, k slice). */
  i: number;
  j: number;
  k: number;
  /** Centre in world (RAS) mm. */
  x_mm: number;
  y_mm: number;
  z_mm: number;
}

export interface NoduleOptions {
  count: number;
  diameterMm: [number, number];
  kinds: NoduleKind[];
  edgeMm: number;
  noiseHu: number;
  fitMm: number;
}

/** A volume's voxel grid: dims [ni, nj, nk], spacing (mm) along i, j, k, and the voxel → RAS affine. */
export interface VoxelGrid {
  dims: number[];
  spacing: number[];
  affine: number[];
}

const world = (affine: number[], p: number[]) => [0, 1, 2].map((r) => affine[r * 4] * p[0] + affine[r * 4 + 1] * p[1] + affine[r * 4 + 2] * p[2] + affine[r * 4 + 3]);

/** Share of voxel (i, j, k) inside a ball of radius `r` mm at voxel coordinates `c`, its edge blurred by `w` mm (3³ points a voxel). */
export function ballShare(i: number, j: number, k: number, c: number[], r: number, w: number, spacing: number[]): number {
  let sum = 0;
  for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) for (let e = -1; e <= 1; e++) {
    const d = Math.hypot((i + a / 3 - c[0]) * spacing[0], (j + b / 3 - c[1]) * spacing[1], (k + e / 3 - c[2]) * spacing[2]);
    sum += w > 0 ? normalCdf((r - d) / w) : d <= r ? 1 : 0;
  }
  return sum / 27;
}

/** Writes `nodule` into `values` (on `grid`), blending it into what is there; noise from `random`. */
export function implant(values: Float32Array, grid: VoxelGrid, nodule: Nodule, o: Pick<NoduleOptions, 'edgeMm' | 'noiseHu'>, random: Random) {
  const [ni, nj, nk] = grid.dims;
  const c = [nodule.i, nodule.j, nodule.k];
  const r = nodule.diameter_mm / 2;
  const rc = nodule.core_diameter_mm / 2;
  const reach = r + 4 * o.edgeMm;
  const range = (a: number, n: number) => [Math.max(0, Math.floor(c[a] - reach / grid.spacing[a]) - 1), Math.min(n - 1, Math.ceil(c[a] + reach / grid.spacing[a]) + 1)];
  const [[i0, i1], [j0, j1], [k0, k1]] = [range(0, ni), range(1, nj), range(2, nk)];
  for (let k = k0; k <= k1; k++) for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) {
    const share = ballShare(i, j, k, c, r, o.edgeMm, grid.spacing);
    if (share < 1e-6) continue;
    const p = (k * nj + j) * ni + i;
    let v = values[p];
    if (nodule.halo_hu === null) v += (nodule.core_hu - v) * share;
    else {
      v += (nodule.halo_hu - v) * share;
      v += (nodule.core_hu - v) * ballShare(i, j, k, c, rc, o.edgeMm, grid.spacing);
    }
    values[p] = v + o.noiseHu * share * random.normal();
  }
}

/** Distance (mm) from each voxel centre to the nearest voxel outside `mask`, or to the volume's faces if nearer. */
export function depthInside(mask: Uint8Array, grid: VoxelGrid): Float64Array {
  const [ni, nj, nk] = grid.dims;
  const [si, sj, sk] = grid.spacing;
  const outside = Uint8Array.from(mask, (m) => (m ? 0 : 1));
  const d = squaredDistances(outside, grid.dims, grid.spacing);
  const depth = new Float64Array(d.length);
  for (let k = 0, p = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++, p++) {
    const face = Math.min((i + 0.5) * si, (ni - i - 0.5) * si, (j + 0.5) * sj, (nj - j - 0.5) * sj, (k + 0.5) * sk, (nk - k - 0.5) * sk);
    depth[p] = mask[p] ? Math.min(Math.sqrt(d[p]), face) : 0;
  }
  return depth;
}

/** Draws `o.count` nodules with centres in `region` (voxels of the lung mask), `depth` being depthInside of the lung mask. */
export function drawNodules(region: Uint8Array, depth: Float64Array, grid: VoxelGrid, o: NoduleOptions, random: Random): Nodule[] {
  const inRegion = Int32Array.from(Array.from(region).flatMap((m, p) => (m ? [p] : [])));
  const nodules: Nodule[] = [];
  const [lo, hi] = o.diameterMm;
  for (let n = 1; n <= o.count; n++) {
    const diameter = Math.exp(Math.log(lo) + random.uniform() * (Math.log(hi) - Math.log(lo)));
    const r = diameter / 2;
    const kind = o.kinds[Math.floor(random.uniform() * o.kinds.length)];
    const core = kind === 'solid' ? diameter : diameter * (0.3 + 0.3 * random.uniform());
    const coreHu = 100 * random.uniform();
    const haloHu = kind === 'solid' ? null : -600 + 300 * random.uniform();
    const centre = placeCentre(inRegion, depth, grid, Math.min(r, o.fitMm), nodules, r, random);
    if (!centre) throw new Error(`no room for nodule ${n} (${diameter.toFixed(1)} mm) in the search region: it needs voxels ${Math.min(r, o.fitMm).toFixed(1)} mm inside the lung, clear of the ${nodules.length} placed (lower count, fit_mm or the diameters)`);
    const [x, y, z] = world(grid.affine, centre);
    nodules.push({ nodule: n, kind, diameter_mm: diameter, core_diameter_mm: core, core_hu: coreHu, halo_hu: haloHu, i: centre[0], j: centre[1], k: centre[2], x_mm: x, y_mm: y, z_mm: z });
  }
  return nodules;
}

/** A random centre (voxel coordinates) among `candidates` at least `need` mm deep, clear of `placed`; undefined after 2,000 tries. */
function placeCentre(candidates: Int32Array, depth: Float64Array, grid: VoxelGrid, need: number, placed: Nodule[], r: number, random: Random): number[] | undefined {
  const [ni, nj] = grid.dims;
  const deep = candidates.filter((p) => depth[p] >= need);
  for (let attempt = 0; deep.length > 0 && attempt < 2000; attempt++) {
    const p = deep[Math.floor(random.uniform() * deep.length)];
    const c = [p % ni + random.uniform() - 0.5, Math.floor(p / ni) % nj + random.uniform() - 0.5, Math.floor(p / (ni * nj)) + random.uniform() - 0.5];
    const clear = placed.every((q) => Math.hypot((c[0] - q.i) * grid.spacing[0], (c[1] - q.j) * grid.spacing[1], (c[2] - q.k) * grid.spacing[2]) >= r + q.diameter_mm / 2);
    if (clear) return c;
  }
  return undefined;
}

/** The voxels of `mask` on one side of the patient: world x (RAS: towards the patient's left) above or below the mask's centroid. */
export function sideOf(mask: Uint8Array, grid: VoxelGrid, side: 'left' | 'right' | 'both'): Uint8Array {
  if (side === 'both') return mask.slice();
  const [ni, nj] = grid.dims;
  const x = (p: number) => world(grid.affine, [p % ni, Math.floor(p / ni) % nj, Math.floor(p / (ni * nj))])[0];
  let sum = 0;
  let n = 0;
  mask.forEach((m, p) => {
    if (m) {
      sum += x(p);
      n++;
    }
  });
  const centre = sum / Math.max(n, 1);
  return Uint8Array.from(mask, (m, p) => (m && (side === 'left' ? x(p) > centre : x(p) <= centre) ? 1 : 0));
}
