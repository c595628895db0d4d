// Dense ids for key tuples: the hash table behind group-by and hash joins. Rows are hashed column
// by column into a Uint32Array (no per-row strings or objects); an open-addressing table maps a
// hash to candidate ids, and candidates are confirmed against the distinct keys, which are kept
// in typed arrays (numbers, 64-bit halves, bits, UTF-8 bytes) and come back out as Arrow columns.
// Equality is grouping equality: NaN equals NaN, -0 equals 0, and null equals null when asked.
import type { Data, DataType } from 'apache-arrow';
import {
  boolBytes, bytesColumn, bytesOf, decodeDictionary, fixedColumn, halves, int64Column, physicalOf, validBytes, valueType,
} from './values.ts';

const mix = (h: number, v: number): number => {
  // murmur3's 32-bit round, then its finaliser when the hash is complete (see `finish`).
  let k = Math.imul(v, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
};

const finish = (h: number): number => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

const NULL_HASH = 0x5bd1e995;

/** One key column's distinct values, growing as ids are added. */
interface KeyColumn {
  /** Mixes each row's value into `hashes`. */
  hash(data: Data, valid: Uint8Array | null, hashes: Int32Array): void;
  /** Whether row `row` (valid) equals the stored key `id` (valid). */
  equals(data: Data, row: number, id: number): boolean;
  /** Stores row `row` as key `id` (the next id); `valid` false stores a null. */
  append(data: Data, row: number, valid: boolean): void;
  /** The stored keys as a column. */
  build(count: number, valid: Uint8Array | null): Data;
  /** Per-batch views (typed arrays) that `equals` and `append` read. */
  bind(data: Data): void;
}

const grow = <T extends Float64Array | Int32Array | Uint8Array | Uint32Array>(a: T, need: number): T => {
  if (need <= a.length) return a;
  const next = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  next.set(a);
  return next;
};

class NumberColumn implements KeyColumn {
  private values = new Float64Array(64);
  private v: ArrayLike<number> = new Float64Array(0);
  private float: boolean;
  private readonly scratch = new Float64Array(1);
  private readonly bits = new Int32Array(this.scratch.buffer);
  private size = 0;
  constructor(private readonly type: DataType) {
    this.float = type.ArrayType === Float64Array || type.ArrayType === Float32Array;
  }
  bind(data: Data) {
    this.v = data.values as ArrayLike<number>;
  }
  hash(data: Data, valid: Uint8Array | null, hashes: Int32Array) {
    const v = data.values as Float64Array;
    const n = data.length;
    if (this.float) {
      const { scratch, bits } = this;
      for (let i = 0; i < n; i++) {
        if (valid && !valid[i]) { hashes[i] = mix(hashes[i], NULL_HASH); continue; }
        const x = v[i];
        scratch[0] = x !== x ? NaN : x === 0 ? 0 : x;
        hashes[i] = mix(mix(hashes[i], bits[0]), bits[1]);
      }
    } else {
      for (let i = 0; i < n; i++) hashes[i] = mix(hashes[i], valid && !valid[i] ? NULL_HASH : v[i] | 0);
    }
  }
  equals(_: Data, row: number, id: number) {
    const a = this.v[row];
    const b = this.values[id];
    return a === b || (a !== a && b !== b);
  }
  append(_: Data, row: number, valid: boolean) {
    this.values = grow(this.values, this.size + 1);
    this.values[this.size++] = valid ? this.v[row] : 0;
  }
  build(count: number, valid: Uint8Array | null) {
    const Ctor = this.type.ArrayType as new (n: number) => Float64Array;
    const out = new Ctor(count);
    for (let i = 0; i < count; i++) out[i] = this.values[i];
    return fixedColumn(this.type, out, valid, count);
  }
}

class Int64Column implements KeyColumn {
  private values = new Int32Array(128);
  private h: Int32Array = new Int32Array(0);
  private size = 0;
  constructor(private readonly type: DataType) {}
  bind(data: Data) {
    this.h = halves(data);
  }
  hash(data: Data, valid: Uint8Array | null, hashes: Int32Array) {
    const h = halves(data);
    for (let i = 0; i < data.length; i++) {
      hashes[i] = valid && !valid[i] ? mix(hashes[i], NULL_HASH) : mix(mix(hashes[i], h[2 * i]), h[2 * i + 1]);
    }
  }
  equals(_: Data, row: number, id: number) {
    return this.h[2 * row] === this.values[2 * id] && this.h[2 * row + 1] === this.values[2 * id + 1];
  }
  append(_: Data, row: number, valid: boolean) {
    this.values = grow(this.values, 2 * this.size + 2);
    this.values[2 * this.size] = valid ? this.h[2 * row] : 0;
    this.values[2 * this.size + 1] = valid ? this.h[2 * row + 1] : 0;
    this.size++;
  }
  build(count: number, valid: Uint8Array | null) {
    return int64Column(this.type, this.values.slice(0, 2 * count), valid, count);
  }
}

class BoolColumn implements KeyColumn {
  private values = new Uint8Array(64);
  private v: Uint8Array = new Uint8Array(0);
  private size = 0;
  constructor(private readonly type: DataType) {}
  bind(data: Data) {
    this.v = boolBytes(data);
  }
  hash(data: Data, valid: Uint8Array | null, hashes: Int32Array) {
    const v = boolBytes(data);
    for (let i = 0; i < data.length; i++) hashes[i] = mix(hashes[i], valid && !valid[i] ? NULL_HASH : v[i]);
  }
  equals(_: Data, row: number, id: number) {
    return this.v[row] === this.values[id];
  }
  append(_: Data, row: number, valid: boolean) {
    this.values = grow(this.values, this.size + 1);
    this.values[this.size++] = valid ? this.v[row] : 0;
  }
  build(count: number, valid: Uint8Array | null) {
    return fixedColumn(this.type, this.values.slice(0, count), valid, count);
  }
}

class BytesColumn implements KeyColumn {
  private bytes = new Uint8Array(1024);
  private offsets = new Int32Array(65);
  private size = 0;
  private o: Int32Array = new Int32Array(1);
  private b: Uint8Array = new Uint8Array(0);
  constructor(private readonly type: DataType) {}
  bind(data: Data) {
    ({ offsets: this.o, bytes: this.b } = bytesOf(data));
  }
  hash(data: Data, valid: Uint8Array | null, hashes: Int32Array) {
    const { offsets, bytes } = bytesOf(data);
    for (let i = 0; i < data.length; i++) {
      if (valid && !valid[i]) { hashes[i] = mix(hashes[i], NULL_HASH); continue; }
      const start = offsets[i];
      const end = offsets[i + 1];
      // FNV-1a over the bytes, then the length, into the running hash.
      let f = 0x811c9dc5;
      for (let j = start; j < end; j++) f = Math.imul(f ^ bytes[j], 0x01000193);
      hashes[i] = mix(mix(hashes[i], f), end - start);
    }
  }
  equals(_: Data, row: number, id: number) {
    const start = this.o[row];
    const length = this.o[row + 1] - start;
    const at = this.offsets[id];
    if (this.offsets[id + 1] - at !== length) return false;
    const { b, bytes } = this;
    for (let j = 0; j < length; j++) if (b[start + j] !== bytes[at + j]) return false;
    return true;
  }
  append(_: Data, row: number, valid: boolean) {
    const start = this.o[row];
    const length = valid ? this.o[row + 1] - start : 0;
    const at = this.offsets[this.size];
    this.bytes = grow(this.bytes, at + length);
    this.bytes.set(this.b.subarray(start, start + length), at);
    this.offsets = grow(this.offsets, this.size + 2);
    this.offsets[++this.size] = at + length;
  }
  build(count: number, valid: Uint8Array | null) {
    return bytesColumn(this.type, this.offsets.slice(0, count + 1), this.bytes.slice(0, this.offsets[count]), valid, count);
  }
}

/** Whether `type` can be a key (scalar, or a dictionary of scalars). */
export const isHashable = (type: DataType) => physicalOf(valueType(type)) !== undefined;

function keyColumn(type: DataType): KeyColumn {
  switch (physicalOf(type)) {
    case 'number': return new NumberColumn(type);
    case 'int64':
    case 'uint64': return new Int64Column(type);
    case 'bool': return new BoolColumn(type);
    case 'bytes': return new BytesColumn(type);
    default: throw new Error(`values of type ${String(type)} cannot be keys`);
  }
}

export interface KeyIndexOptions {
  /** true: null is a key like any other (group-by); false: a key with a null has no id (joins). */
  nullsEqual: boolean;
}

/**
 * Dense ids (0, 1, 2, ... in order of first appearance) for the distinct key tuples of the rows
 * given to `insert`. Key columns are given as Data of the `types` (dictionaries are decoded, so
 * their keys come back as the dictionary's value type).
 */
export class KeyIndex {
  /** The types of the columns `keys()` returns. */
  readonly types: DataType[];
  private readonly columns: KeyColumn[];
  private readonly nullsEqual: boolean;
  private count = 0;
  private slots = new Int32Array(1024); // id + 1, 0 = empty
  private mask = 1023;
  private idHashes = new Uint32Array(64);
  private nullFlags: Uint8Array[]; // per column, a byte per id: 1 = the key is null there
  private anyNull: boolean[];

  constructor(types: DataType[], options: KeyIndexOptions) {
    this.types = types.map(valueType);
    this.columns = this.types.map(keyColumn);
    this.nullsEqual = options.nullsEqual;
    this.nullFlags = types.map(() => new Uint8Array(64));
    this.anyNull = types.map(() => false);
  }

  /** How many distinct keys there are. */
  get size(): number {
    return this.count;
  }

  /** The id of each row's key, adding new keys; -1 for keys with a null unless nulls are equal. */
  insert(keys: readonly Data[], out?: Int32Array): Int32Array {
    return this.run(keys, out, true);
  }

  /** The id of each row's key, or -1 where the key is absent (or has a null, unless nulls are equal). */
  lookup(keys: readonly Data[], out?: Int32Array): Int32Array {
    return this.run(keys, out, false);
  }

  /** The distinct keys, one column per key column, row i being key id i. */
  keys(): Data[] {
    const n = this.count;
    return this.columns.map((c, k) => {
      const valid = this.anyNull[k] ? this.nullFlags[k].slice(0, n).map((f) => 1 - f) : null;
      return c.build(n, valid);
    });
  }

  private run(keyData: readonly Data[], out: Int32Array | undefined, adding: boolean): Int32Array {
    const keys = keyData.map(decodeDictionary);
    const n = keys.length ? keys[0].length : 0;
    const ids = out && out.length >= n ? out : new Int32Array(n);
    const valids = keys.map(validBytes);
    const hashes = new Int32Array(n);
    const { columns } = this;
    const width = columns.length;
    for (let k = 0; k < width; k++) {
      columns[k].hash(keys[k], valids[k], hashes);
      columns[k].bind(keys[k]);
    }
    // A row with a null in some column: equal only where the same columns are null.
    const hasNulls = valids.some((v) => v !== null);
    for (let row = 0; row < n; row++) {
      let rowHasNull = false;
      if (hasNulls) {
        for (let k = 0; k < width; k++) if (valids[k] && !valids[k]![row]) rowHasNull = true;
        if (rowHasNull && !this.nullsEqual) {
          ids[row] = -1;
          continue;
        }
      }
      const h = finish(hashes[row]);
      let slot = h & this.mask;
      let id = -1;
      for (;;) {
        const s = this.slots[slot];
        if (s === 0) break;
        const candidate = s - 1;
        if (this.idHashes[candidate] === h && this.matches(keys, valids, rowHasNull, row, candidate)) {
          id = candidate;
          break;
        }
        slot = (slot + 1) & this.mask;
      }
      if (id < 0 && adding) {
        id = this.add(keys, valids, row, h);
        this.slots[slot] = id + 1;
        if (this.count * 2 > this.mask) this.rehash();
      }
      ids[row] = id;
    }
    return ids;
  }

  private matches(keys: readonly Data[], valids: (Uint8Array | null)[], rowHasNull: boolean, row: number, id: number): boolean {
    const { columns } = this;
    for (let k = 0; k < columns.length; k++) {
      if (rowHasNull || this.anyNull[k]) {
        const rowNull = valids[k] ? !valids[k]![row] : false;
        const idNull = this.nullFlags[k][id] === 1;
        if (rowNull !== idNull) return false;
        if (rowNull) continue;
      }
      if (!columns[k].equals(keys[k], row, id)) return false;
    }
    return true;
  }

  private add(keys: readonly Data[], valids: (Uint8Array | null)[], row: number, h: number): number {
    const id = this.count++;
    this.idHashes = grow(this.idHashes, this.count);
    this.idHashes[id] = h;
    for (let k = 0; k < this.columns.length; k++) {
      const valid = valids[k] ? valids[k]![row] === 1 : true;
      this.nullFlags[k] = grow(this.nullFlags[k], this.count);
      if (!valid) {
        this.nullFlags[k][id] = 1;
        this.anyNull[k] = true;
      }
      this.columns[k].append(keys[k], row, valid);
    }
    return id;
  }

  private rehash(): void {
    const capacity = (this.mask + 1) * 2;
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let id = 0; id < this.count; id++) {
      let slot = this.idHashes[id] & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = id + 1;
    }
  }
}
