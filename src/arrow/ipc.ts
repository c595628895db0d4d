// Arrow IPC stream bytes for batches that cross a thread or a process.
// Arrow JS's reader and writer spend most of their time in stream machinery on small batches;
// this writes and reads the same stream format directly (one allocation, schema decoded once
// per distinct schema), and falls back to Arrow JS for dictionaries and compressed bodies.
import { RecordBatch, RecordBatchStreamWriter, Schema, Table, Type, tableFromIPC, type DataType } from 'apache-arrow';
import { Message, RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';
import { MessageHeader } from 'apache-arrow/enum';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';
import { makeBatch } from './batch.ts';
import { encodeRecordBatch, handlesFields, loadColumns, readBatchHeader, type EncodedBatch } from './ipc-batch.ts';
import { SchemaCache } from './schema-cache.ts';

const encodedSchemas = new SchemaCache<Uint8Array>();
const decodedSchemas = new Map<string, Schema>();

function hasDictionary(type: DataType): boolean {
  return type.typeId === Type.Dictionary || (type.children ?? []).some((f) => hasDictionary(f.type));
}

const aligned = (n: number) => (n + 7) & ~7;

/**
 * Encodes batches (all with one schema) as one IPC stream. With `scratch`, the bytes are written
 * into it when they fit (for a consumer that copies them at once, so one buffer serves every call).
 */
export function encodeBatches(schema: Schema, batches: readonly RecordBatch[], scratch?: Uint8Array): Uint8Array {
  if (schema.fields.some((f) => hasDictionary(f.type))) {
    return RecordBatchStreamWriter.writeAll(new Table(schema, [...batches])).toUint8Array(true);
  }
  const schemaMessage = encodedSchemas.get(schema, (s) => frameMessage(Message.encode(Message.from(s))));
  const fast = handlesFields(schema.fields);
  const parts = batches.map((batch) => (fast ? encodeRecordBatch(batch) : assembleGenerally(batch)));
  let total = schemaMessage.byteLength + 8;
  for (const p of parts) total += p.framed.byteLength + p.bodyLength;
  const out = scratch && scratch.byteLength >= total ? scratch.subarray(0, total) : new Uint8Array(total);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(schemaMessage, 0);
  let pos = schemaMessage.byteLength;
  for (const p of parts) {
    out.set(p.framed, pos);
    pos += p.framed.byteLength;
    p.pieces.forEach((piece, i) => out.set(piece, pos + p.offsets[i]));
    pos += p.bodyLength;
  }
  view.setInt32(pos, -1, true); // end of stream: continuation marker and a zero length
  view.setInt32(pos + 4, 0, true);
  return out;
}

/** Arrow JS's own assembly, for layouts ipc-batch.ts does not handle. */
export function assembleGenerally(batch: RecordBatch): EncodedBatch {
  const { byteLength, nodes, bufferRegions, buffers, variadicBufferCounts } = VectorAssembler.assemble(batch);
  const header = new BatchHeader(batch.numRows, nodes, bufferRegions, null, variadicBufferCounts);
  return {
    framed: frameMessage(Message.encode(Message.from(header, byteLength))),
    pieces: buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
    offsets: bufferRegions.map((r) => r.offset),
    bodyLength: byteLength,
  };
}

/** Decodes an IPC stream produced by `encodeBatches` (or any writer). */
export function decodeBatches(bytes: Uint8Array): { schema: Schema; batches: RecordBatch[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let schema: Schema | undefined;
  let fast = false;
  const batches: RecordBatch[] = [];
  while (pos + 8 <= bytes.byteLength) {
    const length = view.getInt32(pos + 4, true);
    if (view.getInt32(pos, true) !== -1 || length === 0) break;
    const metadata = bytes.subarray(pos + 8, pos + 8 + length);
    pos += 8 + length;
    if (!schema) {
      const key = Buffer.from(metadata.buffer, metadata.byteOffset, metadata.byteLength).toString('latin1');
      schema = decodedSchemas.get(key);
      if (!schema) {
        schema = Message.decode(metadata).header() as Schema;
        if (decodedSchemas.size > 256) decodedSchemas.clear();
        decodedSchemas.set(key, schema);
      }
      if (schema.fields.some((f) => hasDictionary(f.type))) return fallback(bytes);
      fast = handlesFields(schema.fields);
      continue;
    }
    const plain = fast ? readBatchHeader(metadata) : undefined;
    if (plain) {
      const body = bytes.subarray(pos, pos + plain.bodyLength);
      pos += plain.bodyLength;
      batches.push(makeBatch(schema, loadColumns(schema.fields, plain, body), plain.length));
      continue;
    }
    const message = Message.decode(metadata);
    if (message.headerType !== MessageHeader.RecordBatch) return fallback(bytes);
    const header = message.header() as BatchHeader;
    if (header.compression != null) return fallback(bytes);
    const body = bytes.subarray(pos, pos + message.bodyLength);
    pos += message.bodyLength;
    const children = new VectorLoader(body, header.nodes, header.buffers, new Map(), schema.metadataVersion, header.variadicBufferCounts)
      .visitMany(schema.fields);
    batches.push(makeBatch(schema, children, header.length));
  }
  if (!schema) throw new Error('Arrow IPC stream has no schema message');
  return { schema, batches };
}

/** A flatbuffer message with its stream framing: continuation marker, length, padding to 8 bytes. */
export function frameMessage(message: Uint8Array): Uint8Array {
  const size = aligned(message.byteLength);
  const framed = new Uint8Array(8 + size);
  const view = new DataView(framed.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, size, true);
  framed.set(message, 8);
  return framed;
}

function fallback(bytes: Uint8Array) {
  const table = tableFromIPC(bytes);
  return { schema: table.schema, batches: table.batches };
}

/** Bytes a batch holds in memory (its buffers), for bounding what is in flight. */
export function batchBytes(batch: RecordBatch): number {
  return batch.data.byteLength;
}

/** A schema alone, as an IPC schema message (for task descriptions). */
export function encodeSchema(schema: Schema): Uint8Array {
  return Message.encode(Message.from(schema));
}

export function decodeSchema(bytes: Uint8Array): Schema {
  return Message.decode(bytes).header() as Schema;
}
