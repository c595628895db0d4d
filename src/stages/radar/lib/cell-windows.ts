// The CFAR-normalised window around a cell of a [doppler, range] power map: what the learned
// detector sees (source.radar-patches cuts it for training, radar.detect-learned for every cell).
// The window is the CFAR window (guard block plus training cells); each value is
// ln(power / mean of the window outside its guard block), so the input is scale-free, as CA-CFAR's
// statistic is. Doppler is circular, so the window wraps; at the range edges it is mirrored
// (range -1 reads range 1), so cells there get a window of the same size from the cells present.
import type { FloatArray } from '../../../arrow/tensor.ts';

export interface WindowGeometry {
  guard: { range: number; doppler: number };
  train: { range: number; doppler: number };
}

/** [Doppler, range] size of the window. */
export const windowShape = (w: WindowGeometry) => [2 * (w.guard.doppler + w.train.doppler) + 1, 2 * (w.guard.range + w.train.range) + 1];

/** Why a window cannot be cut from a map of D × R cells; undefined if it can. */
export function windowMapProblem(w: WindowGeometry, D: number, R: number): string | undefined {
  const [height, width] = windowShape(w);
  if (height > D) return `a window ${height} Doppler bins high does not fit ${D} Doppler bins`;
  if ((width - 1) / 2 >= R) return `a window ${width} range cells wide cannot be mirrored inside ${R} range cells`;
  return undefined;
}

const mirror = (r: number, R: number) => (r < 0 ? -r : r >= R ? 2 * (R - 1) - r : r);

/**
 * Writes the normalised windows of `cells` (flat indices d · R + r; every cell when omitted) into
 * `out`, one after another, and returns each cell's power over its window's training mean
 * (CA-CFAR's statistic for the same cells).
 */
export function normalisedWindows(map: FloatArray, D: number, R: number, w: WindowGeometry, out: Float32Array, cells?: ArrayLike<number>): Float64Array {
  const problem = windowMapProblem(w, D, R);
  if (problem) throw new RangeError(problem);
  const [height, width] = windowShape(w);
  const hd = (height - 1) / 2;
  const hr = (width - 1) / 2;
  const size = height * width;
  const count = cells ? cells.length : D * R;
  if (out.length < count * size) throw new RangeError(`room for ${out.length / size} windows, not ${count}`);
  const ringCells = size - (2 * w.guard.doppler + 1) * (2 * w.guard.range + 1);
  const ratio = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const cell = cells ? cells[i] : i;
    const d = Math.floor(cell / R);
    const r = cell - d * R;
    let ring = 0;
    let k = i * size;
    for (let dd = -hd; dd <= hd; dd++) {
      const row = (((d + dd) % D) + D) % D * R;
      const inGuardRows = Math.abs(dd) <= w.guard.doppler;
      for (let dr = -hr; dr <= hr; dr++) {
        const value = map[row + mirror(r + dr, R)];
        out[k++] = value;
        if (!inGuardRows || Math.abs(dr) > w.guard.range) ring += value;
      }
    }
    const mean = ring / ringCells;
    for (let j = i * size; j < k; j++) out[j] = Math.log(Math.max(out[j] / mean, 1e-12));
    ratio[i] = map[cell] / mean;
  }
  return ratio;
}
