// The tile codecs of the FITS tiled image compression convention (FITS 4.0 §10, as CFITSIO writes
// them): RICE_1 (Rice coding of pixel differences, in blocks with their own code length), GZIP_1
// (gzip of the big-endian pixels), GZIP_2 (gzip of the pixels' bytes shuffled most significant
// first), NOCOMPRESS; and the inverse of float quantisation, with the subtractive dither whose
// random sequence every reader must reproduce exactly (CFITSIO's fits_init_randoms).
import { gunzipSync } from 'node:zlib';
import { DEFLATE_MAX_RATIO } from '../../src/io/limits.ts';

export type TileCompression = 'RICE_1' | 'RICE_ONE' | 'GZIP_1' | 'GZIP_2' | 'NOCOMPRESS';
type Pixels = Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

/** Pixels of one tile: integers (bytepix wide), or floats where a float image was stored unquantised. */
export function decodeTile(compression: TileCompression, bytes: Uint8Array, pixels: number,
  o: { bytepix: 1 | 2 | 4 | 8; blocksize?: number; floatBitpix?: -32 | -64 }): Pixels {
  if (compression === 'RICE_1' || compression === 'RICE_ONE') {
    if (o.floatBitpix) throw new Error('RICE_1 holds integers only: a float image must be quantised first');
    return riceDecode(bytes, pixels, o.bytepix, o.blocksize ?? 32);
  }
  const size = o.floatBitpix ? Math.abs(o.floatBitpix) / 8 : o.bytepix;
  let raw = bytes;
  if (compression !== 'NOCOMPRESS') {
    // Inflated only as far as the tile's pixels go: a small stream may inflate a thousandfold.
    if (pixels * size > bytes.length * DEFLATE_MAX_RATIO + 64) throw new Error(`${compression} tile: ${bytes.length} bytes of gzip cannot hold its ${pixels} pixels of ${size} bytes`);
    try {
      raw = new Uint8Array(gunzipSync(bytes, { maxOutputLength: Math.max(1, pixels * size) }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new Error(code === 'ERR_BUFFER_TOO_LARGE' ? `${compression} tile: inflates to more than its ${pixels} pixels of ${size} bytes`
        : `${compression} tile: not a gzip stream (${(error as Error).message})`);
    }
  }
  if (raw.length < pixels * size) throw new Error(`${compression} tile: ${raw.length} bytes hold fewer than its ${pixels} pixels of ${size} bytes`);
  if (compression === 'GZIP_2') raw = unshuffle(raw, pixels, size);
  return bigEndian(raw, pixels, size, o.floatBitpix !== undefined);
}

/** GZIP_2 stores byte 0 of every pixel, then byte 1 of every pixel, …: put each pixel back together. */
function unshuffle(raw: Uint8Array, pixels: number, size: number): Uint8Array {
  const out = new Uint8Array(pixels * size);
  for (let j = 0; j < size; j++) for (let i = 0; i < pixels; i++) out[i * size + j] = raw[j * pixels + i];
  return out;
}

function bigEndian(raw: Uint8Array, n: number, size: number, float: boolean): Pixels {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (float) {
    const out = size === 4 ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = size === 4 ? view.getFloat32(4 * i) : view.getFloat64(8 * i);
    return out;
  }
  switch (size) {
    case 1: return Uint8Array.from(raw.subarray(0, n));
    case 2: return Int16Array.from({ length: n }, (_, i) => view.getInt16(2 * i));
    case 4: return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i));
    default: return BigInt64Array.from({ length: n }, (_, i) => view.getBigInt64(8 * i));
  }
}

/** Bit length of each byte value (CFITSIO's nonzero_count table). */
const bitLength = Uint8Array.from({ length: 256 }, (_, b) => (b === 0 ? 0 : 32 - Math.clz32(b)));

/**
 * Rice decoding as CFITSIO's fits_rdecomp (32-bit), fits_rdecomp_short (16) and fits_rdecomp_byte
 * (8): the first pixel raw, then per block of `blocksize` a code length fs (fsbits wide): all
 * differences zero (fs = −1), raw differences (fs = fsmax), or Rice codes (unary high part, fs low
 * bits). Differences are zigzag-mapped and added to the previous pixel, wrapping at the pixel width.
 */
function riceDecode(bytes: Uint8Array, n: number, bytepix: 1 | 2 | 4 | 8, blocksize: number): Int32Array | Int16Array | Uint8Array {
  if (bytepix === 8) throw new Error('RICE_1 with BYTEPIX 8 is not part of the convention');
  const fsbits = bytepix === 4 ? 5 : bytepix === 2 ? 4 : 3;
  const fsmax = bytepix === 4 ? 25 : bytepix === 2 ? 14 : 6;
  const bbits = 8 * bytepix;
  const out = bytepix === 4 ? new Int32Array(n) : bytepix === 2 ? new Int16Array(n) : new Uint8Array(n);
  const wrap = bytepix === 4 ? (v: number) => v | 0 : bytepix === 2 ? (v: number) => (v << 16) >> 16 : (v: number) => v & 0xff;
  if (bytes.length < bytepix + 1) throw new Error(`RICE_1 tile: ${bytes.length} bytes cannot hold its first pixel`);
  let last = 0;
  for (let k = 0; k < bytepix; k++) last = last * 256 + bytes[k];
  last = wrap(last);
  let at = bytepix;
  let i = 0;
  const next = () => {
    if (at >= bytes.length) throw new Error(`RICE_1 tile: the stream ends after ${i} of ${n} pixels`);
    return bytes[at++];
  };
  // b holds the unread low `nbits` bits of what has been taken from the stream (at most 32 + 8 bits: kept in a double).
  let b = next();
  let nbits = 8;
  const undiff = (diff: number) => ((diff & 1) === 0 ? Math.floor(diff / 2) : -Math.floor(diff / 2) - 1);
  while (i < n) {
    nbits -= fsbits;
    while (nbits < 0) {
      b = b * 256 + next();
      nbits += 8;
    }
    const fs = Math.floor(b / 2 ** nbits) - 1;
    b %= 2 ** nbits;
    const end = Math.min(i + blocksize, n);
    if (fs < 0) {
      for (; i < end; i++) out[i] = last;
    } else if (fs === fsmax) {
      for (; i < end; i++) {
        // bbits raw bits: the nbits held, then whole bytes, then the top of one more.
        let diff = b;
        let need = bbits - nbits;
        while (need >= 8) {
          diff = diff * 256 + next();
          need -= 8;
        }
        if (need > 0) {
          const byte = next();
          diff = diff * 2 ** need + (byte >> (8 - need));
          b = byte & ((1 << (8 - need)) - 1);
          nbits = 8 - need;
        } else {
          b = 0;
          nbits = 0;
        }
        last = wrap(undiff(diff) + last);
        out[i] = last;
      }
    } else {
      for (; i < end; i++) {
        // The high part in unary: zeros, then a one.
        while (b === 0) {
          nbits += 8;
          b = next();
        }
        const zeros = nbits - bitLength[b];
        nbits -= zeros + 1;
        b -= 2 ** nbits;
        nbits -= fs;
        while (nbits < 0) {
          b = b * 256 + next();
          nbits += 8;
        }
        const diff = zeros * 2 ** fs + Math.floor(b / 2 ** nbits);
        b %= 2 ** nbits;
        last = wrap(undiff(diff) + last);
        out[i] = last;
      }
    }
  }
  return out;
}

const randomCount = 10_000;

/** CFITSIO's fits_init_randoms: Park–Miller (a = 16807, m = 2^31 − 1) from seed 1, as float32. */
export const ditherRandoms: Float32Array = (() => {
  const values = new Float32Array(randomCount);
  let seed = 1;
  for (let i = 0; i < randomCount; i++) {
    const temp = 16807 * seed;
    seed = temp - 2147483647 * Math.trunc(temp / 2147483647);
    values[i] = seed / 2147483647;
  }
  if (seed !== 1043618065) throw new Error(`the dither sequence is wrong: seed ${seed} after ${randomCount} steps`);
  return values;
})();

/** SUBTRACTIVE_DITHER_2 marks exact zeros with this integer. */
const zeroValue = -2147483646;

/**
 * Quantised integers back to floats (CFITSIO unquantize_i4r4/i4r8): NO_DITHER i × scale + zero;
 * with dither, (i − r + 0.5) × scale + zero, r walking the random sequence from a start set by the
 * tile number and ZDITHER0. `blank` (ZBLANK) → NaN.
 */
export function dequantize(ints: Int32Array, o: {
  scale: number; zero: number; method: 'NO_DITHER' | 'SUBTRACTIVE_DITHER_1' | 'SUBTRACTIVE_DITHER_2'; dither0: number; tile: number; blank?: number; float64?: boolean;
}): Float32Array | Float64Array {
  const out = o.float64 ? new Float64Array(ints.length) : new Float32Array(ints.length);
  if (o.method === 'NO_DITHER') {
    for (let i = 0; i < ints.length; i++) out[i] = ints[i] === o.blank ? NaN : ints[i] * o.scale + o.zero;
    return out;
  }
  // CFITSIO truncates the float product rand × 500; the double product here truncates the same for every entry.
  let seedIndex = (o.tile - 1 + o.dither0 - 1) % randomCount;
  let next = Math.trunc(ditherRandoms[seedIndex] * 500);
  for (let i = 0; i < ints.length; i++) {
    const v = ints[i];
    if (v === o.blank) out[i] = NaN;
    else if (o.method === 'SUBTRACTIVE_DITHER_2' && v === zeroValue) out[i] = 0;
    else out[i] = (v - ditherRandoms[next] + 0.5) * o.scale + o.zero;
    next++;
    if (next === randomCount) {
      seedIndex = (seedIndex + 1) % randomCount;
      next = Math.trunc(ditherRandoms[seedIndex] * 500);
    }
  }
  return out;
}
