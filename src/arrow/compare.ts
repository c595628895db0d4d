// Row orderings for sorting: a stable order of rows from sort keys of any scalar type. Values
// order as SQL engines do: numbers numerically with NaN after every number (it is the greatest
// value), strings and binaries by their bytes (code point order), false before true, 64-bit
// integers and timestamps exactly (compared as 32-bit halves, never through a double).
import type { Data } from 'apache-arrow';
import { KeyIndex } from './hash-keys.ts';
import { boolBytes, bytesOf, decodeDictionary, halves, physicalOf, validBytes } from './values.ts';

export interface SortKey {
  /** The key column, one Data covering every row being sorted (dictionaries are fine). */
  data: Data;
  descending?: boolean;
  /** Where nulls go, whatever the direction; default last. */
  nullsFirst?: boolean;
}

type Compare = (a: number, b: number) => number;

/** Ascending comparison of two non-null rows of one column. */
export function valueComparator(column: Data): Compare {
  const data = decodeDictionary(column);
  const kind = physicalOf(data.type);
  switch (kind) {
    case 'number': {
      const v = data.values as Float64Array;
      if (data.type.ArrayType === Float64Array || data.type.ArrayType === Float32Array) {
        return (a, b) => {
          const x = v[a];
          const y = v[b];
          if (x < y) return -1;
          if (x > y) return 1;
          if (x === y) return 0;
          return x !== x ? (y !== y ? 0 : 1) : -1; // NaN is the greatest
        };
      }
      return (a, b) => v[a] - v[b];
    }
    case 'int64':
    case 'uint64': {
      const h = halves(data);
      const u = new Uint32Array(h.buffer, h.byteOffset, h.length);
      const hi = kind === 'int64' ? h : u;
      return (a, b) => hi[2 * a + 1] - hi[2 * b + 1] || u[2 * a] - u[2 * b];
    }
    case 'bool': {
      const v = boolBytes(data);
      return (a, b) => v[a] - v[b];
    }
    case 'bytes': {
      const { offsets, bytes } = bytesOf(data);
      return (a, b) => {
        let i = offsets[a];
        let j = offsets[b];
        const endA = offsets[a + 1];
        const endB = offsets[b + 1];
        for (; i < endA && j < endB; i++, j++) {
          const d = bytes[i] - bytes[j];
          if (d !== 0) return d;
        }
        return (endA - i) - (endB - j);
      };
    }
    default:
      throw new Error(`cannot order values of type ${String(data.type)}`);
  }
}

/**
 * A stable ordering of rows 0..length-1 by `keys` (ties keep their input order). Least
 * significant key first, each by a stable radix sort over order-preserving unsigned words (for
 * strings: the rank of the value among the distinct values), then a stable partition that puts
 * the key's nulls first or last.
 */
export function sortIndices(keys: readonly SortKey[], length: number): Int32Array {
  let order: Int32Array = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  if (length < 2) return order;
  let spare: Int32Array = new Int32Array(length);
  for (let k = keys.length - 1; k >= 0; k--) {
    const key = keys[k];
    const data = decodeDictionary(key.data);
    [order, spare] = radixSort(order, spare, radixWords(data, !!key.descending));
    const valid = validBytes(data);
    if (valid) {
      partitionNulls(order, spare, valid, !!key.nullsFirst);
      [order, spare] = [spare, order];
    }
  }
  return order;
}

/**
 * The key as unsigned 32-bit words whose order is the sort order (least significant word first).
 * Descending keys have every bit flipped.
 */
function radixWords(data: Data, descending: boolean): Uint32Array[] {
  const kind = physicalOf(data.type);
  const n = data.length;
  const flip = descending ? 0xffffffff : 0;
  switch (kind) {
    case 'number': {
      const v = data.values as Float64Array;
      if (data.type.ArrayType === Float64Array || data.type.ArrayType === Float32Array) {
        // IEEE 754 bits ordered as unsigned: flip negatives entirely, set the sign bit of positives.
        const scratch = new Float64Array(1);
        const bits = new Uint32Array(scratch.buffer);
        const lo = new Uint32Array(n);
        const hi = new Uint32Array(n);
        for (let i = 0; i < n; i++) {
          const x = v[i];
          scratch[0] = x !== x ? NaN : x === 0 ? 0 : x; // one NaN, greatest; -0 equals 0
          let l = bits[0];
          let h = bits[1];
          if (h & 0x80000000) {
            h = ~h;
            l = ~l;
          } else {
            h |= 0x80000000;
          }
          lo[i] = (l ^ flip) >>> 0;
          hi[i] = (h ^ flip) >>> 0;
        }
        return [lo, hi];
      }
      const signed = data.type.ArrayType === Int32Array || data.type.ArrayType === Int16Array || data.type.ArrayType === Int8Array;
      const lo = new Uint32Array(n);
      for (let i = 0; i < n; i++) lo[i] = ((signed ? v[i] ^ 0x80000000 : v[i]) ^ flip) >>> 0;
      return [lo];
    }
    case 'int64':
    case 'uint64': {
      const h = halves(data);
      const lo = new Uint32Array(n);
      const hi = new Uint32Array(n);
      const sign = kind === 'int64' ? 0x80000000 : 0;
      for (let i = 0; i < n; i++) {
        lo[i] = (h[2 * i] ^ flip) >>> 0;
        hi[i] = (h[2 * i + 1] ^ sign ^ flip) >>> 0;
      }
      return [lo, hi];
    }
    case 'bool': {
      const v = boolBytes(data);
      const lo = new Uint32Array(n);
      for (let i = 0; i < n; i++) lo[i] = (v[i] ^ flip) >>> 0;
      return [lo];
    }
    case 'bytes': {
      // Dense ranks: hash to distinct values, sort only those, then rank each row by its value.
      const index = new KeyIndex([data.type], { nullsEqual: true });
      const ids = index.insert([data]);
      const distinct = index.keys()[0];
      const cmp = valueComparator(distinct);
      const byValue = new Int32Array(index.size);
      for (let i = 0; i < byValue.length; i++) byValue[i] = i;
      byValue.sort(cmp);
      const rank = new Uint32Array(index.size);
      for (let r = 0; r < byValue.length; r++) rank[byValue[r]] = r;
      const lo = new Uint32Array(n);
      for (let i = 0; i < n; i++) lo[i] = (rank[ids[i]] ^ flip) >>> 0;
      return [lo];
    }
    default:
      throw new Error(`cannot order values of type ${String(data.type)}`);
  }
}

const counts = new Int32Array(65536);

/**
 * Stable LSD radix sort of `order` by `words` (least significant first), 16 bits a pass, passes
 * where every row has the same digit skipped. The key words travel with the rows, so each pass
 * reads sequentially. Returns [sorted order, spare buffer].
 */
function radixSort(order: Int32Array, spare: Int32Array, words: Uint32Array[]): [Int32Array, Int32Array] {
  const n = order.length;
  // The words in the current order (the original arrays are scratch: radixWords made them).
  let keys: Uint32Array[] = words.map((w) => {
    const k = new Uint32Array(n);
    for (let i = 0; i < n; i++) k[i] = w[order[i]];
    return k;
  });
  let next: Uint32Array[] = words; // reused as the destination buffers
  for (let w = 0; w < keys.length; w++) {
    for (let shift = 0; shift < 32; shift += 16) {
      const digits = keys[w];
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[(digits[i] >>> shift) & 0xffff]++;
      if (counts[(digits[0] >>> shift) & 0xffff] === n) continue;
      let sum = 0;
      for (let d = 0; d < 65536; d++) {
        const c = counts[d];
        counts[d] = sum;
        sum += c;
      }
      const k0 = keys[0], k1 = keys[1], o0 = next[0], o1 = next[1];
      for (let i = 0; i < n; i++) {
        const at = counts[(digits[i] >>> shift) & 0xffff]++;
        spare[at] = order[i];
        o0[at] = k0[i];
        if (k1) o1[at] = k1[i];
      }
      [order, spare] = [spare, order];
      [keys, next] = [next, keys];
    }
  }
  return [order, spare];
}

/** `order` with its null rows moved first or last, otherwise unchanged, into `out`. */
function partitionNulls(order: Int32Array, out: Int32Array, valid: Uint8Array, nullsFirst: boolean): void {
  const n = order.length;
  let nulls = 0;
  for (let i = 0; i < n; i++) nulls += 1 - valid[i];
  let v = nullsFirst ? nulls : 0;
  let z = nullsFirst ? 0 : n - nulls;
  for (let i = 0; i < n; i++) {
    const row = order[i];
    if (valid[row]) out[v++] = row;
    else out[z++] = row;
  }
}
