// Concatenates Arrow Data of one type into one contiguous Data: what sort and a join's build side
// materialise before gathering rows with `takeData`. Follows the slicing conventions described in
// take.ts: fixed-width values and offsets are already sliced, validity and boolean bits are
// addressed from `data.offset`, struct and fixed-size-list children are sliced, list and string
// children are not.
import { Data, RecordBatch, Struct, Type, Vector, makeData, type DataType, type Dictionary, type Schema } from 'apache-arrow';
import { nullData } from './nulls.ts';

type Typed = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** Copies `length` bits of `src` starting at bit `from` into `dst` starting at bit `to`. */
function copyBits(dst: Uint8Array, to: number, src: Uint8Array, from: number, length: number): void {
  if ((to & 7) === 0 && (from & 7) === 0) {
    const whole = length >> 3;
    dst.set(src.subarray(from >> 3, (from >> 3) + whole), to >> 3);
    for (let i = whole << 3; i < length; i++) {
      if (src[(from + i) >> 3] & (1 << ((from + i) & 7))) dst[(to + i) >> 3] |= 1 << ((to + i) & 7);
    }
    return;
  }
  for (let i = 0; i < length; i++) {
    const s = from + i;
    if (src[s >> 3] & (1 << (s & 7))) {
      const d = to + i;
      dst[d >> 3] |= 1 << (d & 7);
    }
  }
}

function concatValidity(parts: Data[], length: number): { nullBitmap?: Uint8Array; nullCount: number } {
  let nulls = 0;
  for (const p of parts) nulls += p.typeId === Type.Null ? p.length : p.nullCount;
  if (nulls === 0) return { nullCount: 0 };
  const bitmap = new Uint8Array((length + 7) >> 3);
  let pos = 0;
  for (const p of parts) {
    if (p.nullCount === 0 || !p.nullBitmap || p.nullBitmap.length === 0) {
      // All valid: set the bits.
      for (let i = 0; i < p.length; i++) bitmap[(pos + i) >> 3] |= 1 << ((pos + i) & 7);
    } else {
      copyBits(bitmap, pos, p.nullBitmap, p.offset, p.length);
    }
    pos += p.length;
  }
  return { nullBitmap: bitmap, nullCount: nulls };
}

/** The parts one after another, as one Data of offset 0. Throws for union and view types. */
export function concatData<T extends DataType>(parts: readonly Data<T>[]): Data<T> {
  if (parts.length === 0) throw new Error('concatData needs at least one part');
  if (parts.length === 1 && parts[0].offset === 0) return parts[0];
  const type = parts[0].type as DataType;
  let length = 0;
  for (const p of parts) length += p.length;
  const common = { type, length, ...concatValidity(parts as readonly Data[] as Data[], length) } as Record<string, unknown>;
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length, nullCount: length } as never) as Data<T>;
    case Type.Bool: {
      const values = new Uint8Array((length + 7) >> 3);
      let pos = 0;
      for (const p of parts) {
        copyBits(values, pos, p.values as Uint8Array, p.offset, p.length);
        pos += p.length;
      }
      return makeData({ ...common, data: values } as never) as Data<T>;
    }
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
      let bytes = 0;
      for (const p of parts) bytes += Number(p.valueOffsets[p.length]) - Number(p.valueOffsets[0]);
      const values = new Uint8Array(bytes);
      const offsets = large ? new BigInt64Array(length + 1) : new Int32Array(length + 1);
      let row = 0;
      let pos = 0;
      for (const p of parts) {
        const src = p.valueOffsets as Int32Array | BigInt64Array;
        const first = Number(src[0]);
        values.set((p.values as Uint8Array).subarray(first, Number(src[p.length])), pos);
        for (let i = 1; i <= p.length; i++) {
          const at = pos + Number(src[i]) - first;
          offsets[row + i] = (large ? BigInt(at) : at) as never;
        }
        pos += Number(src[p.length]) - first;
        row += p.length;
      }
      return makeData({ ...common, valueOffsets: offsets, data: values } as never) as Data<T>;
    }
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const large = type.typeId === Type.LargeList;
      const offsets = large ? new BigInt64Array(length + 1) : new Int32Array(length + 1);
      const children: Data[] = [];
      let row = 0;
      let pos = 0;
      for (const p of parts) {
        const src = p.valueOffsets as Int32Array | BigInt64Array;
        const first = Number(src[0]);
        const last = Number(src[p.length]);
        children.push(p.children[0].slice(first, last - first));
        for (let i = 1; i <= p.length; i++) {
          const at = pos + Number(src[i]) - first;
          offsets[row + i] = (large ? BigInt(at) : at) as never;
        }
        pos += last - first;
        row += p.length;
      }
      return makeData({ ...common, valueOffsets: offsets, child: concatData(children) } as never) as Data<T>;
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const child = concatData(parts.map((p) => fit(p.children[0], p.length * size)));
      return makeData({ ...common, child } as never) as Data<T>;
    }
    case Type.Struct: {
      const children = (type as Struct).children.map((_, c) => concatData(parts.map((p) => fit(p.children[c], p.length))));
      return makeData({ ...common, children } as never) as Data<T>;
    }
    case Type.Dictionary:
      return concatDictionaries(parts as readonly Data[] as Data[], common) as Data<T>;
    case Type.Union:
    case Type.Utf8View:
    case Type.BinaryView:
      throw new Error(`concatenating columns of type ${String(type)} is not supported`);
    default: {
      // Fixed width: ints, floats, dates, timestamps, times, durations, intervals, decimals, fixed binary.
      const stride = parts[0].stride;
      const Ctor = (parts[0].values as Typed).constructor as new (n: number) => Typed;
      const values = new Ctor(length * stride);
      let pos = 0;
      for (const p of parts) {
        values.set((p.values as Typed).subarray(0, p.length * stride) as never, pos);
        pos += p.length * stride;
      }
      return makeData({ ...common, data: values } as never) as Data<T>;
    }
  }
}

const fit = (data: Data, length: number) => (data.length === length ? data : data.slice(0, length));

/**
 * Indices are concatenated; parts sharing one dictionary keep it, otherwise the dictionaries are
 * concatenated too and each part's indices shifted past the dictionaries before it.
 */
function concatDictionaries(parts: Data[], common: Record<string, unknown>): Data {
  const type = parts[0].type as Dictionary;
  const length = common.length as number;
  const Ctor = type.indices.ArrayType as new (n: number) => Typed;
  const indices = new Ctor(length);
  const shared = parts.every((p) => p.dictionary === parts[0].dictionary);
  const bigint = indices instanceof BigInt64Array || indices instanceof BigUint64Array;
  let dictionary = parts[0].dictionary as Vector;
  let row = 0;
  let shift = 0;
  for (const p of parts) {
    const src = p.values as Typed;
    for (let i = 0; i < p.length; i++) {
      indices[row + i] = (bigint ? BigInt(src[i]) + BigInt(shift) : Number(src[i]) + shift) as never;
    }
    row += p.length;
    if (!shared) shift += (p.dictionary as Vector).length;
  }
  if (!shared) {
    const limit = 2 ** (type.indices.bitWidth - (type.indices.isSigned ? 1 : 0));
    if (shift > limit) throw new Error(`concatenated dictionaries hold ${shift} values, too many for ${String(type.indices)} indices`);
    dictionary = new Vector([concatData(parts.flatMap((p) => (p.dictionary as Vector).data))]);
  }
  return makeData({ ...common, data: indices, dictionary } as never) as Data;
}

/** The batches (all of `schema`) as one batch. */
export function concatBatches(schema: Schema, batches: readonly RecordBatch[]): RecordBatch {
  if (batches.length === 1) return batches[0];
  const children = schema.fields.map((f, c) =>
    batches.length === 0 ? nullData(f.type, 0) : concatData(batches.map((b) => b.data.children[c])));
  const length = batches.reduce((n, b) => n + b.numRows, 0);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, children }));
}
