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
  /** The message as the stream frames it: continuation marker, length, flatbuffer padded to 8 bytes. */
  framed: Uint8Array;
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
  return { framed: writeMessage(batch.numRows, nodes, pieces, offsets, bodyLength), pieces, offsets, bodyLength };
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

/** Lengths and offsets are whole numbers below 2^53: two 32-bit halves, without BigInt. */
function setInt64(view: DataView, at: number, value: number) {
  view.setUint32(at, value >>> 0, true);
  view.setUint32(at + 4, Math.floor(value / 4294967296), true);
}

/** The framed message: 8 bytes of stream framing, then the flatbuffer (offsets below count from it). */
function writeMessage(length: number, nodes: number[], pieces: Uint8Array[], offsets: number[], bodyLength: number): Uint8Array {
  const nodeCount = nodes.length / 2;
  const nodesAt = 76;
  const buffersAt = nodesAt + 4 + 16 * nodeCount + 4;
  const size = pad8(buffersAt + 4 + 16 * pieces.length);
  const framed = new Uint8Array(8 + size);
  const frame = new DataView(framed.buffer);
  frame.setInt32(0, -1, true);
  frame.setInt32(4, size, true);
  const view = new DataView(framed.buffer, 8);
  framed.set(messagePrefix, 8);
  setInt64(view, 24, bodyLength);
  setInt64(view, 64, length);
  view.setUint32(72, buffersAt - 72, true);
  view.setUint32(nodesAt, nodeCount, true);
  for (let i = 0; i < nodeCount; i++) {
    setInt64(view, nodesAt + 4 + 16 * i, nodes[2 * i]);
    setInt64(view, nodesAt + 12 + 16 * i, nodes[2 * i + 1]);
  }
  view.setUint32(buffersAt, pieces.length, true);
  for (let i = 0; i < pieces.length; i++) {
    setInt64(view, buffersAt + 4 + 16 * i, offsets[i]);
    setInt64(view, buffersAt + 12 + 16 * i, pieces[i].byteLength);
  }
  return framed;
}

/** The fixed first 64 bytes of every message this module writes (see the layout above). */
const messagePrefix = (() => {
  const bytes = new Uint8Array(64);
  const view = new DataView(bytes.buffer);
  const u16s = (at: number, ...values: number[]) => values.forEach((v, i) => view.setUint16(at + 2 * i, v, true));
  view.setUint32(0, 16, true);
  u16s(4, 12, 20, 4, 6, 16, 8); // Message vtable: sizes, then version, header_type, header, bodyLength
  view.setInt32(16, 16 - 4, true);
  view.setInt16(20, 4, true); // MetadataVersion.V5
  bytes[22] = 3; // MessageHeader.RecordBatch
  view.setUint32(32, 56 - 32, true);
  u16s(40, 10, 20, 8, 4, 16); // RecordBatch vtable: sizes, then length, nodes, buffers
  view.setInt32(56, 56 - 40, true);
  view.setUint32(60, 76 - 60, true);
  return bytes;
})();

/** The parts of a RecordBatch message a reader needs, or undefined if it is not a plain one. */
export interface BatchHeader {
  length: number;
  nodes: Float64Array; // length, nullCount pairs
  buffers: Float64Array; // offset, length pairs
  bodyLength: number;
}

/** Reads flatbuffer tables: `field(table, id)` is the field's position, or 0 when absent. */
class FlatReader {
  readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  field(table: number, id: number): number {
    const vtable = table - this.view.getInt32(table, true);
    const slot = 4 + 2 * id;
    const offset = slot < this.view.getUint16(vtable, true) ? this.view.getUint16(vtable + slot, true) : 0;
    return offset === 0 ? 0 : table + offset;
  }

  indirect(at: number): number {
    return at + this.view.getUint32(at, true);
  }

  int64(at: number): number {
    return this.view.getUint32(at, true) + this.view.getInt32(at + 4, true) * 4294967296;
  }

  /** A vector of 16-byte structs of two int64s, flattened. */
  pairs(table: number, id: number): Float64Array {
    const at = this.field(table, id);
    if (!at) return new Float64Array(0);
    const vector = this.indirect(at);
    const out = new Float64Array(this.view.getUint32(vector, true) * 2);
    for (let i = 0; i < out.length; i++) out[i] = this.int64(vector + 4 + 8 * i);
    return out;
  }
}

/** Reads a Message flatbuffer; undefined unless it is an uncompressed RecordBatch. */
export function readBatchHeader(metadata: Uint8Array): BatchHeader | undefined {
  const r = new FlatReader(metadata);
  const message = r.view.getUint32(0, true);
  const headerType = r.field(message, 1);
  if (!headerType || metadata[headerType] !== 3) return undefined;
  const batch = r.indirect(r.field(message, 2));
  if (r.field(batch, 3) || r.field(batch, 4)) return undefined; // compressed body, or variadic buffers
  const length = r.field(batch, 0);
  const bodyLength = r.field(message, 3);
  return {
    length: length ? r.int64(length) : 0,
    nodes: r.pairs(batch, 1),
    buffers: r.pairs(batch, 2),
    bodyLength: bodyLength ? r.int64(bodyLength) : 0,
  };
}

type TypedCtor = { new (buffer: ArrayBufferLike, offset: number, length: number): ArrayBufferView; BYTES_PER_ELEMENT: number };

/** Builds the columns of `fields` from a body; throws UnsupportedLayout for other types. */
export function loadColumns(fields: Field[], header: BatchHeader, body: Uint8Array): Data[] {
  const loader = new ColumnLoader(header, body);
  return fields.map((f) => loader.load(f.type));
}

class ColumnLoader {
  private node = 0;
  private buffer = 0;

  constructor(private readonly header: BatchHeader, private readonly body: Uint8Array) {}

  private region(): Uint8Array {
    const offset = this.header.buffers[2 * this.buffer];
    const length = this.header.buffers[2 * this.buffer + 1];
    this.buffer++;
    return this.body.subarray(offset, offset + length);
  }

  /** A typed view of the next buffer (a copy when it is not aligned for the type). */
  private typed(Ctor: TypedCtor, count: number): ArrayBufferView {
    const bytes = this.region();
    if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
    return new Ctor(bytes.slice(0, count * Ctor.BYTES_PER_ELEMENT).buffer, 0, count);
  }

  load(type: DataType): Data {
    const length = this.header.nodes[2 * this.node];
    const nullCount = this.header.nodes[2 * this.node + 1];
    this.node++;
    if (type.typeId === Type.Null) return new Data(type, 0, length, length, [] as never);
    const validity = this.region();
    const nullBitmap = nullCount > 0 ? validity : emptyBytes;
    switch (type.typeId) {
      case Type.Bool:
        return new Data(type, 0, length, nullCount, [undefined, this.region(), nullBitmap] as never);
      case Type.Int: case Type.Float: case Type.Date: case Type.Timestamp: case Type.Time:
      case Type.Duration: case Type.Interval: case Type.Decimal: case Type.FixedSizeBinary: {
        const values = this.typed((type as unknown as { ArrayType: TypedCtor }).ArrayType, length * strideForType(type));
        return new Data(type, 0, length, nullCount, [undefined, values, nullBitmap] as never);
      }
      case Type.Utf8: case Type.Binary:
        return new Data(type, 0, length, nullCount, [this.typed(Int32Array, length + 1), this.region(), nullBitmap] as never);
      case Type.LargeUtf8: case Type.LargeBinary:
        return new Data(type, 0, length, nullCount, [this.typed(BigInt64Array as never, length + 1), this.region(), nullBitmap] as never);
      case Type.List: case Type.Map: {
        const offsets = this.typed(Int32Array, length + 1);
        return new Data(type, 0, length, nullCount, [offsets, undefined, nullBitmap] as never, [this.load(type.children[0].type)]);
      }
      case Type.LargeList: {
        const offsets = this.typed(BigInt64Array as never, length + 1);
        return new Data(type, 0, length, nullCount, [offsets, undefined, nullBitmap] as never, [this.load(type.children[0].type)]);
      }
      case Type.FixedSizeList:
      case Type.Struct:
        return new Data(type, 0, length, nullCount, [undefined, undefined, nullBitmap] as never, type.children.map((f) => this.load(f.type)));
      default:
        throw new UnsupportedLayout(`${type} columns take the general path`);
    }
  }
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
