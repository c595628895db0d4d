// A series' slices → one volume's geometry (PS3.3 §C.7.6.2). Slices are sorted along the normal
// n = row cosine × column cosine by the distance of ImagePositionPatient along it. The step
// between slices need not be along n: with gantry tilt (CT) the positions walk sideways, and the
// volume is sheared; the affine's slice column is then the real step, not n × spacing, so every
// voxel lands where the scanner put it (a sheared affine, as dcm2niix writes for tilted series
// when asked not to resample). Uneven gaps cannot be one affine: they are an error naming the
// gaps, or, asked for, the slices are interpolated linearly onto an even grid.
import { checkBudget } from '../../src/io/limits.ts';

export interface SliceGeometry {
  key: string;
  rows: number;
  columns: number;
  /** ImagePositionPatient (LPS mm); undefined when the file has none. */
  position?: number[];
  /** ImageOrientationPatient: row then column direction cosines. */
  orientation?: number[];
  /** PixelSpacing: between rows, then between columns (mm). */
  pixelSpacing?: number[];
  /** SpacingBetweenSlices, else SliceThickness: the step for a single slice. */
  thickness?: number;
}

export interface Resampled {
  /** For each output slice: the input slices either side (sorted order) and the weight of the upper one. */
  from: { lower: number; upper: number; weight: number }[];
}

export interface SeriesGeometry {
  /** Input slices in volume order (indices into the list given). */
  order: number[];
  /** Voxel (i = column, j = row, k = slice) → LPS mm, 4 × 4 row-major. */
  affineLps: number[];
  /** Array-axis spacing: slice, row, column (mm). */
  spacing: [number, number, number];
  /** Angle between the slice step and the slice normal (degrees): gantry tilt. */
  tiltDeg: number;
  /** Present when uneven slices were interpolated onto an even grid. */
  resampled?: Resampled;
  /** What had to be assumed (no orientation, no position); empty when nothing. */
  assumed: string[];
}

const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const sub = (a: number[], b: number[]) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const scale = (a: number[], s: number) => [a[0] * s, a[1] * s, a[2] * s];
const norm = (a: number[]) => Math.hypot(a[0], a[1], a[2]);

/** Geometry of a series; throws (naming slices and numbers) when the slices do not make one volume. */
export function seriesGeometry(slices: SliceGeometry[], uneven: 'error' | 'resample'): SeriesGeometry {
  const first = slices[0];
  const assumed: string[] = [];
  for (const s of slices) {
    if (s.rows !== first.rows || s.columns !== first.columns) throw new Error(`${s.key} is ${s.rows} × ${s.columns}, ${first.key} ${first.rows} × ${first.columns}: one series, two image sizes`);
  }
  const orientation = first.orientation?.length === 6 ? first.orientation : undefined;
  if (!orientation) assumed.push('orientation (no ImageOrientationPatient: axial assumed)');
  const [rx, ry, rz, cx, cy, cz] = orientation ?? [1, 0, 0, 0, 1, 0];
  const r = [rx, ry, rz];
  const c = [cx, cy, cz];
  const n = cross(r, c);
  for (const s of slices) {
    if (s.orientation && orientation && s.orientation.some((v, i) => Math.abs(v - orientation[i]) > 1e-4)) {
      throw new Error(`${s.key} has orientation ${s.orientation.join('\\')}, ${first.key} ${orientation.join('\\')}: slices of one series must be parallel`);
    }
  }
  const [rowSpacing, columnSpacing] = first.pixelSpacing?.length === 2 ? first.pixelSpacing : (assumed.push('pixel spacing (no PixelSpacing: 1 mm assumed)'), [1, 1]);
  if (!first.position) assumed.push('position (no ImagePositionPatient: the origin assumed)');
  const positions = slices.map((s) => s.position ?? [0, 0, 0]);
  const distance = positions.map((p) => dot(p, n));
  const order = slices.map((_, i) => i).sort((a, b) => distance[a] - distance[b]);
  for (let k = 1; k < order.length; k++) {
    if (Math.abs(distance[order[k]] - distance[order[k - 1]]) < 1e-3) {
      throw new Error(`${slices[order[k - 1]].key} and ${slices[order[k]].key} lie at the same position along the slice normal: two acquisitions in one series?`);
    }
  }
  const origin = positions[order[0]];
  const column = (step: number[]) => [
    r[0] * columnSpacing, c[0] * rowSpacing, step[0], origin[0],
    r[1] * columnSpacing, c[1] * rowSpacing, step[1], origin[1],
    r[2] * columnSpacing, c[2] * rowSpacing, step[2], origin[2],
    0, 0, 0, 1,
  ];
  if (order.length === 1) {
    const thickness = first.thickness ?? (assumed.push('slice spacing (no SpacingBetweenSlices or SliceThickness: 1 mm assumed)'), 1);
    return { order, affineLps: column(scale(n, thickness)), spacing: [thickness, rowSpacing, columnSpacing], tiltDeg: 0, assumed };
  }
  const last = positions[order[order.length - 1]];
  const span = distance[order[order.length - 1]] - distance[order[0]];
  // Every position on the line from the first to the last (a constant tilt), to 0.01 mm.
  const line = scale(sub(last, origin), 1 / span); // mm of position per mm along n
  for (const i of order) {
    const expected = sub(positions[i], scale(line, distance[i] - distance[order[0]]));
    if (norm(sub(expected, origin)) > 0.01) throw new Error(`${slices[i].key} is ${norm(sub(expected, origin)).toFixed(3)} mm off the line through the other slices' positions: not one volume`);
  }
  const tiltDeg = (Math.acos(Math.min(1, 1 / norm(line))) * 180) / Math.PI;
  const gaps = order.slice(1).map((i, k) => distance[i] - distance[order[k]]);
  const mean = span / gaps.length;
  const even = gaps.every((g) => Math.abs(g - mean) <= Math.max(0.01, 1e-3 * mean));
  if (even) return { order, affineLps: column(scale(line, mean)), spacing: [mean, rowSpacing, columnSpacing], tiltDeg, assumed };
  const listed = gaps.map((g) => g.toFixed(3)).join(', ');
  if (uneven === 'error') throw new Error(`uneven slice spacing (${listed} mm between neighbours): give uneven_spacing: resample to interpolate onto an even grid`);
  // Onto the smallest gap, so no slice's detail is lost.
  const step = Math.min(...gaps);
  const count = Math.floor(span / step + 1e-6) + 1;
  checkBudget(count * first.rows * first.columns * 4, `resampling the series onto ${count} slices`);
  const from = Array.from({ length: count }, (_, m) => {
    const at = m * step;
    let k = 0;
    while (k + 1 < order.length - 1 && distance[order[k + 1]] - distance[order[0]] <= at) k++;
    const lower = distance[order[k]] - distance[order[0]];
    const upper = distance[order[k + 1]] - distance[order[0]];
    return { lower: k, upper: k + 1, weight: Math.min(1, Math.max(0, (at - lower) / (upper - lower))) };
  });
  return { order, affineLps: column(scale(line, step)), spacing: [step, rowSpacing, columnSpacing], tiltDeg, resampled: { from }, assumed };
}

/** LPS → RAS: x and y change sign. */
export function lpsToRas(affine: number[]): number[] {
  return affine.map((v, i) => (i < 8 ? -v : v));
}
