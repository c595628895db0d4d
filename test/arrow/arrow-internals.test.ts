// Arrow JS internals that quiver relies on and Arrow marks @ignore (not public API, free to change
// in any release): deep import paths, the Data constructor's buffer order, what the vector
// assembler and loader take and give, and the metadata classes the IPC writer builds messages and
// footers with (src/arrow/ipc.ts, src/arrow/ipc-batch.ts, src/arrow/nulls.ts,
// connectors/arrow-ipc/). If an upgrade of apache-arrow breaks one, this file fails first and says
// which; fix the module named in the test before anything else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Data, Field, FixedSizeList, Float32, Float64, Int32, RecordBatch, Schema, Utf8, Vector, makeData, vectorFromArray } from 'apache-arrow';
import { MessageHeader, MetadataVersion } from 'apache-arrow/enum';
import { FileBlock, Footer } from 'apache-arrow/ipc/metadata/file';
import { DictionaryBatch, Message, RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';
import { strideForType } from 'apache-arrow/type';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../src/arrow/batch.ts';
import { frameMessage } from '../../src/arrow/ipc.ts';
import { encodeRecordBatch, readBatchHeader } from '../../src/arrow/ipc-batch.ts';
import { repoRoot } from '../helpers.ts';

const arrowVersion = (JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'apache-arrow', 'package.json'), 'utf8')) as { version: string }).version;

function sampleBatch(): RecordBatch {
  const schema = new Schema([
    new Field('i', new Int32(), true), new Field('s', new Utf8(), true),
    new Field('v', new FixedSizeList(3, new Field('item', new Float32(), false)), false),
  ]);
  const v = makeData({
    type: schema.fields[2].type, length: 2, nullCount: 0,
    child: makeData({ type: new Float32(), length: 6, data: Float32Array.of(1, 2, 3, 4, 5, 6) }),
  });
  return makeBatch(schema, [vectorFromArray([7, null], new Int32()).data[0], vectorFromArray(['a', 'bc'], new Utf8()).data[0], v], 2);
}

/** Each row as plain values, the tensor column as an array. */
const rows = (batch: RecordBatch) => batch.toArray().map((r) => [r.i, r.s, Array.from(r.v as Iterable<number>)]);

describe(`Arrow JS ${arrowVersion} internals quiver relies on`, () => {
  test('the Data constructor takes buffers in the order [valueOffsets, values, nullBitmap] (src/arrow/ipc-batch.ts loads columns this way)', () => {
    const offsets = Int32Array.of(0, 1, 3);
    const values = new TextEncoder().encode('abc');
    const bitmap = Uint8Array.of(0b11);
    const data = new Data(new Utf8(), 0, 2, 0, [offsets, values, bitmap] as never);
    expect(data.valueOffsets).toBe(offsets);
    expect(data.values).toBe(values);
    expect(data.nullBitmap).toBe(bitmap);
    expect(new Vector([data]).toArray()).toEqual(['a', 'bc']);
  });

  test('strideForType gives values per element (src/arrow/nulls.ts, src/arrow/ipc-batch.ts, connectors/arrow-ipc/validate.ts)', () => {
    expect(strideForType(new Float64())).toBe(1);
    expect(strideForType(new Int32())).toBe(1);
    expect((new Float64() as unknown as { ArrayType: unknown }).ArrayType).toBe(Float64Array);
  });

  test('VectorAssembler.assemble gives nodes, buffer regions and buffers that VectorLoader reads back (src/arrow/ipc.ts)', () => {
    const batch = sampleBatch();
    const assembled = VectorAssembler.assemble(batch);
    for (const name of ['byteLength', 'nodes', 'bufferRegions', 'buffers', 'variadicBufferCounts'] as const) expect(assembled[name], name).toBeDefined();
    const body = new Uint8Array(assembled.byteLength);
    assembled.buffers.forEach((b, i) => body.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), assembled.bufferRegions[i].offset));
    const header = new BatchHeader(batch.numRows, assembled.nodes, assembled.bufferRegions, null, assembled.variadicBufferCounts);
    const children = new VectorLoader(body, header.nodes, header.buffers, new Map(), MetadataVersion.V5, header.variadicBufferCounts).visitMany(batch.schema.fields);
    const loaded = makeBatch(batch.schema, children, header.length);
    expect(rows(loaded)).toEqual([[7, 'a', [1, 2, 3]], [null, 'bc', [4, 5, 6]]]);
  });

  test('Message encodes and decodes schemas and batch headers; the hand-written batch message decodes the same (src/arrow/ipc-batch.ts)', () => {
    const batch = sampleBatch();
    const schemaMessage = Message.decode(Message.encode(Message.from(batch.schema)));
    expect(schemaMessage.headerType).toBe(MessageHeader.Schema);
    expect((schemaMessage.header() as Schema).fields.map((f) => f.name)).toEqual(['i', 's', 'v']);

    const ours = encodeRecordBatch(batch);
    const metadata = ours.framed.subarray(8, 8 + new DataView(ours.framed.buffer, ours.framed.byteOffset).getInt32(4, true));
    const decoded = Message.decode(metadata);
    expect(decoded.headerType).toBe(MessageHeader.RecordBatch);
    expect(decoded.bodyLength).toBe(ours.bodyLength);
    const header = decoded.header() as BatchHeader;
    expect(header.length).toBe(2);
    expect(header.compression == null).toBe(true);
    const mine = readBatchHeader(metadata)!;
    expect(header.nodes.map((n) => [n.length, n.nullCount]).flat()).toEqual(Array.from(mine.nodes, Number));
    expect(header.buffers.map((b) => [b.offset, b.length]).flat()).toEqual(Array.from(mine.buffers, Number));
  });

  test('dictionary batches, file blocks and footers are built as the IPC writer builds them (connectors/arrow-ipc/writer.ts, messages.ts)', () => {
    const data = vectorFromArray(['x', 'y'], new Utf8()).data[0];
    const assembled = VectorAssembler.assemble(new Vector([data]));
    const header = new BatchHeader(data.length, assembled.nodes, assembled.bufferRegions, null, assembled.variadicBufferCounts);
    const message = Message.decode(Message.encode(Message.from(new DictionaryBatch(header, 5, true), assembled.byteLength)));
    expect(message.headerType).toBe(MessageHeader.DictionaryBatch);
    const dictionary = message.header() as DictionaryBatch;
    expect([dictionary.id, dictionary.isDelta, dictionary.data.length]).toEqual([5, true, 2]);

    const schema = sampleBatch().schema;
    const footer = Footer.decode(Footer.encode(new Footer(schema, MetadataVersion.V5, [new FileBlock(64, 128, 8)], [])));
    expect(footer.schema.fields.map((f) => f.name)).toEqual(['i', 's', 'v']);
    const block = footer.getRecordBatch(0)!;
    expect([block.metaDataLength, Number(block.bodyLength), Number(block.offset)]).toEqual([64, 128, 8]);
    expect(frameMessage(new Uint8Array(5)).byteLength).toBe(16);
  });
});
