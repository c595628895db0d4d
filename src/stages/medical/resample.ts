// `medical.resample`: volumes onto a grid of `spacing` mm (voxel axes i, j, k; 1 mm isotropic by
// default), trilinear for images, nearest for masks and labels (interpolating labels invents
// ones between). Voxel (0, 0, 0) stays where it was; the grid covers the old one's extent, its
// affine the old one's columns rescaled, so sheared (tilted) grids stay sheared.
import { z } from 'zod';
import { defineMap } from '../../workflow/stage.ts';
import { gridVolume, requireVolumes, withGridColumns, type GridVolume } from './lib/volume-rows.ts';

const method = z.enum(['linear', 'nearest']);
const params = z.object({
  spacing: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([1, 1, 1]).describe('mm along voxel axes i, j, k'),
  columns: z.record(z.string(), method).default({ data: 'linear' })
    .describe('the volume columns of the row\'s grid and how each is interpolated: linear for images, nearest for masks and labels'),
}).strict().refine((p) => Object.keys(p.columns).length > 0, { message: 'columns names no column' });

export function resampleVolume(v: GridVolume, spacing: number[], method: 'linear' | 'nearest'): GridVolume {
  const dims = [v.shape[2], v.shape[1], v.shape[0]];
  const old = [v.spacing[2], v.spacing[1], v.spacing[0]];
  const ratio = [0, 1, 2].map((a) => spacing[a] / old[a]);
  const size = [0, 1, 2].map((a) => Math.floor(((dims[a] - 1) * old[a]) / spacing[a] + 1e-9) + 1);
  const [ni, nj, nk] = size;
  const values = new Float32Array(ni * nj * nk);
  const plane = dims[0] * dims[1];
  const at = (i: number, j: number, k: number) => v.values[k * plane + j * dims[0] + i];
  // Per axis: lower index and weight of the upper, precomputed.
  const axis = (a: number) => Array.from({ length: size[a] }, (_, n) => {
    const x = Math.min(n * ratio[a], dims[a] - 1);
    if (method === 'nearest') return { lo: Math.round(x), w: 0 };
    const lo = Math.min(Math.floor(x), Math.max(dims[a] - 2, 0));
    return { lo, w: dims[a] > 1 ? x - lo : 0 };
  });
  const [xs, ys, zs] = [axis(0), axis(1), axis(2)];
  const hi = (lo: number, a: number) => Math.min(lo + 1, dims[a] - 1);
  let n = 0;
  for (let k = 0; k < nk; k++) {
    const z0 = zs[k].lo, z1 = hi(z0, 2), wz = zs[k].w;
    for (let j = 0; j < nj; j++) {
      const y0 = ys[j].lo, y1 = hi(y0, 1), wy = ys[j].w;
      for (let i = 0; i < ni; i++) {
        const x0 = xs[i].lo, x1 = hi(x0, 0), wx = xs[i].w;
        if (method === 'nearest') {
          values[n++] = at(x0, y0, z0);
          continue;
        }
        const c00 = at(x0, y0, z0) * (1 - wx) + at(x1, y0, z0) * wx;
        const c10 = at(x0, y1, z0) * (1 - wx) + at(x1, y1, z0) * wx;
        const c01 = at(x0, y0, z1) * (1 - wx) + at(x1, y0, z1) * wx;
        const c11 = at(x0, y1, z1) * (1 - wx) + at(x1, y1, z1) * wx;
        values[n++] = (c00 * (1 - wy) + c10 * wy) * (1 - wz) + (c01 * (1 - wy) + c11 * wy) * wz;
      }
    }
  }
  const affine = v.affine.map((value, index) => (index < 12 && index % 4 < 3 ? value * ratio[index % 4] : value));
  return { values, shape: [nk, nj, ni], affine, spacing: [spacing[2], spacing[1], spacing[0]] };
}

export const resample = defineMap({
  name: 'medical.resample',
  kind: 'map',
  version: '1',
  description: 'Volumes resampled to a target spacing (1 mm isotropic by default): trilinear for images, nearest for masks.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    for (const column of Object.keys(p.columns)) requireVolumes(input, column);
    return input;
  },
  create(p) {
    // Every listed column lies on the row's grid: each is resampled, the grid changes once.
    return (batch) => {
      const grids: GridVolume[] = [];
      const columns: Record<string, Float32Array[]> = {};
      for (const [column, how] of Object.entries(p.columns)) {
        columns[column] = Array.from({ length: batch.numRows }, (_, r) => {
          const v = resampleVolume(gridVolume(batch, r, column), p.spacing, how);
          grids[r] ??= v;
          return v.values;
        });
      }
      return withGridColumns(batch, grids, columns);
    };
  },
});
