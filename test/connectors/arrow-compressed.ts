// Compressed Arrow IPC files for the tests: LZ4 frames made here (no lz4 tool needed), and
// files written by Arrow JS with a codec given by the test. Arrow JS (21) writes each compressed
// buffer's compressed length where the format wants its uncompressed length; pyarrow and arrow-rs
// check that length, and so does source.arrow, so it is put right after writing.
import { CompressionType, compressionRegistry, RecordBatchFileWriter, RecordBatchStreamWriter, type RecordBatch } from 'apache-arrow';
import { MessageHeader } from 'apache-arrow/enum';
import { Message, type DictionaryBatch, type RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';

/** A minimal LZ4 frame compressor (greedy, one block): enough to make LZ4_FRAME Arrow bodies without the lz4 tool. */
export function lz4Frame(input: Uint8Array, contentSize?: bigint): Uint8Array {
  // magic, FLG (v1, independent blocks, maybe a content size), BD (4 MiB), [content size], header checksum
  const out: number[] = [0x04, 0x22, 0x4d, 0x18, contentSize === undefined ? 0x60 : 0x68, 0x70];
  if (contentSize !== undefined) for (let k = 0n; k < 8n; k++) out.push(Number((contentSize >> (8n * k)) & 255n));
  out.push(0x73);
  const block: number[] = [];
  const lengthBytes = (n: number) => {
    for (; n >= 255; n -= 255) block.push(255);
    block.push(n);
  };
  const sequence = (from: number, to: number, offset: number, match: number) => {
    const literals = to - from;
    block.push((Math.min(literals, 15) << 4) | (offset ? Math.min(match - 4, 15) : 0));
    if (literals >= 15) lengthBytes(literals - 15);
    for (let i = from; i < to; i++) block.push(input[i]);
    if (!offset) return;
    block.push(offset & 255, offset >> 8);
    if (match - 4 >= 15) lengthBytes(match - 19);
  };
  const seen = new Map<number, number>();
  let anchor = 0;
  let i = 0;
  while (i + 12 < input.length) {
    const key = (input[i] | (input[i + 1] << 8) | (input[i + 2] << 16) | (input[i + 3] << 24)) >>> 0;
    const candidate = seen.get(key);
    seen.set(key, i);
    if (candidate !== undefined && i - candidate <= 65_535) {
      let match = 4;
      while (i + match < input.length - 5 && input[candidate + match] === input[i + match]) match++;
      sequence(anchor, i, i - candidate, match);
      i += match;
      anchor = i;
    } else i++;
  }
  sequence(anchor, input.length, 0, 0);
  out.push(block.length & 255, (block.length >> 8) & 255, (block.length >> 16) & 255, block.length >>> 24, ...block, 0, 0, 0, 0);
  return Uint8Array.from(out);
}

/** `batches` as an Arrow IPC file (or stream) whose bodies `encode` compresses, with the buffers' uncompressed lengths. */
export function writeCompressed(
  batches: RecordBatch[], encode: (bytes: Uint8Array) => Uint8Array,
  { type = CompressionType.LZ4_FRAME, format = 'file' }: { type?: CompressionType; format?: 'file' | 'stream' } = {},
): Uint8Array {
  // Arrow JS compresses buffer after buffer, and keeps a result only if it is shorter.
  const lengths: number[] = [];
  compressionRegistry.set(type, {
    encode: (bytes) => {
      const out = encode(bytes);
      if (out.byteLength < bytes.byteLength) lengths.push(bytes.byteLength);
      return out;
    },
  });
  lengths.length = 0; // the registry tried the encoder on a sample
  let bytes: Uint8Array;
  try {
    const writer = format === 'file' ? new RecordBatchFileWriter({ compressionType: type }) : new RecordBatchStreamWriter({ compressionType: type });
    bytes = writer.writeAll(batches).toUint8Array(true).slice();
  } finally {
    compressionRegistry.set(type, {}); // forget the encoder: the connector brings its decoder
  }
  const view = new DataView(bytes.buffer);
  const footer = format === 'file' ? view.getInt32(bytes.byteLength - 10, true) + 10 : 0;
  for (let pos = format === 'file' ? 8 : 0; pos < bytes.byteLength - footer;) {
    const length = view.getInt32(pos + 4, true);
    if (length === 0) break; // end of stream
    const message = Message.decode(bytes.subarray(pos + 8, pos + 8 + length));
    const body = pos + 8 + length;
    if (message.headerType === MessageHeader.RecordBatch || message.headerType === MessageHeader.DictionaryBatch) {
      const header = message.header() as BatchHeader | DictionaryBatch;
      const batch = 'isDelta' in header ? header.data : header;
      for (const { offset, length: size } of batch.buffers) {
        if (size > 0 && view.getBigInt64(body + offset, true) !== -1n) view.setBigInt64(body + offset, BigInt(lengths.shift()!), true);
      }
    }
    pos = body + message.bodyLength;
  }
  return bytes;
}
