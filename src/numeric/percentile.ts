// numpy's default percentile (method 'linear'): between the two nearest ranks of sorted values.

/** The q-th percentile (0–100) of ascending `sorted` values; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  return sorted[lo] + (rank - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]);
}
