// Group-wise accumulators for aggregation: each folds a column into per-group state held in typed
// arrays indexed by a dense group id, batch after batch, and finally returns one value per group
// as an Arrow column. Nulls are ignored (a group with no values gets null, counts get 0).
//   count, count_distinct -> int64; sum of integers -> int64, exact; sum of floats -> float64,
//   compensated (Neumaier); mean, var, std (sample, n - 1) -> float64 (var/std by Welford);
//   min, max, first, last -> the input type. min/max order like sorting: NaN is the greatest.
import { Data, Float64, Int32, Int64, Type, makeData, type DataType } from 'apache-arrow';
import { KeyIndex } from './hash-keys.ts';
import { boolBytes, bytesColumn, bytesOf, fixedColumn, halves, int64Column, physicalOf, validBytes } from './values.ts';

export const aggregateFunctions = ['count', 'count_distinct', 'sum', 'mean', 'min', 'max', 'first', 'last', 'std', 'var'] as const;
export type AggregateFunction = (typeof aggregateFunctions)[number];

export interface Accumulator {
  /** Folds `data` (null for count(*)) into the groups `ids` (each below `groups`). */
  push(data: Data | null, ids: Int32Array, groups: number): void;
  /** One value per group, groups 0..groups-1. */
  finish(groups: number): Data;
}

/** The output type of `fn` over a column of `type` (already decoded from a dictionary). */
export function resultType(fn: AggregateFunction, type: DataType | null): DataType {
  switch (fn) {
    case 'count':
    case 'count_distinct': return new Int64();
    case 'sum': return isFloat(type!) ? new Float64() : new Int64();
    case 'mean':
    case 'std':
    case 'var': return new Float64();
    default: return type!;
  }
}

const isFloat = (type: DataType) => type.ArrayType === Float64Array || type.ArrayType === Float32Array;

export function createAccumulator(fn: AggregateFunction, type: DataType | null, column: string): Accumulator {
  switch (fn) {
    case 'count': return type === null ? new CountAll() : new Count();
    case 'count_distinct': return new CountDistinct(type!);
    case 'sum': return isFloat(type!) ? new FloatSum() : new IntSum(type!, column);
    case 'mean': return new Mean(isFloat(type!) ? new FloatSum() : new IntSum(type!, column));
    case 'var':
    case 'std': return new Variance(fn === 'std');
    case 'min':
    case 'max':
    case 'first':
    case 'last': {
      const kind = physicalOf(type!);
      if (kind === 'bytes') return new BytesPick(fn, type!);
      if (kind === 'int64' || kind === 'uint64') return new Int64Pick(fn, type!, kind === 'uint64');
      if (kind === 'number' || kind === 'bool') return new NumberPick(fn, type!);
      throw new Error(`${fn} of ${String(type)} is not supported`);
    }
  }
}

/** Typed arrays that grow (doubling) to hold at least `n` elements. */
function fit<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  if (n <= a.length) return a;
  const next = new (a.constructor as new (n: number) => T)(Math.max(n, a.length * 2, 16));
  next.set(a);
  return next;
}

function int64Counts(counts: Float64Array, groups: number): Data {
  const out = new BigInt64Array(groups);
  for (let g = 0; g < groups; g++) out[g] = BigInt(counts[g]);
  return fixedColumn(new Int64(), out, null, groups);
}

/** A byte per group, 1 where the group has a value. */
const hasValues = (has: Uint8Array, groups: number): Uint8Array => has.slice(0, groups);

class CountAll implements Accumulator {
  private counts = new Float64Array(0);
  push(_: Data | null, ids: Int32Array, groups: number) {
    const c = (this.counts = fit(this.counts, groups));
    for (let i = 0; i < ids.length; i++) c[ids[i]]++;
  }
  finish(groups: number) {
    this.counts = fit(this.counts, groups);
    return int64Counts(this.counts, groups);
  }
}

class Count implements Accumulator {
  private counts = new Float64Array(0);
  push(data: Data | null, ids: Int32Array, groups: number) {
    const c = (this.counts = fit(this.counts, groups));
    const valid = validBytes(data!);
    if (!valid) for (let i = 0; i < ids.length; i++) c[ids[i]]++;
    else for (let i = 0; i < ids.length; i++) c[ids[i]] += valid[i];
  }
  finish(groups: number) {
    this.counts = fit(this.counts, groups);
    return int64Counts(this.counts, groups);
  }
}

/** Distinct (group, value) pairs in a second key index; a pair seen for the first time counts. */
class CountDistinct implements Accumulator {
  private counts = new Float64Array(0);
  private pairs: KeyIndex;
  constructor(type: DataType) {
    this.pairs = new KeyIndex([new Int32(), type], { nullsEqual: true });
  }
  push(data: Data | null, ids: Int32Array, groups: number) {
    const c = (this.counts = fit(this.counts, groups));
    const before = this.pairs.size;
    const groupData = makeData({ type: new Int32(), length: ids.length, data: ids.subarray(0, ids.length) });
    const pairIds = this.pairs.insert([groupData, data!]);
    const valid = validBytes(data!);
    let next = before;
    for (let i = 0; i < ids.length; i++) {
      if (pairIds[i] === next) {
        next++;
        if (!valid || valid[i]) c[ids[i]]++;
      }
    }
  }
  finish(groups: number) {
    this.counts = fit(this.counts, groups);
    return int64Counts(this.counts, groups);
  }
}

// Partial sums stay exact doubles below this; past it they move into a BigInt.
const FLUSH = 2 ** 53 - 2 ** 33;

/**
 * Exact integer sums without a BigInt per row: 32-bit values add into a double per group (exact
 * below 2^53), 64-bit values as their two 32-bit halves into two doubles; a partial sum nearing
 * 2^53 moves into a per-group BigInt.
 */
class IntSum implements Accumulator {
  private low = new Float64Array(0);
  private high = new Float64Array(0);
  private big: bigint[] = [];
  private has = new Uint8Array(0);
  private readonly wide: boolean;
  private readonly unsigned: boolean;
  constructor(type: DataType, private readonly column: string) {
    const kind = physicalOf(type);
    this.wide = kind === 'int64' || kind === 'uint64';
    this.unsigned = kind === 'uint64';
  }
  push(data: Data | null, ids: Int32Array, groups: number) {
    const low = (this.low = fit(this.low, groups));
    const high = (this.high = fit(this.high, groups));
    const has = (this.has = fit(this.has, groups));
    const valid = validBytes(data!);
    const n = ids.length;
    if (!this.wide) {
      const v = (data!.typeId === Type.Bool ? boolBytes(data!) : data!.values) as Float64Array;
      for (let i = 0; i < n; i++) {
        if (valid && !valid[i]) continue;
        const g = ids[i];
        let s = low[g] + v[i];
        if (s > FLUSH || s < -FLUSH) {
          this.big[g] = (this.big[g] ?? 0n) + BigInt(s);
          s = 0;
        }
        low[g] = s;
        has[g] = 1;
      }
      return;
    }
    const h = halves(data!);
    const unsigned = this.unsigned;
    for (let i = 0; i < n; i++) {
      if (valid && !valid[i]) continue;
      const g = ids[i];
      let lo = low[g] + (h[2 * i] >>> 0);
      let hi = high[g] + (unsigned ? h[2 * i + 1] >>> 0 : h[2 * i + 1]);
      if (lo > FLUSH || hi > FLUSH || hi < -FLUSH) {
        this.big[g] = (this.big[g] ?? 0n) + BigInt(lo) + (BigInt(hi) << 32n);
        lo = 0;
        hi = 0;
      }
      low[g] = lo;
      high[g] = hi;
      has[g] = 1;
    }
  }
  /** The exact sum of group g. */
  total(g: number): bigint {
    let t = BigInt(this.low[g]);
    if (this.wide) t += BigInt(this.high[g]) << 32n;
    return this.big[g] === undefined ? t : t + this.big[g];
  }
  count(groups: number): Uint8Array {
    this.has = fit(this.has, groups);
    return hasValues(this.has, groups);
  }
  finish(groups: number) {
    this.low = fit(this.low, groups);
    this.high = fit(this.high, groups);
    const out = new BigInt64Array(groups);
    const has = this.count(groups);
    for (let g = 0; g < groups; g++) {
      if (!has[g]) continue;
      const t = this.total(g);
      if (t !== BigInt.asIntN(64, t)) throw new Error(`the sum of column '${this.column}' (${t}) overflows int64`);
      out[g] = t;
    }
    return fixedColumn(new Int64(), out, has, groups);
  }
  /** Per-group sums as doubles (for means). */
  totals(groups: number): Float64Array {
    this.low = fit(this.low, groups);
    this.high = fit(this.high, groups);
    const out = new Float64Array(groups);
    for (let g = 0; g < groups; g++) out[g] = this.big[g] === undefined && !this.wide ? this.low[g] : Number(this.total(g));
    return out;
  }
}

/** Neumaier's compensated sum per group: error independent of the number of values. */
class FloatSum implements Accumulator {
  private sum = new Float64Array(0);
  private comp = new Float64Array(0);
  private has = new Uint8Array(0);
  push(data: Data | null, ids: Int32Array, groups: number) {
    const sum = (this.sum = fit(this.sum, groups));
    const comp = (this.comp = fit(this.comp, groups));
    const has = (this.has = fit(this.has, groups));
    const v = data!.values as Float64Array;
    const valid = validBytes(data!);
    for (let i = 0; i < ids.length; i++) {
      if (valid && !valid[i]) continue;
      const g = ids[i];
      const x = v[i];
      const s = sum[g];
      const t = s + x;
      comp[g] += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
      sum[g] = t;
      has[g] = 1;
    }
  }
  count(groups: number): Uint8Array {
    this.has = fit(this.has, groups);
    return hasValues(this.has, groups);
  }
  totals(groups: number): Float64Array {
    this.sum = fit(this.sum, groups);
    this.comp = fit(this.comp, groups);
    const out = new Float64Array(groups);
    // Infinities and NaN make the compensation NaN: the plain sum is the answer then.
    for (let g = 0; g < groups; g++) out[g] = Number.isFinite(this.sum[g]) ? this.sum[g] + this.comp[g] : this.sum[g];
    return out;
  }
  finish(groups: number) {
    return fixedColumn(new Float64(), this.totals(groups), this.count(groups), groups);
  }
}

class Mean implements Accumulator {
  private counts = new Float64Array(0);
  constructor(private readonly sum: IntSum | FloatSum) {}
  push(data: Data | null, ids: Int32Array, groups: number) {
    this.sum.push(data, ids, groups);
    const c = (this.counts = fit(this.counts, groups));
    const valid = validBytes(data!);
    for (let i = 0; i < ids.length; i++) if (!valid || valid[i]) c[ids[i]]++;
  }
  finish(groups: number) {
    this.counts = fit(this.counts, groups);
    const totals = this.sum.totals(groups);
    for (let g = 0; g < groups; g++) totals[g] /= this.counts[g];
    return fixedColumn(new Float64(), totals, this.sum.count(groups), groups);
  }
}

/** Reads row i of numeric data as a double (64-bit integers through their halves). */
function doubles(data: Data): (i: number) => number {
  const kind = physicalOf(data.type);
  if (kind === 'int64' || kind === 'uint64') {
    const h = halves(data);
    return kind === 'int64' ? (i) => h[2 * i + 1] * 4294967296 + (h[2 * i] >>> 0) : (i) => (h[2 * i + 1] >>> 0) * 4294967296 + (h[2 * i] >>> 0);
  }
  const v = data.values as Float64Array;
  return (i) => v[i];
}

/** Sample variance by Welford's update (numerically stable in one pass). */
class Variance implements Accumulator {
  private n = new Float64Array(0);
  private mean = new Float64Array(0);
  private m2 = new Float64Array(0);
  constructor(private readonly sqrt: boolean) {}
  push(data: Data | null, ids: Int32Array, groups: number) {
    const n = (this.n = fit(this.n, groups));
    const mean = (this.mean = fit(this.mean, groups));
    const m2 = (this.m2 = fit(this.m2, groups));
    const valid = validBytes(data!);
    const kind = physicalOf(data!.type);
    const v = data!.values as Float64Array;
    const read = kind === 'number' ? null : doubles(data!);
    for (let i = 0; i < ids.length; i++) {
      if (valid && !valid[i]) continue;
      const g = ids[i];
      const x = read ? read(i) : v[i];
      const count = n[g] + 1;
      const d = x - mean[g];
      mean[g] += d / count;
      m2[g] += d * (x - mean[g]);
      n[g] = count;
    }
  }
  finish(groups: number) {
    this.n = fit(this.n, groups);
    this.m2 = fit(this.m2, groups);
    const out = new Float64Array(groups);
    const valid = new Uint8Array(groups);
    for (let g = 0; g < groups; g++) {
      if (this.n[g] < 2) continue; // the sample variance of fewer than two values is null
      const variance = this.m2[g] / (this.n[g] - 1);
      out[g] = this.sqrt ? Math.sqrt(variance) : variance;
      valid[g] = 1;
    }
    return fixedColumn(new Float64(), out, valid, groups);
  }
}

type Pick = 'min' | 'max' | 'first' | 'last';

/** min/max/first/last of values read as JS numbers (ints up to 32 bits, floats, date32, bools). */
class NumberPick implements Accumulator {
  private best = new Float64Array(0);
  private has = new Uint8Array(0);
  constructor(private readonly fn: Pick, private readonly type: DataType) {}
  push(data: Data | null, ids: Int32Array, groups: number) {
    const best = (this.best = fit(this.best, groups));
    const has = (this.has = fit(this.has, groups));
    const v = (data!.typeId === Type.Bool ? boolBytes(data!) : data!.values) as Float64Array;
    const valid = validBytes(data!);
    const n = ids.length;
    switch (this.fn) {
      case 'first':
        for (let i = 0; i < n; i++) {
          const g = ids[i];
          if (!has[g] && (!valid || valid[i])) {
            best[g] = v[i];
            has[g] = 1;
          }
        }
        break;
      case 'last':
        for (let i = 0; i < n; i++) {
          if (valid && !valid[i]) continue;
          best[ids[i]] = v[i];
          has[ids[i]] = 1;
        }
        break;
      case 'min':
        for (let i = 0; i < n; i++) {
          if (valid && !valid[i]) continue;
          const g = ids[i];
          const x = v[i];
          const b = best[g];
          // NaN is the greatest value: it is the min only of a group of NaNs.
          if (!has[g] || x < b || (b !== b && x === x)) {
            best[g] = x;
            has[g] = 1;
          }
        }
        break;
      case 'max':
        for (let i = 0; i < n; i++) {
          if (valid && !valid[i]) continue;
          const g = ids[i];
          const x = v[i];
          const b = best[g];
          if (!has[g] || x > b || (x !== x && b === b)) {
            best[g] = x;
            has[g] = 1;
          }
        }
        break;
    }
  }
  finish(groups: number) {
    this.best = fit(this.best, groups);
    this.has = fit(this.has, groups);
    const Ctor = this.type.typeId === Type.Bool ? Uint8Array : (this.type.ArrayType as new (n: number) => Float64Array);
    const out = new Ctor(groups);
    for (let g = 0; g < groups; g++) out[g] = this.best[g];
    return fixedColumn(this.type, out, hasValues(this.has, groups), groups);
  }
}

/** min/max/first/last of 64-bit values, compared as halves (exact, no BigInt per row). */
class Int64Pick implements Accumulator {
  private best = new Int32Array(0);
  private has = new Uint8Array(0);
  constructor(private readonly fn: Pick, private readonly type: DataType, private readonly unsigned: boolean) {}
  push(data: Data | null, ids: Int32Array, groups: number) {
    const best = (this.best = fit(this.best, 2 * groups));
    const has = (this.has = fit(this.has, groups));
    const h = halves(data!);
    const valid = validBytes(data!);
    const sign = this.unsigned ? 0 : 0x80000000;
    const fn = this.fn;
    for (let i = 0; i < ids.length; i++) {
      if (valid && !valid[i]) continue;
      const g = ids[i];
      let take = !has[g];
      if (!take && fn !== 'first') {
        if (fn === 'last') take = true;
        else {
          // Compare as unsigned words, the high word with its sign bit flipped for signed values.
          const hx = (h[2 * i + 1] ^ sign) >>> 0;
          const hb = (best[2 * g + 1] ^ sign) >>> 0;
          const c = hx !== hb ? hx - hb : (h[2 * i] >>> 0) - (best[2 * g] >>> 0);
          take = fn === 'min' ? c < 0 : c > 0;
        }
      }
      if (take) {
        best[2 * g] = h[2 * i];
        best[2 * g + 1] = h[2 * i + 1];
        has[g] = 1;
      }
    }
  }
  finish(groups: number) {
    this.best = fit(this.best, 2 * groups);
    this.has = fit(this.has, groups);
    return int64Column(this.type, this.best.slice(0, 2 * groups), hasValues(this.has, groups), groups);
  }
}

/**
 * min/max/first/last of strings and binaries. Each batch first finds its best row per group
 * (comparing bytes in place); only then is one copy per touched group made.
 */
class BytesPick implements Accumulator {
  private values: (Uint8Array | undefined)[] = [];
  private winner = new Int32Array(0);
  constructor(private readonly fn: Pick, private readonly type: DataType) {}
  push(data: Data | null, ids: Int32Array, groups: number) {
    const winner = (this.winner = fit(this.winner, groups));
    const { offsets, bytes } = bytesOf(data!);
    const valid = validBytes(data!);
    const fn = this.fn;
    const touched: number[] = [];
    const compare = (i: number, j: number) => compareBytes(bytes, offsets[i], offsets[i + 1], bytes, offsets[j], offsets[j + 1]);
    for (let i = 0; i < ids.length; i++) {
      if (valid && !valid[i]) continue;
      const g = ids[i];
      const w = winner[g] - 1; // stored + 1, so 0 means none yet in this batch
      if (w < 0) {
        if (fn === 'first' && this.values[g] !== undefined) continue;
        winner[g] = i + 1;
        touched.push(g);
      } else if (fn === 'last' || (fn === 'min' && compare(i, w) < 0) || (fn === 'max' && compare(i, w) > 0)) {
        winner[g] = i + 1;
      }
    }
    for (const g of touched) {
      const w = winner[g] - 1;
      winner[g] = 0;
      const current = this.values[g];
      const start = offsets[w];
      const end = offsets[w + 1];
      if (current !== undefined) {
        if (fn === 'first') continue;
        const c = compareBytes(bytes, start, end, current, 0, current.length);
        if ((fn === 'min' && c >= 0) || (fn === 'max' && c <= 0)) continue;
      }
      this.values[g] = bytes.slice(start, end);
    }
  }
  finish(groups: number) {
    const offsets = new Int32Array(groups + 1);
    const valid = new Uint8Array(groups);
    let total = 0;
    for (let g = 0; g < groups; g++) {
      const v = this.values[g];
      if (v) {
        total += v.length;
        valid[g] = 1;
      }
      offsets[g + 1] = total;
    }
    const bytes = new Uint8Array(total);
    for (let g = 0; g < groups; g++) if (this.values[g]) bytes.set(this.values[g]!, offsets[g]);
    return bytesColumn(this.type, offsets, bytes, valid, groups);
  }
}

function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let k = 0; k < n; k++) {
    const d = a[aStart + k] - b[bStart + k];
    if (d !== 0) return d;
  }
  return (aEnd - aStart) - (bEnd - bStart);
}
