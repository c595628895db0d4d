// Writes Arrow IPC (file or stream format) one batch at a time: each batch is encoded and handed
// to the output file as it comes, so memory holds one batch, not the table. The file format's
// footer (the blocks of every message) is written at the end.
//
// Dictionaries: the stream format sends a replacement whenever a batch's dictionary changes.
// The file format cannot replace a dictionary, so there a changed dictionary is unified with what
// was written: values not seen yet go out as a delta and the batch's indices are remapped.
import { Data, DataType, RecordBatch, Schema, Vector, makeData, type Dictionary } from 'apache-arrow';
import { MetadataVersion } from 'apache-arrow/enum';
import { FileBlock, Footer } from 'apache-arrow/ipc/metadata/file';
import { DictionaryBatch, Message, RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { assembleGenerally, frameMessage } from '../../src/arrow/ipc.ts';
import { encodeRecordBatch, handlesFields, type EncodedBatch } from '../../src/arrow/ipc-batch.ts';
import { SchemaCache } from '../../src/arrow/schema-cache.ts';
import { takeData } from '../../src/arrow/take.ts';
import { typeName } from '../../src/arrow/types.ts';
import type { FormatWriter } from '../../src/io/file-sink.ts';
import type { OutputFile } from '../../src/io/output-file.ts';
import { conformBatch } from '../../src/io/input-files.ts';
import { MAGIC } from './messages.ts';


const zeros = new Uint8Array(8);

interface DictionaryState {
  /** The dictionary last written (its first chunk identifies it) and how many of its chunks went out. */
  base: Data;
  chunks: number;
  /** File format only: every value written so far, and its index. */
  index?: Map<unknown, number>;
  size: number;
  /** Remappings already worked out, by a batch dictionary's first chunk. */
  remaps: WeakMap<Data, { chunks: number; remap: Int32Array }>;
}

function valueKey(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) return `\0bytes:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1')}`;
  return `\0json:${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
}

export class IpcWriter implements FormatWriter {
  private position = 0;
  private readonly recordBlocks: FileBlock[] = [];
  private readonly dictionaryBlocks: FileBlock[] = [];
  private readonly dictionaries = new Map<number, DictionaryState>();
  /** Top-level dictionary columns by dictionary id. */
  private readonly topLevel = new Map<number, number>();

  /** Columns ipc-batch.ts encodes directly (no dictionaries): the fast path. */
  private readonly plainLayout: boolean;
  private readonly matches = new SchemaCache<boolean>();

  private sameColumns(schema: Schema): boolean {
    return this.matches.get(schema, (s) => s.fields.length === this.schema.fields.length
      && s.fields.every((f, i) => f.name === this.schema.fields[i].name && typeName(f.type) === typeName(this.schema.fields[i].type)));
  }

  private constructor(private readonly file: OutputFile, private readonly schema: Schema, private readonly format: 'file' | 'stream') {
    this.plainLayout = handlesFields(schema.fields);
    schema.fields.forEach((f, i) => {
      if (DataType.isDictionary(f.type)) this.topLevel.set((f.type as Dictionary).id, i);
    });
  }

  static async open(file: OutputFile, schema: Schema, format: 'file' | 'stream'): Promise<IpcWriter> {
    const writer = new IpcWriter(file, schema, format);
    if (format === 'file') {
      const head = new Uint8Array(8);
      head.set(MAGIC);
      await writer.emit(head);
    }
    await writer.emitMessage(frameMessage(Message.encode(Message.from(schema))));
    return writer;
  }

  private emit(bytes: Uint8Array): Promise<void> {
    this.position += bytes.byteLength;
    return this.file.write(bytes);
  }

  /** Writes a framed message and its body in pieces (the output file gathers them). */
  private emitMessage(framed: Uint8Array, body?: Omit<EncodedBatch, 'framed'>, blocks?: FileBlock[]): Promise<void> {
    const bodyLength = body?.bodyLength ?? 0;
    blocks?.push(new FileBlock(framed.byteLength, bodyLength, this.position));
    let written = this.emit(framed);
    let at = 0;
    body?.pieces.forEach((piece, i) => {
      if (piece.byteLength === 0) return;
      if (body.offsets[i] > at) this.emit(zeros.subarray(0, body.offsets[i] - at));
      written = this.emit(piece);
      at = body.offsets[i] + piece.byteLength;
    });
    return bodyLength > at ? this.emit(zeros.subarray(0, bodyLength - at)) : written;
  }

  private async writeDictionary(data: Data, id: number, isDelta: boolean) {
    const assembled = VectorAssembler.assemble(new Vector([data]));
    const header = new BatchHeader(data.length, assembled.nodes, assembled.bufferRegions, null, assembled.variadicBufferCounts);
    const message = frameMessage(Message.encode(Message.from(new DictionaryBatch(header, id, isDelta), assembled.byteLength)));
    const pieces = assembled.buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    await this.emitMessage(message, { pieces, offsets: assembled.bufferRegions.map((r) => r.offset), bodyLength: assembled.byteLength }, this.dictionaryBlocks);
  }

  async write(input: RecordBatch): Promise<void> {
    if (this.plainLayout && this.sameColumns(input.schema)) {
      const encoded = encodeRecordBatch(input); // the message holds no schema: column order and types are what matter
      return this.emitMessage(encoded.framed, encoded, this.recordBlocks);
    }
    let batch = conformBatch(input, this.schema);
    for (const [id, dictionary] of batch.dictionaries) {
      const remapped = await this.writeDictionaries(id, dictionary);
      if (remapped) batch = remapped(batch);
    }
    const encoded = this.plainLayout ? encodeRecordBatch(batch) : assembleGenerally(batch);
    await this.emitMessage(encoded.framed, encoded, this.recordBlocks);
  }

  /** Sends what a reader needs of this dictionary; returns how to remap the batch if needed. */
  private async writeDictionaries(id: number, dictionary: Vector): Promise<((b: RecordBatch) => RecordBatch) | undefined> {
    const chunks = dictionary.data;
    const state = this.dictionaries.get(id);
    const file = this.format === 'file';
    if (state && state.base === chunks[0]) {
      for (const chunk of chunks.slice(state.chunks)) {
        this.index(state, chunk);
        await this.writeDictionary(chunk, id, true);
      }
      state.chunks = Math.max(state.chunks, chunks.length);
      return undefined;
    }
    if (!state || !file) {
      const fresh: DictionaryState = { base: chunks[0], chunks: chunks.length, size: 0, remaps: new WeakMap(), index: file ? new Map() : undefined };
      for (const [i, chunk] of chunks.entries()) {
        this.index(fresh, chunk);
        await this.writeDictionary(chunk, id, i > 0);
      }
      this.dictionaries.set(id, fresh);
      return undefined;
    }
    // File format, another dictionary: unify it with the one written.
    const column = this.topLevel.get(id);
    if (column === undefined) {
      throw new Error(`column with dictionary ${id} is nested and its dictionary changes between batches; the Arrow file format cannot hold that (use format: stream)`);
    }
    let cached = state.remaps.get(chunks[0]);
    if (!cached || cached.chunks !== chunks.length) {
      const remap = new Int32Array(dictionary.length);
      let at = 0;
      for (const chunk of chunks) {
        const fresh: number[] = [];
        const values = new Vector([chunk]);
        for (let j = 0; j < chunk.length; j++, at++) {
          const key = valueKey(values.get(j));
          let index = state.index!.get(key);
          if (index === undefined) {
            index = state.size++;
            state.index!.set(key, index);
            fresh.push(j);
          }
          remap[at] = index;
        }
        if (fresh.length > 0) await this.writeDictionary(takeData(chunk, Int32Array.from(fresh)), id, true);
      }
      cached = { chunks: chunks.length, remap };
      state.remaps.set(chunks[0], cached);
    }
    const type = this.schema.fields[column].type as Dictionary;
    const max = type.indices.isSigned ? 2 ** (type.indices.bitWidth - 1) - 1 : 2 ** type.indices.bitWidth - 1;
    if (state.size - 1 > max) {
      throw new Error(`column '${this.schema.fields[column].name}': its dictionaries together have ${state.size} values, more than its ${type.indices} indices can address in the Arrow file format (use format: stream)`);
    }
    const remap = cached.remap;
    return (batch) => {
      const data = batch.data.children[column] as Data<Dictionary>;
      const old = data.values as unknown as ArrayLike<number | bigint>;
      const indices = new type.indices.ArrayType(data.length) as unknown as { [i: number]: number | bigint };
      const big = (type.indices.bitWidth as number) === 64;
      for (let i = 0; i < data.length; i++) {
        const v = remap[Number(old[i] ?? 0)] ?? 0;
        indices[i] = big ? BigInt(v) : v;
      }
      const column2 = makeData({
        type, offset: data.offset, length: data.length, nullCount: data.nullCount,
        nullBitmap: data.nullBitmap, data: indices as never, dictionary: new Vector(chunks) as never,
      } as never) as Data;
      const children = batch.data.children.slice();
      children[column] = column2;
      return new RecordBatch(this.schema, batch.data.clone(batch.data.type, 0, batch.numRows, 0, batch.data as never, children));
    };
  }

  /** File format: remembers the values of a dictionary chunk that went out as written. */
  private index(state: DictionaryState, chunk: Data) {
    if (!state.index) {
      state.size += chunk.length;
      return;
    }
    const vector = new Vector([chunk]);
    for (let j = 0; j < chunk.length; j++, state.size++) {
      const key = valueKey(vector.get(j));
      if (!state.index.has(key)) state.index.set(key, state.size);
    }
  }

  async finish(): Promise<void> {
    const end = new Uint8Array(8);
    new DataView(end.buffer).setInt32(0, -1, true);
    await this.emit(end);
    if (this.format === 'file') {
      const footer = Footer.encode(new Footer(this.schema, MetadataVersion.V5, this.recordBlocks, this.dictionaryBlocks));
      const tail = new Uint8Array(footer.byteLength + 10);
      tail.set(footer);
      new DataView(tail.buffer).setInt32(footer.byteLength, footer.byteLength, true);
      tail.set(MAGIC, footer.byteLength + 4);
      await this.emit(tail);
    }
  }
}
