// `astro.background`: the sky background and its noise under an image, as photutils' Background2D
// estimates them by default: the image cut into `box`-pixel meshes; in each, values sigma-clipped
// (3σ about the median, up to 10 rounds); background = 2.5 × median − 1.5 × mean (SExtractor's
// mode estimate), or the median where the clipped values are skewed ((mean − median) / std > 0.3);
// rms = the clipped standard deviation; meshes more than 10 % blank (50 % once sources are
// masked) are filled from their
// neighbours; both maps median-filtered over `filter` meshes, then interpolated between mesh
// centres (bilinear here, where photutils uses a cubic spline). Adds `background` and `rms`.
// With `mask_sources` (photutils advises a source mask), a first estimate finds the pixels of
// sources (2σ above it, 8-connected groups of 5 or more, grown by `mask_grow` pixels) and the
// estimate is made again without them, so stars do not lift the background under themselves.
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { sigmaClippedStats } from './lib/sigma-clip.ts';

const params = z.object({
  box: z.number().int().min(4).default(64).describe('mesh size in pixels'),
  filter: z.number().int().min(1).default(3).describe('median filter over this many meshes (odd)'),
  sigma: z.number().positive().default(3),
  mask_sources: z.boolean().default(true),
  mask_grow: z.number().int().min(0).default(3),
  column: z.string().min(1).default('data'),
}).strict();

export interface BackgroundMaps { background: Float32Array; rms: Float32Array }

/** Background and rms maps of an image of `ny` rows by `nx` columns. */
export function estimateBackground(image: ArrayLike<number>, ny: number, nx: number,
  o: { box: number; filter: number; sigma: number; mask_sources?: boolean; mask_grow?: number }): BackgroundMaps {
  const first = meshBackground(image, ny, nx, o);
  if (!o.mask_sources) return first;
  const masked = Float64Array.from(image);
  const mask = sourceMask(image, first, ny, nx, o.mask_grow ?? 3);
  for (let i = 0; i < masked.length; i++) if (mask[i]) masked[i] = NaN;
  return meshBackground(masked, ny, nx, { ...o, blankShare: 0.5 });
}

/** Pixels of sources: 2σ above the first estimate, in 8-connected groups of 5 or more, grown by `grow`. */
function sourceMask(image: ArrayLike<number>, first: BackgroundMaps, ny: number, nx: number, grow: number): Uint8Array {
  const above = Uint8Array.from({ length: ny * nx }, (_, i) => (image[i] - first.background[i] > 2 * first.rms[i] ? 1 : 0));
  const seen = new Uint8Array(ny * nx);
  const mask = new Uint8Array(ny * nx);
  for (let start = 0; start < ny * nx; start++) {
    if (!above[start] || seen[start]) continue;
    const group = [start];
    seen[start] = 1;
    for (let k = 0; k < group.length; k++) {
      const y = Math.floor(group[k] / nx);
      const x = group[k] - y * nx;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const q = (y + dy) * nx + x + dx;
        if (y + dy >= 0 && y + dy < ny && x + dx >= 0 && x + dx < nx && above[q] && !seen[q]) {
          seen[q] = 1;
          group.push(q);
        }
      }
    }
    if (group.length < 5) continue;
    for (const p of group) {
      const y = Math.floor(p / nx);
      const x = p - y * nx;
      for (let yy = Math.max(0, y - grow); yy <= Math.min(ny - 1, y + grow); yy++) for (let xx = Math.max(0, x - grow); xx <= Math.min(nx - 1, x + grow); xx++) mask[yy * nx + xx] = 1;
    }
  }
  return mask;
}

function meshBackground(image: ArrayLike<number>, ny: number, nx: number, o: { box: number; filter: number; sigma: number; blankShare?: number }): BackgroundMaps {
  const my = Math.ceil(ny / o.box);
  const mx = Math.ceil(nx / o.box);
  const bkg = new Float64Array(my * mx).fill(NaN);
  const rms = new Float64Array(my * mx).fill(NaN);
  for (let j = 0; j < my; j++) for (let i = 0; i < mx; i++) {
    const values: number[] = [];
    let blank = 0;
    for (let y = j * o.box; y < Math.min(ny, (j + 1) * o.box); y++) for (let x = i * o.box; x < Math.min(nx, (i + 1) * o.box); x++) {
      const v = image[y * nx + x];
      if (Number.isFinite(v)) values.push(v);
      else blank++;
    }
    if (values.length === 0 || blank > (o.blankShare ?? 0.1) * (values.length + blank)) continue;
    const s = sigmaClippedStats(values, o.sigma, 10);
    bkg[j * mx + i] = s.std > 0 && (s.mean - s.median) / s.std > 0.3 ? s.median : 2.5 * s.median - 1.5 * s.mean;
    rms[j * mx + i] = s.std;
  }
  for (const grid of [bkg, rms]) {
    fillBlankMeshes(grid, my, mx);
    grid.set(medianFilter(grid, my, mx, o.filter));
  }
  return { background: interpolate(bkg, my, mx, ny, nx, o.box), rms: interpolate(rms, my, mx, ny, nx, o.box) };
}

/** Blank meshes take the mean of their non-blank neighbours, growing outwards. */
function fillBlankMeshes(grid: Float64Array, my: number, mx: number) {
  if (grid.every(Number.isNaN)) throw new Error('every mesh is blank: the image holds no finite values');
  while (grid.some(Number.isNaN)) {
    const next = grid.slice();
    for (let j = 0; j < my; j++) for (let i = 0; i < mx; i++) {
      if (!Number.isNaN(grid[j * mx + i])) continue;
      let sum = 0;
      let n = 0;
      for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
        const v = grid[(j + dj) * mx + (i + di)];
        if (j + dj >= 0 && j + dj < my && i + di >= 0 && i + di < mx && !Number.isNaN(v)) {
          sum += v;
          n++;
        }
      }
      if (n > 0) next[j * mx + i] = sum / n;
    }
    grid.set(next);
  }
}

function medianFilter(grid: Float64Array, my: number, mx: number, size: number): Float64Array {
  const half = Math.floor(size / 2);
  const out = new Float64Array(grid.length);
  for (let j = 0; j < my; j++) for (let i = 0; i < mx; i++) {
    const near: number[] = [];
    for (let y = Math.max(0, j - half); y <= Math.min(my - 1, j + half); y++) for (let x = Math.max(0, i - half); x <= Math.min(mx - 1, i + half); x++) near.push(grid[y * mx + x]);
    near.sort((a, b) => a - b);
    const m = near.length >> 1;
    out[j * mx + i] = near.length % 2 ? near[m] : (near[m - 1] + near[m]) / 2;
  }
  return out;
}

/** Bilinear between mesh centres, held flat beyond the outer centres. */
function interpolate(grid: Float64Array, my: number, mx: number, ny: number, nx: number, box: number): Float32Array {
  const out = new Float32Array(ny * nx);
  const cy = Array.from({ length: my }, (_, j) => (j * box + Math.min(ny, (j + 1) * box)) / 2 - 0.5);
  const cx = Array.from({ length: mx }, (_, i) => (i * box + Math.min(nx, (i + 1) * box)) / 2 - 0.5);
  const locate = (c: number[], v: number): [number, number, number] => {
    if (c.length === 1 || v <= c[0]) return [0, 0, 0];
    if (v >= c[c.length - 1]) return [c.length - 1, c.length - 1, 0];
    let k = 0;
    while (c[k + 1] < v) k++;
    return [k, k + 1, (v - c[k]) / (c[k + 1] - c[k])];
  };
  for (let y = 0; y < ny; y++) {
    const [j0, j1, ty] = locate(cy, y);
    for (let x = 0; x < nx; x++) {
      const [i0, i1, tx] = locate(cx, x);
      const top = grid[j0 * mx + i0] * (1 - tx) + grid[j0 * mx + i1] * tx;
      const bottom = grid[j1 * mx + i0] * (1 - tx) + grid[j1 * mx + i1] * tx;
      out[y * nx + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

export const background = defineMap({
  name: 'astro.background',
  kind: 'map',
  version: '1',
  description: "Sky background and rms maps of 2-D images (sigma-clipped meshes, SExtractor mode, median-filtered, interpolated); adds 'background', 'rms'.",
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const { shape } = tensorInfo(input, p.column);
    if (shape.length !== 2) throw new SchemaError(`'${p.column}' holds ${shape.length}-D tensors; the background is estimated on 2-D images`);
    return withColumns(input, ['background', 'rms'].map((name) => tensorField(name, { shape, kind: 'float32' })));
  },
  create(p, { outputSchema }) {
    return (batch) => {
      const [ny, nx] = tensorInfo(outputSchema, p.column).shape;
      const values = tensorValues(batch, p.column);
      const maps = { background: new Float32Array(batch.numRows * ny * nx), rms: new Float32Array(batch.numRows * ny * nx) };
      for (let r = 0; r < batch.numRows; r++) {
        const m = estimateBackground(values.subarray(r * ny * nx, (r + 1) * ny * nx), ny, nx, p);
        maps.background.set(m.background, r * ny * nx);
        maps.rms.set(m.rms, r * ny * nx);
      }
      const field = (name: string) => outputSchema.fields.find((f) => f.name === name)!;
      return makeBatch(outputSchema, [...batch.data.children, tensorData(field('background'), maps.background, batch.numRows), tensorData(field('rms'), maps.rms, batch.numRows)], batch.numRows);
    };
  },
});
