// LZ4 frame decompression (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md and
// lz4_Block_format.md), for Arrow IPC bodies compressed with LZ4_FRAME: what pyarrow writes for
// Feather V2 by default. Decoding only; checksums are skipped, not verified.

const FRAME_MAGIC = 0x184d2204;

/** No LZ4 frame expands more than this many times (a match adds at most 255 bytes per input byte). */
export const LZ4_MAX_RATIO = 255;

export class Lz4Error extends Error {}

/**
 * Decompresses one or more concatenated LZ4 frames that must hold exactly `size` bytes (what the
 * Arrow buffer declares): the output is allocated once, and a frame that would write past it
 * stops there, so a small frame cannot expand into a huge allocation.
 */
export function lz4DecompressFrame(input: Uint8Array, size: number): Uint8Array {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const out = new Uint8Array(size);
  let op = 0;
  let ip = 0;
  const need = (n: number) => {
    if (ip + n > input.byteLength) throw new Lz4Error('LZ4 frame is cut short');
  };
  const reserve = (n: number) => {
    if (op + n > size) throw new Lz4Error(`LZ4 frame holds more than the ${size} bytes its buffer declares`);
  };

  while (ip < input.byteLength) {
    need(4);
    const magic = view.getUint32(ip, true);
    ip += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) { // skippable frame
      need(4);
      ip += 4 + view.getUint32(ip, true);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new Lz4Error(`not an LZ4 frame (magic ${magic.toString(16)})`);
    need(3);
    const flags = input[ip];
    if (flags >> 6 !== 1) throw new Lz4Error(`unsupported LZ4 frame version ${flags >> 6}`);
    const blockChecksum = (flags & 0x10) !== 0;
    const hasContentSize = (flags & 0x08) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    const hasDictId = (flags & 0x01) !== 0;
    ip += 2; // FLG, BD
    if (hasContentSize) {
      need(8);
      // Only a hint (the buffer's declared size is what counts), from a header that may be damaged.
      const contentSize = view.getBigUint64(ip, true);
      if (contentSize > BigInt(input.byteLength) * BigInt(LZ4_MAX_RATIO) + 64n) {
        throw new Lz4Error(`LZ4 frame header claims ${contentSize} bytes of content, more than its ${input.byteLength} bytes can hold`);
      }
      ip += 8;
    }
    if (hasDictId) throw new Lz4Error('LZ4 frames with a dictionary are not supported');
    ip += 1; // header checksum
    for (;;) {
      need(4);
      const word = view.getUint32(ip, true);
      ip += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      need(size);
      if (word & 0x80000000) { // stored uncompressed
        reserve(size);
        out.set(input.subarray(ip, ip + size), op);
        op += size;
      } else {
        const end = ip + size;
        let p = ip;
        while (p < end) {
          const token = input[p++];
          let literals = token >> 4;
          if (literals === 15) {
            let b: number;
            do {
              if (p >= end) throw new Lz4Error('LZ4 block is corrupt');
              b = input[p++];
              literals += b;
            } while (b === 255);
          }
          if (p + literals > end) throw new Lz4Error('LZ4 block is corrupt');
          reserve(literals);
          out.set(input.subarray(p, p + literals), op);
          op += literals;
          p += literals;
          if (p >= end) break; // the last sequence has literals only
          if (p + 2 > end) throw new Lz4Error('LZ4 block is corrupt');
          const offset = input[p] | (input[p + 1] << 8);
          p += 2;
          if (offset === 0 || offset > op) throw new Lz4Error('LZ4 block is corrupt (bad match offset)');
          let match = (token & 15) + 4;
          if ((token & 15) === 15) {
            let b: number;
            do {
              if (p >= end) throw new Lz4Error('LZ4 block is corrupt');
              b = input[p++];
              match += b;
            } while (b === 255);
          }
          reserve(match);
          let from = op - offset;
          if (offset >= match) {
            out.copyWithin(op, from, from + match);
            op += match;
          } else {
            for (let i = 0; i < match; i++) out[op++] = out[from++];
          }
        }
      }
      ip += size;
      if (blockChecksum) ip += 4;
    }
    if (contentChecksum) ip += 4;
    if (ip > input.byteLength) throw new Lz4Error('LZ4 frame is cut short');
  }
  if (op !== size) throw new Lz4Error(`LZ4 frame holds ${op} bytes, its buffer declares ${size}`);
  return out;
}
