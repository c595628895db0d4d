// Orientation of a voxel grid from its affine (voxel i, j, k → RAS mm): for each voxel axis, the
// world axis it runs most along and which way, as nibabel's aff2axcodes names them (R/L, A/P, S/I).

const letters = [['L', 'R'], ['P', 'A'], ['I', 'S']];

/** The axis codes of voxel axes i, j, k, e.g. ['R', 'A', 'S']; throws when two axes run along one world axis. */
export function axisCodes(affine: number[]): string[] {
  const used = new Set<number>();
  return [0, 1, 2].map((axis) => {
    const column = [affine[axis], affine[4 + axis], affine[8 + axis]];
    let world = 0;
    for (let w = 1; w < 3; w++) if (Math.abs(column[w]) > Math.abs(column[world])) world = w;
    if (used.has(world)) throw new Error(`voxel axes run along one world axis twice (affine columns ${JSON.stringify(affine)})`);
    used.add(world);
    return letters[world][column[world] > 0 ? 1 : 0];
  });
}
