// Cubes cut out of a volume around a point, for a 3-D classifier: `size`³ samples `stepMm` apart,
// centred on the point, trilinear, [slice][row][column] like the volume; samples beyond the volume
// take `outside`, and every value is clipped to `window` (a CT's lung-to-bone range).

interface Grid {
  dims: number[];
  spacing: number[];
}

/** The trilinear value of `values` at voxel coordinates (x, y, z), `outside` beyond the volume. */
export function trilinear(values: Float32Array, dims: number[], x: number, y: number, z: number, outside: number): number {
  const [ni, nj, nk] = dims;
  if (x < 0 || y < 0 || z < 0 || x > ni - 1 || y > nj - 1 || z > nk - 1) return outside;
  const i = Math.min(Math.floor(x), Math.max(ni - 2, 0));
  const j = Math.min(Math.floor(y), Math.max(nj - 2, 0));
  const k = Math.min(Math.floor(z), Math.max(nk - 2, 0));
  const [fx, fy, fz] = [ni > 1 ? x - i : 0, nj > 1 ? y - j : 0, nk > 1 ? z - k : 0];
  const at = (a: number, b: number, c: number) => values[(Math.min(k + c, nk - 1) * nj + Math.min(j + b, nj - 1)) * ni + Math.min(i + a, ni - 1)];
  const lerp = (a: number, b: number, t: number) => a + (b - a) * t;
  const plane = (c: number) => lerp(lerp(at(0, 0, c), at(1, 0, c), fx), lerp(at(0, 1, c), at(1, 1, c), fx), fy);
  return lerp(plane(0), plane(1), fz);
}

/** The `size`³ patch around voxel coordinates `centre`, written into `out`. */
export function patchAt(values: Float32Array, grid: Grid, centre: number[], size: number, stepMm: number, outside: number, window: [number, number], out: Float32Array) {
  const half = (size - 1) / 2;
  const step = grid.spacing.map((s) => stepMm / s);
  for (let w = 0, n = 0; w < size; w++) for (let v = 0; v < size; v++) for (let u = 0; u < size; u++, n++) {
    const value = trilinear(values, grid.dims, centre[0] + (u - half) * step[0], centre[1] + (v - half) * step[1], centre[2] + (w - half) * step[2], outside);
    out[n] = Math.min(window[1], Math.max(window[0], value));
  }
}
