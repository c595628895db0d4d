// 2-D CFAR over a [doppler, range] power map. Every cell is tested against T × (a noise estimate
// from its training cells): the cells within `guard + train` of it in each dimension, less the
// guard block (which holds the cell and its own spread). Doppler is circular, so the window wraps;
// range is not, so near the first and last range cells the window is cut and T is recomputed for
// the cells actually there, keeping the false-alarm rate exact up to the edge.
// The training window must fit the map: 2(guard + train) + 1 ≤ Doppler bins, so no cell counts twice.
// CA sums the window separably with running sums; GO and SO read their two halves (the training
// cells at lower range, and in the cell's own range column at lower Doppler, versus the mirror
// image; see cfar-factor.ts) from a summed-area table; OS counts ranks in a Fenwick tree as the
// window slides in range. All are O(1) or O(log n) per cell, not O(window).
import type { FloatArray } from '../../../arrow/tensor.ts';
import { sortOrder } from '../../../numeric/sort-order.ts';
import { caFactor, goFactor, osFactor, soFactor, type CfarMethod } from './cfar-factor.ts';

export interface CfarOptions {
  method: CfarMethod;
  pfa: number;
  guard: { range: number; doppler: number };
  train: { range: number; doppler: number };
  /** OS: k as a fraction of the training cells (k = round(rank · N), at least 1). */
  rank: number;
}

export interface Detections {
  doppler: Int32Array;
  range: Int32Array;
  power: Float64Array;
  threshold: Float64Array;
  /** The noise estimate the threshold scales (mean, larger or smaller half mean, or k-th value). */
  estimate: Float64Array;
}

/** Why a window cannot be used on a map with `dopplerBins` rows; undefined if it can. */
export function windowProblem(o: Pick<CfarOptions, 'guard' | 'train'>, dopplerBins: number, rangeBins: number): string | undefined {
  const height = 2 * (o.guard.doppler + o.train.doppler) + 1;
  if (height > dopplerBins) return `the CFAR window spans ${height} Doppler bins, more than the map's ${dopplerBins}: lower guard/train in Doppler`;
  if (o.train.range === 0 && o.train.doppler === 0) return 'the CFAR window has no training cells: give train > 0 in range or Doppler';
  if (rangeBins < 1) return 'the map has no range cells';
  return undefined;
}

/** Called for every cell of the map with its power, threshold and noise estimate. */
type Visit = (d: number, r: number, power: number, threshold: number, estimate: number) => void;

function visitCells(map: FloatArray, dopplerBins: number, rangeBins: number, o: CfarOptions, visit: Visit) {
  const problem = windowProblem(o, dopplerBins, rangeBins);
  if (problem) throw new RangeError(problem);
  const method = o.method === 'os' ? orderStatistic : o.method === 'ca' ? cellAveraging : halves;
  method(map, dopplerBins, rangeBins, o, visit);
}

/** The threshold of every cell ([doppler, range] order): what an empirical calibration of T scales. */
export function cfarThresholds(map: FloatArray, dopplerBins: number, rangeBins: number, o: CfarOptions): Float64Array {
  const thresholds = new Float64Array(dopplerBins * rangeBins);
  visitCells(map, dopplerBins, rangeBins, o, (d, r, _power, threshold) => {
    thresholds[d * rangeBins + r] = threshold;
  });
  return thresholds;
}

export function cfarDetect(map: FloatArray, dopplerBins: number, rangeBins: number, o: CfarOptions): Detections {
  const found = emptyFound();
  visitCells(map, dopplerBins, rangeBins, o, (d, r, power, threshold, estimate) => {
    if (power > threshold) push(found, d, r, power, threshold, estimate);
  });
  return {
    doppler: Int32Array.from(found.doppler),
    range: Int32Array.from(found.range),
    power: Float64Array.from(found.power),
    threshold: Float64Array.from(found.threshold),
    estimate: Float64Array.from(found.estimate),
  };
}

/** Half-widths of the window (hd, hr) and of the guard block (gd, gr), in Doppler and range. */
const halfWidths = (o: CfarOptions) => ({
  hd: o.guard.doppler + o.train.doppler, gd: o.guard.doppler, hr: o.guard.range + o.train.range, gr: o.guard.range,
});

interface Found {
  doppler: number[];
  range: number[];
  power: number[];
  threshold: number[];
  estimate: number[];
}

const emptyFound = (): Found => ({ doppler: [], range: [], power: [], threshold: [], estimate: [] });

/**
 * CA: the window sum is separable. Down each range column, the sums over the Doppler rows of the
 * window (±hd) and of the guard block (±gd) are carried from one row to the next, adding the row
 * that enters and subtracting the one that leaves (Doppler wraps). Along the row, running prefixes
 * of those sums give each cell's ±hr and ±gr range sums; the prefixes are padded with their end
 * values, which cuts the window at the range edges without a branch per cell.
 */
function cellAveraging(map: FloatArray, D: number, R: number, o: CfarOptions, visit: Visit) {
  const { hd, gd, hr, gr } = halfWidths(o);
  // Per range cell: the factor for the cells there, over their count (threshold = that × sum).
  const scale = new Float64Array(R);
  const count = new Int32Array(R);
  const factors = new Map<number, number>();
  for (let r = 0; r < R; r++) {
    count[r] = (2 * hd + 1) * (Math.min(R - 1, r + hr) - Math.max(0, r - hr) + 1) - (2 * gd + 1) * (Math.min(R - 1, r + gr) - Math.max(0, r - gr) + 1);
    let t = factors.get(count[r]);
    if (t === undefined) factors.set(count[r], (t = caFactor(o.pfa, count[r])));
    scale[r] = t / count[r];
  }
  const outer = new Float64Array(R); // Σ over the window's Doppler rows, per range cell
  const guard = new Float64Array(R);
  const row = (d: number) => (((d % D) + D) % D) * R;
  for (let dd = -hd; dd <= hd; dd++) for (let r = 0, at = row(dd); r < R; r++) outer[r] += map[at + r];
  for (let dd = -gd; dd <= gd; dd++) for (let r = 0, at = row(dd); r < R; r++) guard[r] += map[at + r];
  // prefix[hr + 1 + i] = Σ sums[0..i]; flat before 0 and after R - 1.
  const outerPrefix = new Float64Array(R + 2 * hr + 2);
  const guardPrefix = new Float64Array(R + 2 * hr + 2);
  for (let d = 0; d < D; d++) {
    // Rows entering and leaving the Doppler windows (row 0's sums are already there: x - x adds 0).
    const outerIn = d > 0 ? row(d + hd) : 0;
    const outerOut = d > 0 ? row(d - hd - 1) : 0;
    const guardIn = d > 0 ? row(d + gd) : 0;
    const guardOut = d > 0 ? row(d - gd - 1) : 0;
    let outerSum = 0;
    let guardSum = 0;
    for (let r = 0; r < R; r++) {
      const o = outer[r] + (map[outerIn + r] - map[outerOut + r]);
      const g = guard[r] + (map[guardIn + r] - map[guardOut + r]);
      outer[r] = o;
      guard[r] = g;
      outerSum += o;
      guardSum += g;
      outerPrefix[hr + 1 + r] = outerSum;
      guardPrefix[hr + 1 + r] = guardSum;
    }
    outerPrefix.fill(outerSum, hr + 1 + R);
    guardPrefix.fill(guardSum, hr + 1 + R);
    const base = d * R;
    for (let r = 0; r < R; r++) {
      const sum = outerPrefix[r + 2 * hr + 1] - outerPrefix[r] - (guardPrefix[r + hr + gr + 1] - guardPrefix[r + hr - gr]);
      const threshold = scale[r] * sum;
      const power = map[base + r];
      visit(d, r, power, threshold, sum / count[r]);
    }
  }
}

/** GO, SO: sums of rectangles from a summed-area table of the map, its Doppler rows wrapped. */
function halves(map: FloatArray, D: number, R: number, o: CfarOptions, visit: Visit) {
  const { hd, gd, hr, gr } = halfWidths(o);
  const rows = D + 2 * hd; // extended row e holds map row (e - hd) mod D
  const width = R + 1;
  // table[(e + 1) * width + (r + 1)] = Σ of extended rows ≤ e, columns ≤ r.
  const table = new Float64Array((rows + 1) * width);
  for (let e = 0; e < rows; e++) {
    const source = (((e - hd) % D) + D) % D * R;
    const above = e * width;
    const here = (e + 1) * width;
    let line = 0;
    for (let r = 0; r < R; r++) {
      line += map[source + r];
      table[here + r + 1] = table[above + r + 1] + line;
    }
  }
  // Σ over extended rows [e0, e1] × columns [r0, r1] (empty if r1 < r0).
  const rect = (e0: number, e1: number, r0: number, r1: number) => (r1 < r0 ? 0
    : table[(e1 + 1) * width + r1 + 1] - table[e0 * width + r1 + 1] - table[(e1 + 1) * width + r0] + table[e0 * width + r0]);

  // Per range cell (the window is only ever cut in range): cell counts and the factor.
  const outerRows = 2 * hd + 1;
  const guardRows = 2 * gd + 1;
  const sideRows = hd - gd; // Doppler training cells on one side, in the cell's own range column
  const lowCount = new Int32Array(R);
  const highCount = new Int32Array(R);
  const factor = new Float64Array(R);
  const factors = new Map<string, number>();
  for (let r = 0; r < R; r++) {
    const lowOuter = r - Math.max(0, r - hr);
    const lowGuard = r - Math.max(0, r - gr);
    const highOuter = Math.min(R - 1, r + hr) - r;
    const highGuard = Math.min(R - 1, r + gr) - r;
    lowCount[r] = outerRows * lowOuter - guardRows * lowGuard + sideRows;
    highCount[r] = outerRows * highOuter - guardRows * highGuard + sideRows;
    const id = `${lowCount[r]},${highCount[r]}`;
    let t = factors.get(id);
    if (t === undefined) {
      const m = lowCount[r];
      const n = highCount[r];
      t = o.method === 'go' ? goFactor(o.pfa, m, n) : soFactor(o.pfa, m, n);
      factors.set(id, t);
    }
    factor[r] = t;
  }

  for (let d = 0; d < D; d++) {
    const e = d + hd; // the cell's extended row
    const top = e - hd;
    const bottom = e + hd;
    for (let r = 0; r < R; r++) {
      const power = map[d * R + r];
      const r0 = Math.max(0, r - hr);
      const r1 = Math.min(R - 1, r + hr);
      const g0 = Math.max(0, r - gr);
      const g1 = Math.min(R - 1, r + gr);
      // Lower range (and, in the cell's own column, lower Doppler) against the mirror image.
      const low = rect(top, bottom, r0, r - 1) - rect(e - gd, e + gd, g0, r - 1) + rect(top, e - gd - 1, r, r);
      const high = rect(top, bottom, r + 1, r1) - rect(e - gd, e + gd, r + 1, g1) + rect(e + gd + 1, bottom, r, r);
      const m = lowCount[r];
      const n = highCount[r];
      const estimate = m === 0 || n === 0 ? (low + high) / (m + n) : o.method === 'go' ? Math.max(low / m, high / n) : Math.min(low / m, high / n);
      const threshold = factor[r] * estimate;
      visit(d, r, power, threshold, estimate);
    }
  }
}

/**
 * OS: the k-th smallest training value of each cell. The map's values are ranked once; along each
 * Doppler row a Fenwick tree counts the ranks inside the window as it slides in range (each step
 * adds and removes only the columns that enter, leave, or cross the guard block's edge), and the
 * k-th rank is found by descending the tree: O(log n) per change instead of a sort per cell.
 */
function orderStatistic(map: FloatArray, D: number, R: number, o: CfarOptions, visit: Visit) {
  const { hd, gd, hr, gr } = halfWidths(o);
  const n = map.length;
  const order = sortOrder(map);
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) rank[order[i]] = i;
  const tree = new Int32Array(n + 1); // Fenwick tree over ranks, 1-based
  let top = 1;
  while (top * 2 <= n) top *= 2;
  let count = 0;
  const change = (rows: Int32Array, c: number, delta: number) => {
    if (c < 0 || c >= R) return;
    for (let j = 0; j < rows.length; j++) {
      for (let i = rank[rows[j] + c] + 1; i <= n; i += i & -i) tree[i] += delta;
    }
    count += delta * rows.length;
  };
  /** The 0-based rank of the k-th smallest value in the window (k from 1). */
  const kth = (k: number) => {
    let at = 0;
    for (let step = top; step > 0; step >>= 1) {
      if (at + step <= n && tree[at + step] < k) {
        at += step;
        k -= tree[at];
      }
    }
    return at;
  };

  const byCount = new Map<number, { k: number; factor: number }>();
  const all = new Int32Array(2 * hd + 1); // start of each window row in the map (Doppler wraps)
  const guard = new Int32Array(2 * gd + 1);
  const outside = new Int32Array(2 * (hd - gd)); // window rows outside the guard block
  for (let d = 0; d < D; d++) {
    for (let dd = -hd, next = 0; dd <= hd; dd++) {
      const start = (((d + dd) % D) + D) % D * R;
      all[dd + hd] = start;
      if (dd >= -gd && dd <= gd) guard[dd + gd] = start;
      else outside[next++] = start;
    }
    // The window of range cell 0: columns within gr train outside the guard rows, the rest fully.
    for (let c = 0; c <= Math.min(R - 1, hr); c++) change(c <= gr ? outside : all, c, 1);
    for (let r = 0; r < R; r++) {
      if (r > 0) {
        // Sliding from r-1 to r: a column leaves, one crosses out of the guard block, one into it, one enters.
        if (hr > gr) {
          change(all, r - 1 - hr, -1);
          change(guard, r - 1 - gr, 1);
          change(guard, r + gr, -1);
          change(all, r + hr, 1);
        } else {
          change(outside, r - 1 - gr, -1);
          change(outside, r + gr, 1);
        }
      }
      let rule = byCount.get(count);
      if (!rule) {
        const k = Math.min(count, Math.max(1, Math.round(o.rank * count)));
        rule = { k, factor: osFactor(o.pfa, count, k) };
        byCount.set(count, rule);
      }
      const estimate = map[order[kth(rule.k)]];
      const threshold = rule.factor * estimate;
      const power = map[d * R + r];
      visit(d, r, power, threshold, estimate);
    }
    // Empty the tree for the next row: remove what the last cell's window held.
    for (let c = Math.max(0, R - 1 - hr); c < R; c++) change(c >= R - 1 - gr ? outside : all, c, -1);
  }
}

function push(found: Found, d: number, r: number, power: number, threshold: number, estimate: number) {
  found.doppler.push(d);
  found.range.push(r);
  found.power.push(power);
  found.threshold.push(threshold);
  found.estimate.push(estimate);
}
