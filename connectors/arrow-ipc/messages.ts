// Arrow IPC framing, read straight from files: which format a file is (the file format's ARROW1
// magic and footer, or a bare stream), where its messages lie, and how a worker puts the messages
// of one chunk back together as a stream that decodes on its own.
//
// A message is `0xFFFFFFFF, int32 metadata length, flatbuffer metadata (padded), body`; streams
// written before Arrow 0.15 omit the 0xFFFFFFFF. The file format is `ARROW1\0\0`, a stream, the
// footer flatbuffer (schema and the blocks of every dictionary and record batch), int32 footer
// length, `ARROW1`.
import type { FileHandle } from 'node:fs/promises';
import { Type, type DataType, type Dictionary, type RecordBatch, type Schema } from 'apache-arrow';
import { MessageHeader } from 'apache-arrow/enum';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { Message, type DictionaryBatch, type RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';
import { makeBatch } from '../../src/arrow/batch.ts';
import { handlesFields, loadColumns, readBatchHeader, UnsupportedLayout } from '../../src/arrow/ipc-batch.ts';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { readAt } from '../../src/io/input-files.ts';
import { plainMessage, type Decompressed } from './bodies.ts';
import { checkBatchLayout, checkSchemaTypes } from './validate.ts';
import { verifyFooter, verifyMessage } from './verify.ts';

export const MAGIC = new Uint8Array([0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]); // ARROW1
/** A byte range: [offset, length]. */
export type Range = [number, number];

const startsWithMagic = (bytes: Uint8Array, at = 0) => MAGIC.every((b, i) => bytes[at + i] === b);
const int32 = (bytes: Uint8Array, at: number) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(at, true);

/** What discover learns from one file. */
export interface IpcLayout {
  format: 'file' | 'stream';
  schema: Schema;
  /** File format: where the footer is, and its blocks as ranges. */
  footer?: Range;
  dictionaries?: Range[];
  batches?: Range[];
}

/** A message header as found at `offset`: where its metadata and body are. */
interface MessageAt {
  offset: number;
  prefix: number;
  metadataLength: number;
  bodyLength: number;
  /** offset of the next message */
  end: number;
  message: Message;
}

/** Reads a file's header and, for the file format, its footer; nothing else. */
export async function readLayout(handle: FileHandle, size: number, file: string): Promise<IpcLayout> {
  if (size === 0) throw new InputError(file, 'empty file (not an Arrow IPC file or stream)');
  const head = await readAt(handle, 0, Math.min(size, 8), file, 'the header');
  if (startsWithMagic(head)) {
    if (size < 18) throw new InputError(file, `truncated: an Arrow IPC file needs at least 18 bytes, this one has ${size}`);
    const tail = await readAt(handle, size - 10, 10, file, 'the footer length');
    if (!startsWithMagic(tail, 4)) {
      throw new InputError(file, 'truncated or corrupt: starts with the Arrow file magic ARROW1 but does not end with it (cut short, or still being written?)');
    }
    const footerLength = int32(tail, 0);
    if (footerLength <= 0 || footerLength > size - 18) {
      throw new InputError(file, `corrupt: footer says ${footerLength} bytes but the file has ${size}`);
    }
    const footerStart = size - 10 - footerLength;
    const bytes = await readAt(handle, footerStart, footerLength, file, 'the footer');
    const ranges = (blocks: Iterable<{ offset: number; metaDataLength: number; bodyLength: number }>, what: string) => [...blocks].map((b, i): Range => {
      const length = b.metaDataLength + b.bodyLength;
      if (!(b.offset >= 8 && b.metaDataLength > 0 && b.bodyLength >= 0 && b.offset + length <= footerStart)) {
        throw new InputError(file, `corrupt footer: ${what} ${i} is said to lie at bytes ${b.offset}-${b.offset + length}, outside the data (8-${footerStart})`);
      }
      return [b.offset, length];
    });
    verifyFooter(bytes, file);
    try {
      // Arrow JS decodes the schema and blocks lazily: what it throws on a damaged footer is the file's fault.
      const footer = Footer.decode(bytes);
      if (!footer.schema) throw new InputError(file, 'corrupt footer: no schema');
      checkSchemaTypes(footer.schema.fields, file);
      return {
        format: 'file',
        schema: footer.schema,
        footer: [footerStart, footerLength],
        dictionaries: ranges(footer.dictionaryBatches(), 'dictionary batch'),
        batches: ranges(footer.recordBatches(), 'record batch'),
      };
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(file, `corrupt footer: ${messageOf(error)}`);
    }
  }
  const reader = new WindowReader(handle, size, file);
  const first = await reader.messageAt(0);
  if (!first) throw new InputError(file, 'not an Arrow IPC stream: it ends before its schema');
  if (first.message.headerType !== MessageHeader.Schema) {
    throw new InputError(file, `not an Arrow IPC stream: the first message is a ${MessageHeader[first.message.headerType]}, not a schema`);
  }
  const schema = headerOf(first, file) as Schema;
  checkSchemaTypes(schema.fields, file);
  return { format: 'stream', schema };
}

/** A message's header (schema, dictionary or record batch), decoded by Arrow JS; a failure is the file's. */
function headerOf(m: MessageAt, file: string): unknown {
  try {
    return m.message.header();
  } catch (error) {
    throw new InputError(file, `corrupt: the message at byte ${m.offset} cannot be decoded (${messageOf(error)})`);
  }
}

/** The schema message of a stream: its first message. */
export async function schemaRange(handle: FileHandle, size: number, file: string): Promise<Range> {
  const m = await new WindowReader(handle, size, file).messageAt(0);
  if (!m || m.message.headerType !== MessageHeader.Schema) throw new InputError(file, 'corrupt: no schema message at byte 0');
  return [0, m.end];
}

const footerSchemas = new Map<string, Uint8Array>();

/**
 * The file format's schema as a framed schema message, from its footer (the file's own stream
 * part need not repeat it: Arrow JS leaves it out). Cached per file, as every chunk needs it.
 */
export async function footerSchemaMessage(handle: FileHandle, path: string, [offset, length]: Range, file: string): Promise<Uint8Array> {
  const key = `${path}\0${offset}\0${length}`;
  let framed = footerSchemas.get(key);
  if (!framed) {
    const bytes = await readAt(handle, offset, length, file, 'the footer');
    let schema: Schema;
    verifyFooter(bytes, file);
    try {
      schema = Footer.decode(bytes).schema;
    } catch (error) {
      throw new InputError(file, `corrupt footer: ${messageOf(error)}`);
    }
    const message = Message.encode(Message.from(schema));
    const padded = (message.byteLength + 7) & ~7;
    framed = new Uint8Array(8 + padded);
    const view = new DataView(framed.buffer);
    view.setInt32(0, -1, true);
    view.setInt32(4, padded, true);
    framed.set(message, 8);
    if (footerSchemas.size >= 64) footerSchemas.clear();
    footerSchemas.set(key, framed);
  }
  return framed;
}

/** A dictionary message of a stream: which dictionary, and whether it extends or replaces it. */
export interface DictionaryUpdate {
  id: number;
  isDelta: boolean;
  range: Range;
}

/** A record batch message of a stream, with the dictionary messages just before it. */
export interface StreamBatch {
  range: Range;
  updates: DictionaryUpdate[];
}

/** The record batches of a stream in order, reading message headers only (bodies are skipped). */
export async function* scanStream(handle: FileHandle, size: number, file: string): AsyncGenerator<StreamBatch> {
  const reader = new WindowReader(handle, size, file);
  let pos = 0;
  let updates: DictionaryUpdate[] = [];
  let first = true;
  for (;;) {
    const m = await reader.messageAt(pos);
    if (!m) return;
    const range: Range = [m.offset, m.end - m.offset];
    if (first) {
      if (m.message.headerType !== MessageHeader.Schema) throw new InputError(file, 'not an Arrow IPC stream: the first message is not a schema');
      first = false;
    } else if (m.message.headerType === MessageHeader.DictionaryBatch) {
      const header = headerOf(m, file) as DictionaryBatch;
      updates.push({ id: header.id, isDelta: header.isDelta, range });
    } else if (m.message.headerType === MessageHeader.RecordBatch) {
      yield { range, updates };
      updates = [];
    } else {
      throw new InputError(file, `corrupt: unexpected ${MessageHeader[m.message.headerType] ?? 'unknown'} message at byte ${m.offset}`);
    }
    pos = m.end;
  }
}

/** Reads message headers through a small window: one read per message (two for big headers), bodies skipped. */
class WindowReader {
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;

  constructor(private readonly handle: FileHandle, private readonly size: number, private readonly file: string) {}

  private async bytes(position: number, length: number, what: string): Promise<Uint8Array> {
    if (position < this.windowStart || position + length > this.windowStart + this.window.byteLength) {
      const want = Math.min(Math.max(length, 4096), this.size - position);
      if (want < length) {
        throw new InputError(this.file, `truncated: ${what} needs bytes ${position}-${position + length} but the file has ${this.size}`);
      }
      this.window = await readAt(this.handle, position, want, this.file, what);
      this.windowStart = position;
    }
    const at = position - this.windowStart;
    return this.window.subarray(at, at + length);
  }

  /** The message at `offset`, or undefined at the end of the stream (end marker or end of file). */
  async messageAt(offset: number): Promise<MessageAt | undefined> {
    if (offset === this.size) return undefined; // a stream without its end marker
    if (offset + 4 > this.size) throw new InputError(this.file, `truncated: ${this.size - offset} stray bytes at the end (byte ${offset})`);
    const head = await this.bytes(offset, Math.min(8, this.size - offset), `the message at byte ${offset}`);
    const marker = int32(head, 0);
    let prefix = 8;
    let metadataLength: number;
    if (marker === -1) {
      if (head.byteLength < 8) throw new InputError(this.file, `truncated: the message at byte ${offset} has no length`);
      metadataLength = int32(head, 4);
    } else if (marker >= 0 && marker % 8 === 4) {
      prefix = 4; // pre-0.15 stream: no continuation marker
      metadataLength = marker;
    } else if (marker === 0) {
      metadataLength = 0;
    } else {
      throw new InputError(this.file, offset === 0
        ? 'not an Arrow IPC file or stream (no ARROW1 magic, and it does not start with an IPC message)'
        : `corrupt: no IPC message at byte ${offset}`);
    }
    if (metadataLength === 0) return undefined; // end-of-stream marker
    if (metadataLength < 0 || offset + prefix + metadataLength > this.size) {
      throw new InputError(this.file, offset === 0 && prefix === 4
        ? 'not an Arrow IPC file or stream (no ARROW1 magic, and it does not start with an IPC message)'
        : `truncated: the message at byte ${offset} says its header has ${metadataLength} bytes but the file has ${this.size}`);
    }
    const metadata = await this.bytes(offset + prefix, metadataLength, `the message at byte ${offset}`);
    verifyMessage(metadata, this.file, `message header at byte ${offset}`);
    let message: Message;
    try {
      message = Message.decode(metadata);
    } catch (error) {
      throw new InputError(this.file, `corrupt: the message at byte ${offset} cannot be decoded (${messageOf(error)})`);
    }
    const bodyLength = message.bodyLength;
    const end = offset + prefix + metadataLength + bodyLength;
    if (!(bodyLength >= 0) || end > this.size) {
      throw new InputError(this.file, `truncated: the message at byte ${offset} ends at byte ${end} but the file has ${this.size}`);
    }
    return { offset, prefix, metadataLength, bodyLength, end, message };
  }
}

/** Field nodes a record batch holds for a column of `type` (a dictionary column's values come in their own batches). */
function nodesFor(type: DataType): number {
  if (type.typeId === Type.Dictionary) return 1;
  let n = 1;
  for (const child of type.children ?? []) n += nodesFor(child.type);
  return n;
}

/** Field nodes per record batch of `schema`, and per dictionary id those of a dictionary batch. */
function expectedNodes(schema: Schema): { batch: number; dictionaries: Map<number, number> } {
  const dictionaries = new Map<number, number>();
  const visit = (type: DataType) => {
    if (type.typeId === Type.Dictionary) {
      const { id, dictionary } = type as Dictionary;
      dictionaries.set(id, nodesFor(dictionary));
      visit(dictionary);
      return;
    }
    for (const child of type.children ?? []) visit(child.type);
  };
  let batch = 0;
  for (const field of schema.fields) {
    batch += nodesFor(field.type);
    visit(field.type);
  }
  return { batch, dictionaries };
}

/**
 * The flatbuffer metadata of the message framed at `pos` (current or pre-0.15 framing), or
 * undefined at an end-of-stream marker; the body follows it directly.
 */
function metadataAt(bytes: Uint8Array, pos: number, file: string): Uint8Array | undefined {
  if (pos + 4 > bytes.byteLength) throw new InputError(file, 'corrupt: a message is cut short');
  const marker = int32(bytes, pos);
  const prefix = marker === -1 ? 8 : 4;
  if (pos + prefix > bytes.byteLength) throw new InputError(file, 'corrupt: a message is cut short');
  const length = marker === -1 ? int32(bytes, pos + 4) : marker;
  if (length === 0) return undefined;
  if (length < 0 || pos + prefix + length > bytes.byteLength) throw new InputError(file, 'corrupt: a message header runs past its block');
  return bytes.subarray(pos + prefix, pos + prefix + length);
}

/** The row count a record batch message's header declares, or undefined if the header is unreadable. */
export function declaredRows(message: Uint8Array, file: string): number | undefined {
  try {
    const meta = metadataAt(message, 0, file);
    const rows = meta && readBatchHeader(meta)?.length;
    return rows !== undefined && Number.isSafeInteger(rows) && rows >= 0 ? rows : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rebuilds an IPC stream from whole messages (each `bytes` holds one or more), normalising the
 * framing to the current format and decompressing compressed bodies (bodies.ts).
 */
export function joinMessages(pieces: Uint8Array[], file: string): Uint8Array {
  const parts: { meta: Uint8Array; body: Uint8Array; padded: number }[] = [];
  let total = 8; // the end marker
  let expected: ReturnType<typeof expectedNodes> | undefined;
  const decompressed: Decompressed = { bytes: 0 };
  for (const bytes of pieces) {
    let pos = 0;
    while (pos < bytes.byteLength) {
      const meta = metadataAt(bytes, pos, file);
      if (!meta) break;
      const length = meta.byteLength;
      verifyMessage(meta, file);
      let message: Message;
      try {
        message = Message.decode(meta);
      } catch (error) {
        throw new InputError(file, `corrupt message header (${messageOf(error)})`);
      }
      const bodyStart = meta.byteOffset - bytes.byteOffset + length;
      const bodyEnd = bodyStart + message.bodyLength;
      if (bodyEnd > bytes.byteLength) throw new InputError(file, 'corrupt: a message body runs past its block');
      if (message.headerType === MessageHeader.Schema && !expected) {
        try {
          expected = expectedNodes(message.header() as Schema);
        } catch (error) {
          throw new InputError(file, `corrupt schema (${messageOf(error)})`);
        }
      }
      let part = { meta, body: bytes.subarray(bodyStart, bodyEnd) };
      if (message.headerType === MessageHeader.RecordBatch || message.headerType === MessageHeader.DictionaryBatch) {
        let header: BatchHeader;
        let nodes: number | undefined;
        let decoded: BatchHeader | DictionaryBatch;
        try {
          decoded = message.header() as BatchHeader | DictionaryBatch;
          header = 'isDelta' in decoded ? decoded.data : decoded;
          nodes = 'isDelta' in decoded ? expected?.dictionaries.get(decoded.id) : expected?.batch;
        } catch (error) {
          throw new InputError(file, `corrupt message header (${messageOf(error)})`);
        }
        // A header that does not describe the schema's columns would be decoded against the wrong buffers.
        if (nodes !== undefined && header.nodes.length !== nodes) {
          throw new InputError(file, `corrupt ${message.headerType === MessageHeader.RecordBatch ? 'record' : 'dictionary'} batch header: `
            + `${header.nodes.length} field nodes where the schema needs ${nodes}`);
        }
        const bad = header.buffers.find((b) => !(b.offset >= 0 && b.length >= 0 && b.offset + b.length <= message.bodyLength));
        if (bad || !(header.length >= 0) || header.nodes.some((n) => !(n.length >= 0 && n.nullCount >= 0 && n.nullCount <= n.length))) {
          throw new InputError(file, `corrupt ${message.headerType === MessageHeader.RecordBatch ? 'record' : 'dictionary'} batch header: `
            + (bad ? `a buffer at ${bad.offset}+${bad.length} lies outside its ${message.bodyLength}-byte body` : 'impossible lengths'));
        }
        if (header.compression) part = plainMessage(decoded, part.body, file, decompressed);
      }
      const padded = (part.meta.byteLength + 7) & ~7;
      parts.push({ ...part, padded });
      total += 8 + padded + part.body.byteLength;
      pos = bodyEnd;
    }
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const { meta, body, padded } of parts) {
    view.setInt32(pos, -1, true);
    view.setInt32(pos + 4, padded, true);
    out.set(meta, pos + 8);
    pos += 8 + padded;
    out.set(body, pos);
    pos += body.byteLength;
  }
  view.setInt32(pos, -1, true);
  return out;
}

/**
 * Decodes record-batch messages where they lie in `pieces`, without first copying them into one
 * stream: the fast path for plain layouts. Undefined when a message needs the general path
 * (a dictionary batch, a compressed body, a layout ipc-batch.ts does not handle).
 */
export function decodeInPlace(pieces: Uint8Array[], schema: Schema, file: string): RecordBatch[] | undefined {
  if (!handlesFields(schema.fields)) return undefined;
  const batches: RecordBatch[] = [];
  let nodes: number | undefined;
  for (const bytes of pieces) {
    let pos = 0;
    while (pos < bytes.byteLength) {
      const meta = metadataAt(bytes, pos, file);
      if (!meta) break;
      verifyMessage(meta, file);
      let header;
      try {
        header = readBatchHeader(meta);
      } catch (error) {
        throw new InputError(file, `corrupt message header (${messageOf(error)})`);
      }
      if (!header) return undefined;
      if (nodes === undefined) nodes = expectedNodes(schema).batch;
      if (header.nodes.length / 2 !== nodes) {
        throw new InputError(file, `corrupt record batch header: ${header.nodes.length / 2} field nodes where the schema needs ${nodes}`);
      }
      const bodyStart = meta.byteOffset - bytes.byteOffset + meta.byteLength;
      if (!(header.bodyLength >= 0) || bodyStart + header.bodyLength > bytes.byteLength) throw new InputError(file, 'corrupt: a message body runs past its block');
      for (let i = 0; i < header.buffers.length; i += 2) {
        if (!(header.buffers[i] >= 0 && header.buffers[i + 1] >= 0 && header.buffers[i] + header.buffers[i + 1] <= header.bodyLength)) {
          throw new InputError(file, `corrupt record batch header: a buffer at ${header.buffers[i]}+${header.buffers[i + 1]} lies outside its ${header.bodyLength}-byte body`);
        }
      }
      for (let i = 0; i < header.nodes.length; i += 2) {
        if (!(header.nodes[i] >= 0 && header.nodes[i + 1] >= 0 && header.nodes[i + 1] <= header.nodes[i])) {
          throw new InputError(file, 'corrupt record batch header: impossible lengths');
        }
      }
      checkBatchLayout(schema.fields, header, file);
      const body = bytes.subarray(bodyStart, bodyStart + header.bodyLength);
      try {
        batches.push(makeBatch(schema, loadColumns(schema.fields, header, body), header.length));
      } catch (error) {
        if (error instanceof UnsupportedLayout) return undefined;
        throw new InputError(file, `corrupt record batch: ${messageOf(error)}`);
      }
      pos = bodyStart + header.bodyLength;
    }
  }
  return batches;
}
