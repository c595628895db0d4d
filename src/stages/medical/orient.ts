// `medical.orient`: volumes turned to RAS: array axes permuted and flipped so voxel i runs towards
// the patient's right, j towards anterior, k towards superior, as nibabel's as_closest_canonical
// does. Only whole-axis moves: values are not
// interpolated, and the affine changes so every voxel keeps its place in the world.
import { z } from 'zod';
import { defineMap } from '../../workflow/stage.ts';
import { axisCodes } from '../../numeric/orientation.ts';
import { gridVolume, requireVolumes, withGrids, type GridVolume } from './lib/volume-rows.ts';

const params = z.object({ column: z.string().min(1).default('data') }).strict();

const towards = ['R', 'A', 'S'];

/** The volume on a RAS grid (i → R, j → A, k → S). */
export function toRas(v: GridVolume): GridVolume {
  const codes = axisCodes(v.affine);
  const dims = [v.shape[2], v.shape[1], v.shape[0]]; // voxel axes i, j, k
  // For each new axis w: the old voxel axis along it, and whether it runs the other way.
  const source = towards.map((letter) => codes.findIndex((c) => c === letter || c === { R: 'L', A: 'P', S: 'I' }[letter]));
  const flip = source.map((s, w) => codes[s] !== towards[w]);
  const newDims = source.map((s) => dims[s]);
  // old index = P · new + t
  const affine = [...v.affine];
  for (let row = 0; row < 3; row++) {
    let offset = v.affine[row * 4 + 3];
    for (let w = 0; w < 3; w++) {
      const s = source[w];
      affine[row * 4 + w] = v.affine[row * 4 + s] * (flip[w] ? -1 : 1);
      if (flip[w]) offset += v.affine[row * 4 + s] * (dims[s] - 1);
    }
    affine[row * 4 + 3] = offset;
  }
  const [ni, nj, nk] = newDims;
  const values = new Float32Array(v.values.length);
  const old = [0, 0, 0];
  const stride = [1, dims[0], dims[0] * dims[1]];
  let n = 0;
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) {
    const index = [i, j, k];
    let at = 0;
    for (let w = 0; w < 3; w++) {
      old[source[w]] = flip[w] ? newDims[w] - 1 - index[w] : index[w];
    }
    for (let a = 0; a < 3; a++) at += old[a] * stride[a];
    values[n++] = v.values[at];
  }
  const axisSpacing = [v.spacing[2], v.spacing[1], v.spacing[0]];
  return { values, shape: [nk, nj, ni], affine, spacing: [axisSpacing[source[2]], axisSpacing[source[1]], axisSpacing[source[0]]] };
}

export const orient = defineMap({
  name: 'medical.orient',
  kind: 'map',
  version: '1',
  description: 'Volumes permuted and flipped to RAS (i → right, j → anterior, k → superior); the affine follows, no interpolation.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireVolumes(input, p.column);
    return input;
  },
  create(p) {
    return (batch) => withGrids(batch, Array.from({ length: batch.numRows }, (_, r) => toRas(gridVolume(batch, r, p.column))), p.column);
  },
});
