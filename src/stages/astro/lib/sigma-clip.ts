// Sigma clipping as astropy's sigma_clipped_stats does it by default: values further than
// `sigma` standard deviations from the median are dropped, round after round, until none are
// (or `rounds` is reached); the mean, median and (population) standard deviation of what is left.

export interface ClippedStats { mean: number; median: number; std: number; count: number }

function median(sorted: Float64Array, from: number, to: number): number {
  const n = to - from;
  const m = from + (n >> 1);
  return n % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

export function sigmaClippedStats(values: ArrayLike<number>, sigma = 3, rounds = 5): ClippedStats {
  const sorted = Float64Array.from(values).sort();
  // The kept values are always a contiguous run of the sorted ones.
  let from = 0;
  let to = sorted.length;
  for (let round = 0; round < rounds && to > from; round++) {
    const centre = median(sorted, from, to);
    let sum = 0;
    let squares = 0;
    for (let i = from; i < to; i++) {
      sum += sorted[i];
      squares += sorted[i] * sorted[i];
    }
    const mean = sum / (to - from);
    const std = Math.sqrt(Math.max(0, squares / (to - from) - mean * mean));
    let lo = from;
    let hi = to;
    while (lo < hi && sorted[lo] < centre - sigma * std) lo++;
    while (hi > lo && sorted[hi - 1] > centre + sigma * std) hi--;
    if (lo === from && hi === to) break;
    from = lo;
    to = hi;
  }
  let sum = 0;
  for (let i = from; i < to; i++) sum += sorted[i];
  const mean = sum / (to - from);
  let squares = 0;
  for (let i = from; i < to; i++) squares += (sorted[i] - mean) ** 2;
  return { mean, median: median(sorted, from, to), std: Math.sqrt(squares / (to - from)), count: to - from };
}
