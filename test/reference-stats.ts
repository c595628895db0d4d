// Array statistics as ../shared/data/REFERENCE.json records them (astropy, nibabel and pydicom
// readings), and the comparison every reader test makes against them: 1e-6 relative.
import { expect } from 'vitest';

export interface Stats { shape: number[]; finite: number; nan: number; min: number; max: number; mean: number; sum: number }

/** NaNs, finite values, and min/max/mean/sum over the finite ones (infinities are in neither count). */
export function statsOf(values: ArrayLike<number>) {
  let finite = 0, nan = 0, min = Infinity, max = -Infinity, sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) nan++;
    else if (Number.isFinite(v)) {
      finite++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { finite, nan, min, max, mean: sum / finite, sum };
}

export function expectStats(values: ArrayLike<number>, ref: Stats, what: string) {
  const got = statsOf(values);
  const scale = Math.max(Math.abs(ref.min), Math.abs(ref.max));
  expect([got.finite, got.nan], what).toEqual([ref.finite, ref.nan]);
  for (const k of ['min', 'max', 'mean', 'sum'] as const) {
    const tolerance = 1e-6 * Math.max(Math.abs(ref[k]), k === 'sum' ? scale * Math.sqrt(ref.finite) : scale * 1e-3, 1e-300);
    expect(Math.abs(got[k] - ref[k]), `${what} ${k}: ${got[k]} vs ${ref[k]}`).toBeLessThanOrEqual(tolerance);
  }
}
