// Record-batch messages of the Arrow IPC format, written and read directly. Arrow JS goes through
// generic visitors and a fresh flatbuffers builder per message, which costs tens of microseconds
// even for a ten-row batch; engines move many small batches, so the common layouts (fixed-width,
// bool, strings and binary, lists, fixed-size lists, structs) are handled here. Anything else
// (dictionaries, unions, views) reports itself unsupported and the caller falls back to Arrow JS.
//
// Message layout written (all little-endian, offsets from the start of the flatbuffer):
//   0   root offset -> Message table at 16
//   4   Message vtable (version, header_type, header, bodyLength)
//   16  Message table: soffset, version i16 @+4, header_type u8 @+6, bodyLength i64 @+8, header @+16
//   40  RecordBatch vtable (length, nodes, buffers)
//   56  RecordBatch table: soffset, nodes @+4, length i64 @+8, buffers @+16
//   76  nodes vector (u32 count, then 16-byte FieldNodes from 80), then buffers vector likewise.
import { Data, Type, type DataType, type Field, type RecordBatch } from 'apache-arrow';
import { strideForType } from 'apache-arrow/type';

export class UnsupportedLayout extends Error {}

export interface EncodedBatch {
  /** The flatbuffer Message, padded to 8 bytes. */
  metadata: Uint8Array;
  /** Body pieces and where each goes in the body (offsets are 8-byte aligned). */
  pieces: Uint8Array[];
  offsets: number[];
  bodyLength: number;
}

const emptyBytes = new Uint8Array(0);
const pad8 = (n: number) => (n + 7) & ~7;

/** Encodes a batch's metadata and body layout; throws UnsupportedLayout for other types. */
export function encodeRecordBatch(batch: RecordBatch): EncodedBatch {
  const nodes: number[] = []; // length, nullCount pairs
  const pieces: Uint8Array[] = [];
  for (const child of batch.data.children) assemble(child, batch.data.children.length ? child.length : 0, nodes, pieces);
  const offsets: number[] = [];
  let bodyLength = 0;
  for (const piece of pieces) {
    offsets.push(bodyLength);
    bodyLength += pad8(piece.byteLength);
  }
  return { metadata: writeMessage(batch.numRows, nodes, pieces, offsets, bodyLength), pieces, offsets, bodyLength };
}

/** Copies validity or boolean bits starting at bit `offset` into a fresh, 0-based bitmap. */
function bitsFrom(bitmap: Uint8Array, offset: number, length: number): Uint8Array {
  const bytes = (length + 7) >> 3;
  if ((offset & 7) === 0) return bitmap.subarray(offset >> 3, (offset >> 3) + bytes);
  const out = new Uint8Array(bytes);
  for (let i = 0; i < length; i++) {
    const bit = offset + i;
    if (bitmap[bit >> 3] & (1 << (bit & 7))) out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}

const asBytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

function assemble(data: Data, length: number, nodes: number[], pieces: Uint8Array[]): void {
  const type = data.type as DataType;
  if (data.length < length) throw new UnsupportedLayout('child shorter than its parent');
  const nullCount = length === 0 ? 0 : data.nullCount === data.length && length === data.length ? data.nullCount : countNulls(data, length);
  nodes.push(length, nullCount);
  if (type.typeId === Type.Null) return;
  pieces.push(nullCount > 0 ? bitsFrom(data.nullBitmap!, data.offset, length) : emptyBytes);
  switch (type.typeId) {
    case Type.Bool:
      pieces.push(bitsFrom(data.values as Uint8Array, data.offset, length));
      return;
    case Type.Int: case Type.Float: case Type.Date: case Type.Timestamp: case Type.Time:
    case Type.Duration: case Type.Interval: case Type.Decimal: case Type.FixedSizeBinary: {
      const values = data.values as unknown as ArrayBufferView & { BYTES_PER_ELEMENT: number; subarray(a: number, b: number): ArrayBufferView };
      pieces.push(asBytes(values.subarray(0, length * data.stride)));
      return;
    }
    case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary:
    case Type.List: case Type.LargeList: case Type.Map: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const start = Number(offsets[0]);
      const end = Number(offsets[length]);
      const own = offsets.subarray(0, length + 1);
      let rebased: Int32Array | BigInt64Array = own;
      if (start !== 0) {
        rebased = own instanceof BigInt64Array ? own.map((v) => v - BigInt(start)) : own.map((v) => v - start);
      }
      pieces.push(asBytes(rebased));
      if (type.typeId === Type.List || type.typeId === Type.LargeList || type.typeId === Type.Map) {
        assemble(start === 0 ? data.children[0] : data.children[0].slice(start, end - start), end - start, nodes, pieces);
      } else {
        pieces.push((data.values as Uint8Array).subarray(start, end));
      }
      return;
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      assemble(data.children[0], length * size, nodes, pieces);
      return;
    }
    case Type.Struct:
      for (const child of data.children) assemble(child, length, nodes, pieces);
      return;
    default:
      throw new UnsupportedLayout(`${type} columns take the general path`);
  }
}

function countNulls(data: Data, length: number): number {
  if (length === data.length) return Math.max(0, data.nullCount);
  if (!data.nullBitmap || data.nullBitmap.length === 0 || data.nullCount === 0) return 0;
  let nulls = 0;
  for (let i = 0; i < length; i++) {
    const bit = data.offset + i;
    if ((data.nullBitmap[bit >> 3] & (1 << (bit & 7))) === 0) nulls++;
  }
  return nulls;
}

function writeMessage(length: number, nodes: number[], pieces: Uint8Array[], offsets: number[], bodyLength: number): Uint8Array {
  const nodeCount = nodes.length / 2;
  const nodesAt = 76;
  const buffersAt = nodesAt + 4 + 16 * nodeCount + 4;
  const size = pad8(buffersAt + 4 + 16 * pieces.length);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const u16 = (at: number, v: number) => view.setUint16(at, v, true);
  const u32 = (at: number, v: number) => view.setUint32(at, v, true);
  const i64 = (at: number, v: number) => view.setBigInt64(at, BigInt(v), true);
  u32(0, 16);
  // Message vtable
  u16(4, 12); u16(6, 20); u16(8, 4); u16(10, 6); u16(12, 16); u16(14, 8);
  // Message table
  view.setInt32(16, 16 - 4, true);
  view.setInt16(20, 4, true); // MetadataVersion.V5
  bytes[22] = 3; // MessageHeader.RecordBatch
  i64(24, bodyLength);
  u32(32, 56 - 32);
  // RecordBatch vtable
  u16(40, 10); u16(42, 20); u16(44, 8); u16(46, 4); u16(48, 16);
  // RecordBatch table
  view.setInt32(56, 56 - 40, true);
  u32(60, nodesAt - 60);
  i64(64, length);
  u32(72, buffersAt - 72);
  u32(nodesAt, nodeCount);
  for (let i = 0; i < nodeCount; i++) {
    i64(nodesAt + 4 + 16 * i, nodes[2 * i]);
    i64(nodesAt + 12 + 16 * i, nodes[2 * i + 1]);
  }
  u32(buffersAt, pieces.length);
  for (let i = 0; i < pieces.length; i++) {
    i64(buffersAt + 4 + 16 * i, offsets[i]);
    i64(buffersAt + 12 + 16 * i, pieces[i].byteLength);
  }
  return bytes;
}

/** The parts of a RecordBatch message a reader needs, or undefined if it is not a plain one. */
export interface BatchHeader {
  length: number;
  nodes: Float64Array; // length, nullCount pairs
  buffers: Float64Array; // offset, length pairs
  bodyLength: number;
}

/** Reads a Message flatbuffer; undefined unless it is an uncompressed RecordBatch. */
export function readBatchHeader(metadata: Uint8Array): BatchHeader | undefined {
  const view = new DataView(metadata.buffer, metadata.byteOffset, metadata.byteLength);
  const table = (at: number) => {
    const vtable = at - view.getInt32(at, true);
    const vtableSize = view.getUint16(vtable, true);
    return (field: number) => {
      const slot = 4 + 2 * field;
      const offset = slot < vtableSize ? view.getUint16(vtable + slot, true) : 0;
      return offset === 0 ? 0 : at + offset;
    };
  };
  const indirect = (at: number) => at + view.getUint32(at, true);
  const int64 = (at: number) => Number(view.getBigInt64(at, true));
  const message = table(view.getUint32(0, true));
  const headerType = message(1);
  if (!headerType || metadata[headerType] !== 3) return undefined;
  const batch = table(indirect(message(2)));
  if (batch(3) || batch(4)) return undefined; // compressed body, or variadic buffers
  const pairs = (field: number) => {
    const at = batch(field);
    if (!at) return new Float64Array(0);
    const vector = indirect(at);
    const count = view.getUint32(vector, true);
    const out = new Float64Array(count * 2);
    for (let i = 0; i < count * 2; i++) out[i] = int64(vector + 4 + 8 * i);
    return out;
  };
  const bodyLength = message(3) ? int64(message(3)) : 0;
  return { length: batch(0) ? int64(batch(0)) : 0, nodes: pairs(1), buffers: pairs(2), bodyLength };
}

/** Builds the columns of `fields` from a body; throws UnsupportedLayout for other types. */
export function loadColumns(fields: Field[], header: BatchHeader, body: Uint8Array): Data[] {
  let node = 0;
  let buffer = 0;
  const region = (): Uint8Array => {
    const offset = header.buffers[2 * buffer];
    const length = header.buffers[2 * buffer + 1];
    buffer++;
    return body.subarray(offset, offset + length);
  };
  const typed = <T>(bytes: Uint8Array, Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }, count: number): T => {
    const width = Ctor.BYTES_PER_ELEMENT;
    if ((bytes.byteOffset % width) === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
    return new Ctor(bytes.slice(0, count * width).buffer, 0, count); // unaligned: copy
  };
  const load = (type: DataType): Data => {
    const length = header.nodes[2 * node];
    const nullCount = header.nodes[2 * node + 1];
    node++;
    if (type.typeId === Type.Null) return new Data(type, 0, length, length, [] as never);
    const validity = region();
    const nullBitmap = nullCount > 0 ? validity : emptyBytes;
    switch (type.typeId) {
      case Type.Bool:
        return new Data(type, 0, length, nullCount, [undefined, region(), nullBitmap] as never);
      case Type.Int: case Type.Float: case Type.Date: case Type.Timestamp: case Type.Time:
      case Type.Duration: case Type.Interval: case Type.Decimal: case Type.FixedSizeBinary: {
        const Ctor = (type as unknown as { ArrayType: { new (b: ArrayBufferLike, o: number, n: number): ArrayBufferView; BYTES_PER_ELEMENT: number } }).ArrayType;
        const values = typed(region(), Ctor, length * strideForType(type));
        return new Data(type, 0, length, nullCount, [undefined, values, nullBitmap] as never);
      }
      case Type.Utf8: case Type.Binary:
        return new Data(type, 0, length, nullCount, [typed(region(), Int32Array, length + 1), region(), nullBitmap] as never);
      case Type.LargeUtf8: case Type.LargeBinary:
        return new Data(type, 0, length, nullCount, [typed(region(), BigInt64Array, length + 1), region(), nullBitmap] as never);
      case Type.List: case Type.Map:
        return new Data(type, 0, length, nullCount, [typed(region(), Int32Array, length + 1), undefined, nullBitmap] as never, [load(type.children[0].type)]);
      case Type.LargeList:
        return new Data(type, 0, length, nullCount, [typed(region(), BigInt64Array, length + 1), undefined, nullBitmap] as never, [load(type.children[0].type)]);
      case Type.FixedSizeList:
      case Type.Struct:
        return new Data(type, 0, length, nullCount, [undefined, undefined, nullBitmap] as never, type.children.map((f) => load(f.type)));
      default:
        throw new UnsupportedLayout(`${type} columns take the general path`);
    }
  };
  return fields.map((f) => load(f.type));
}

/** Whether every column of a schema has a layout this module handles. */
export function handlesFields(fields: readonly Field[]): boolean {
  const handled = (type: DataType): boolean => {
    switch (type.typeId) {
      case Type.Dictionary: case Type.Union: case Type.SparseUnion: case Type.DenseUnion:
      case Type.Utf8View: case Type.BinaryView:
        return false;
      default:
        return (type.children ?? []).every((f) => handled(f.type));
    }
  };
  return fields.every((f) => handled(f.type));
}
