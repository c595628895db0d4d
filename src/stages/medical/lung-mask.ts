// `medical.lung-mask`: the classical lung mask, a baseline and a source of training labels. On a
// HU volume: voxels below `threshold` (−320 HU, between lung parenchyma and soft tissue) are air;
// 6-connected air components that reach the volume's side faces (i or j at their edge) are the air
// around the body and are dropped (top and bottom faces are not checked: a chest crop cuts
// through the lungs there); so are components whose median is below `gas_hu` (−950 HU): free gas
// in bowel and stomach is nearly pure air, while lung parenchyma's median stays above it even in
// severe emphysema (on the TotalSegmentator crop the gas pockets have medians of −965 and −972 HU,
// the lung bases −792 and −766). Of the rest, the `components` largest are kept (the lungs, one or
// two as the trachea joins them or not), if at least `min_ml` and `min_share` of the largest (a
// fixed volume would drop both lungs of a single 1-mm slice, about 20 mL each); holes in each axial slice
// (vessels, nodules) are filled. Adds `mask` (1 lung, 0 not) on the volume's grid.
import { z } from 'zod';
import { percentile } from '../../numeric/percentile.ts';
import { defineMap } from '../../workflow/stage.ts';
import { appendVolumes, gridVolume, requireVolumes, voxelVolume, withVolumeColumns, type GridVolume } from './lib/volume-rows.ts';

const params = z.object({
  threshold: z.number().default(-320).describe('HU: below is air'),
  components: z.number().int().min(1).default(2),
  min_ml: z.number().min(0).default(1).describe('air components smaller than this are not lung (noise)'),
  min_share: z.number().min(0).max(1).default(0.1).describe('nor are those smaller than this share of the largest (airways, small gas pockets)'),
  gas_hu: z.number().default(-950).describe('components whose median HU is below this are free gas, not lung'),
  column: z.string().min(1).default('data'),
}).strict();

/** 6-connected components of `inside` (a 0/1 voxel array of `dims` [ni, nj, nk]): labels from 1, and each one's size. */
export function components(inside: Uint8Array, dims: number[]): { labels: Int32Array; sizes: number[] } {
  const [ni, nj, nk] = dims;
  const plane = ni * nj;
  const labels = new Int32Array(inside.length);
  const sizes = [0];
  const stack: number[] = [];
  for (let start = 0; start < inside.length; start++) {
    if (!inside[start] || labels[start]) continue;
    const label = sizes.length;
    let size = 0;
    labels[start] = label;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      size++;
      const i = p % ni;
      const j = Math.floor(p / ni) % nj;
      const k = Math.floor(p / plane);
      const visit = (q: number) => {
        if (inside[q] && !labels[q]) {
          labels[q] = label;
          stack.push(q);
        }
      };
      if (i > 0) visit(p - 1);
      if (i < ni - 1) visit(p + 1);
      if (j > 0) visit(p - ni);
      if (j < nj - 1) visit(p + ni);
      if (k > 0) visit(p - plane);
      if (k < nk - 1) visit(p + plane);
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/** Fills, slice by slice, background regions (4-connected) that do not reach the slice's edge. */
export function fillSliceHoles(mask: Uint8Array, dims: number[]) {
  const [ni, nj, nk] = dims;
  const plane = ni * nj;
  const outside = new Uint8Array(plane);
  const stack: number[] = [];
  for (let k = 0; k < nk; k++) {
    const slice = mask.subarray(k * plane, (k + 1) * plane);
    outside.fill(0);
    const seed = (p: number) => {
      if (!slice[p] && !outside[p]) {
        outside[p] = 1;
        stack.push(p);
      }
    };
    for (let i = 0; i < ni; i++) { seed(i); seed((nj - 1) * ni + i); }
    for (let j = 0; j < nj; j++) { seed(j * ni); seed(j * ni + ni - 1); }
    while (stack.length) {
      const p = stack.pop()!;
      const i = p % ni;
      if (i > 0) seed(p - 1);
      if (i < ni - 1) seed(p + 1);
      if (p >= ni) seed(p - ni);
      if (p + ni < plane) seed(p + ni);
    }
    for (let p = 0; p < plane; p++) if (!outside[p]) slice[p] = 1;
  }
}

/** The median of `values` over each of `labels`' components named in `wanted`, in one pass over the volume. */
function componentMedians(values: Float32Array, labels: Int32Array, sizes: number[], wanted: Set<number>): Map<number, number> {
  const inside = new Map([...wanted].map((label) => [label, { values: new Float32Array(sizes[label]), n: 0 }]));
  for (let p = 0; p < labels.length; p++) {
    const component = inside.get(labels[p]);
    if (component) component.values[component.n++] = values[p];
  }
  return new Map([...inside].map(([label, { values: v }]) => [label, percentile(v.sort(), 50)]));
}

export function lungMask(v: GridVolume, o: z.output<typeof params>): Float32Array {
  const dims = [v.shape[2], v.shape[1], v.shape[0]];
  const [ni, nj] = dims;
  const air = Uint8Array.from(v.values, (x) => (x < o.threshold ? 1 : 0));
  const { labels, sizes } = components(air, dims);
  // Components reaching a side face are outside the body.
  const outside = new Set<number>();
  for (let p = 0; p < labels.length; p++) {
    if (!labels[p]) continue;
    const i = p % ni;
    const j = Math.floor(p / ni) % nj;
    if (i === 0 || j === 0 || i === ni - 1 || j === nj - 1) outside.add(labels[p]);
  }
  const minVoxels = (o.min_ml * 1000) / voxelVolume(v.affine);
  const candidates = new Set(sizes.map((_, label) => label).filter((label) => label > 0 && !outside.has(label) && sizes[label] >= minVoxels));
  const medians = componentMedians(v.values, labels, sizes, candidates);
  const gas = new Set([...candidates].filter((label) => medians.get(label)! < o.gas_hu));
  const kept = new Set(sizes.map((size, label) => ({ size, label }))
    .filter(({ label }) => candidates.has(label) && !gas.has(label))
    .sort((a, b) => b.size - a.size)
    .filter(({ size }, _, all) => size >= o.min_share * all[0].size)
    .slice(0, o.components).map(({ label }) => label));
  const mask = Uint8Array.from(labels, (l) => (kept.has(l) ? 1 : 0));
  fillSliceHoles(mask, dims);
  return Float32Array.from(mask);
}

export const lungMaskStage = defineMap({
  name: 'medical.lung-mask',
  kind: 'map',
  version: '1',
  description: 'Classical lung mask from a HU volume: air below −320 HU inside the body, largest components, holes filled; adds `mask`.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireVolumes(input, p.column);
    return withVolumeColumns(input, ['mask']);
  },
  create(p, { outputSchema }) {
    return (batch) => appendVolumes(batch, outputSchema, [Array.from({ length: batch.numRows }, (_, r) => {
      const v = gridVolume(batch, r, p.column);
      return { values: lungMask(v, p), shape: v.shape };
    })]);
  },
});
