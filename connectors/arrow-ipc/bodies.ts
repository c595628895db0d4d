// Compressed record batch and dictionary bodies, made plain before Arrow JS decodes them. In a
// compressed body each buffer is an int64 uncompressed length (-1: stored as is) and the frame.
// Decompressing here rather than in Arrow JS's codec hook (which is given the frame alone) lets
// every declared length be checked against its frame and the task's memory before allocating,
// and each frame stop at the length its buffer declares.
import { CompressionType } from 'apache-arrow';
import { BufferRegion, DictionaryBatch, Message, RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';
import { checkTaskMemory } from '../../src/io/limits.ts';
import { InputError } from '../../src/workflow/errors.ts';
import { LZ4_MAX_RATIO, lz4DecompressFrame } from './lz4.ts';

/** Compression codecs a reader may meet, by their IPC number. */
const codecNames = ['LZ4_FRAME', 'ZSTD'];

/** Bytes decompressed so far for one chunk, against the task's memory. */
export interface Decompressed {
  bytes: number;
}

/**
 * The message `header` (of a batch whose `body` is compressed) as an uncompressed message: its
 * metadata flatbuffer and its body. Lz4Error for a damaged frame; InputError for the rest.
 */
export function plainMessage(header: BatchHeader | DictionaryBatch, body: Uint8Array, file: string, total: Decompressed): { meta: Uint8Array; body: Uint8Array } {
  const batch = header instanceof DictionaryBatch ? header.data : header;
  const codec = batch.compression!.type;
  if (codec !== CompressionType.LZ4_FRAME) {
    throw new InputError(file, `its record batches are compressed with ${codecNames[codec] ?? `codec ${codec}`}, which quiver cannot decompress `
      + `(it reads uncompressed and LZ4_FRAME bodies); rewrite it uncompressed, e.g. pyarrow.feather.write_feather(table, path, compression='uncompressed')`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const buffers = batch.buffers.map(({ offset, length }, i) => {
    if (length === 0) return new Uint8Array(0);
    if (length < 8) throw new InputError(file, `corrupt compressed buffer ${i}: ${length} bytes, too few for its length prefix`);
    const declared = Number(view.getBigInt64(offset, true));
    const frame = body.subarray(offset + 8, offset + length);
    if (declared === -1) return frame;
    if (!(declared >= 0 && declared <= frame.byteLength * LZ4_MAX_RATIO + 64)) {
      throw new InputError(file, `corrupt compressed buffer ${i}: it declares ${declared} bytes, more than its ${frame.byteLength}-byte LZ4 frame can hold`);
    }
    total.bytes += declared;
    checkTaskMemory(file, 'decompressing the record batches of one chunk', total.bytes);
    return lz4DecompressFrame(frame, declared);
  });
  const regions: BufferRegion[] = [];
  let size = 0;
  for (const b of buffers) {
    regions.push(new BufferRegion(size, b.byteLength));
    size += (b.byteLength + 7) & ~7;
  }
  const plain = new Uint8Array(size);
  buffers.forEach((b, i) => plain.set(b, regions[i].offset));
  const unpacked = new BatchHeader(batch.length, batch.nodes, regions, null, batch.variadicBufferCounts);
  const message = Message.from(header instanceof DictionaryBatch ? new DictionaryBatch(unpacked, header.id, header.isDelta) : unpacked, size);
  return { meta: Message.encode(message), body: plain };
}
