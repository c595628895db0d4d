// Gathers rows by index from Arrow data of any type: the kernel behind filter, sort and join.
// Arrow JS slicing conventions: fixed-width values and offsets are already sliced, while validity
// and boolean bits are addressed from `data.offset`; struct and fixed-size-list children are
// sliced, list and string children are not (their offsets point into them).
import { Data, RecordBatch, Struct, Type, makeData, type DataType } from 'apache-arrow';

const isValidAt = (data: Data, i: number): boolean => {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return true;
  const bit = data.offset + i;
  return (bitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
};

function takeValidity(data: Data, indices: Int32Array): { nullBitmap?: Uint8Array; nullCount: number } {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return { nullCount: 0 };
  const bitmap = new Uint8Array((indices.length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < indices.length; i++) {
    if (isValidAt(data, indices[i])) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullCount: 0 } : { nullBitmap: bitmap, nullCount: nulls };
}

/** Rows `indices` of `data`, in that order (indices may repeat). */
export function takeData<T extends DataType>(data: Data<T>, indices: Int32Array): Data<T> {
  const type = data.type as DataType;
  const length = indices.length;
  const validity = takeValidity(data, indices);
  const common = { type, length, ...validity } as Record<string, unknown>;
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length, nullCount: length } as never) as Data<T>;
    case Type.Bool: {
      const values = new Uint8Array((length + 7) >> 3);
      const src = data.values as Uint8Array;
      for (let i = 0; i < length; i++) {
        const bit = data.offset + indices[i];
        if (src[bit >> 3] & (1 << (bit & 7))) values[i >> 3] |= 1 << (i & 7);
      }
      return makeData({ ...common, data: values } as never) as Data<T>;
    }
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const src = data.values as Uint8Array;
      const at = (i: number) => Number(offsets[i]);
      let bytes = 0;
      for (let i = 0; i < length; i++) bytes += at(indices[i] + 1) - at(indices[i]);
      const values = new Uint8Array(bytes);
      const out = large ? new BigInt64Array(length + 1) : new Int32Array(length + 1);
      let pos = 0;
      for (let i = 0; i < length; i++) {
        const start = at(indices[i]);
        const end = at(indices[i] + 1);
        // Short values (the usual case) copy faster byte by byte than through a subarray.
        if (end - start < 32) for (let j = start; j < end; j++) values[pos++] = src[j];
        else {
          values.set(src.subarray(start, end), pos);
          pos += end - start;
        }
        out[i + 1] = (large ? BigInt(pos) : pos) as never;
      }
      return makeData({ ...common, valueOffsets: out, data: values } as never) as Data<T>;
    }
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const at = (i: number) => Number(offsets[i]);
      let total = 0;
      for (let i = 0; i < length; i++) total += at(indices[i] + 1) - at(indices[i]);
      const childIndices = new Int32Array(total);
      const large = type.typeId === Type.LargeList;
      const out = large ? new BigInt64Array(length + 1) : new Int32Array(length + 1);
      let pos = 0;
      for (let i = 0; i < length; i++) {
        for (let j = at(indices[i]); j < at(indices[i] + 1); j++) childIndices[pos++] = j;
        out[i + 1] = (large ? BigInt(pos) : pos) as never;
      }
      const child = takeData(data.children[0], childIndices);
      return makeData({ ...common, valueOffsets: out, child } as never) as Data<T>;
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const childIndices = new Int32Array(length * size);
      for (let i = 0; i < length; i++) for (let j = 0; j < size; j++) childIndices[i * size + j] = indices[i] * size + j;
      return makeData({ ...common, child: takeData(data.children[0], childIndices) } as never) as Data<T>;
    }
    case Type.Struct:
      return makeData({ ...common, children: data.children.map((c) => takeData(c, indices)) } as never) as Data<T>;
    case Type.Dictionary: {
      const values = gather(data.values as never, data.stride, indices);
      return makeData({ ...common, data: values, dictionary: data.dictionary } as never) as Data<T>;
    }
    case Type.Union:
    case Type.Utf8View:
    case Type.BinaryView:
      throw new Error(`taking rows of ${type} columns is not supported`);
    default: {
      // Fixed width: ints, floats, dates, timestamps, times, durations, intervals, decimals, fixed binary.
      const values = gather(data.values as never, data.stride, indices);
      return makeData({ ...common, data: values } as never) as Data<T>;
    }
  }
}

type Typed = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

function gather(src: Typed, stride: number, indices: Int32Array): Typed {
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    // Copying 64-bit integers as BigInts allocates per element; copy their two 32-bit halves.
    const halves = gather(new Uint32Array(src.buffer, src.byteOffset, src.length * 2), stride * 2, indices) as Uint32Array;
    const Big = src.constructor as new (buffer: ArrayBuffer) => Typed;
    return new Big(halves.buffer as ArrayBuffer);
  }
  const Ctor = src.constructor as new (n: number) => Typed;
  const out = new Ctor(indices.length * stride);
  if (stride === 1) {
    for (let i = 0; i < indices.length; i++) out[i] = src[indices[i]];
  } else if (stride === 2) {
    for (let i = 0; i < indices.length; i++) {
      out[2 * i] = src[2 * indices[i]];
      out[2 * i + 1] = src[2 * indices[i] + 1];
    }
  } else {
    for (let i = 0; i < indices.length; i++) out.set(src.subarray(indices[i] * stride, (indices[i] + 1) * stride) as never, i * stride);
  }
  return out;
}

/** Rows `indices` of a batch. */
export function takeBatch(batch: RecordBatch, indices: Int32Array): RecordBatch {
  const children = batch.data.children.map((c) => takeData(c, indices));
  return new RecordBatch(batch.schema, makeData({ type: new Struct(batch.schema.fields), length: indices.length, children }));
}

/** The rows where `keep` is 1 (a byte per row). */
export function filterBatch(batch: RecordBatch, keep: Uint8Array): RecordBatch {
  let n = 0;
  for (let i = 0; i < batch.numRows; i++) n += keep[i];
  if (n === batch.numRows) return batch;
  const indices = new Int32Array(n);
  for (let i = 0, j = 0; i < batch.numRows; i++) if (keep[i]) indices[j++] = i;
  return takeBatch(batch, indices);
}
