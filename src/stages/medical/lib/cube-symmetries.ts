// The 16 symmetries of a cube patch [slice][row][column] that keep the slice axis a slice axis:
// flips of any of the three axes and, optionally, a swap of row and column (with the flips, the
// 90° rotations and mirrors of the axial plane). A symmetry is a number 0-15: bit 0 flips slices,
// bit 1 rows, bit 2 columns (the patient's left-right, on a RAS volume), bit 3 swaps row and
// column after the flips. 0 is the identity.

export const cubeSymmetries = 16;

/** `values`, a `size`³ cube, under symmetry `s`: out[z][y][x] = values at the flipped (and swapped) index. */
export function symmetric(values: Float32Array, size: number, s: number): Float32Array {
  if (!Number.isInteger(s) || s < 0 || s >= cubeSymmetries) throw new RangeError(`cube symmetry must be an integer 0-15, not ${s}`);
  const flip = (on: number, i: number) => (on ? size - 1 - i : i);
  const out = new Float32Array(size ** 3);
  for (let z = 0, n = 0; z < size; z++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++, n++) {
    const [zs, ys, xs] = [flip(s & 1, z), flip(s & 2, y), flip(s & 4, x)];
    const [row, column] = s & 8 ? [xs, ys] : [ys, xs];
    out[n] = values[(zs * size + row) * size + column];
  }
  return out;
}
