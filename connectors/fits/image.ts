// Image pixels (FITS 4.0 §5): big-endian integers (BITPIX 8 unsigned, 16/32/64 signed) or IEEE
// floats (−32/−64), turned into physical values BZERO + BSCALE × stored, with BLANK (integers only)
// → NaN. The unsigned conventions (BITPIX 16 with BZERO 32768, 8 with −128, …) are the same formula.
// Values come out as float32 where that is exact (8- and 16-bit integers unscaled, float32 data),
// else float64 (a 64-bit integer beyond 2^53 loses its last bits there).
import type { FloatKind } from '../../src/arrow/tensor.ts';
import { checkBudget, howToRaise } from '../../src/io/limits.ts';
import type { FitsHeader } from './header.ts';

export interface PixelFormat {
  bitpix: 8 | 16 | 32 | 64 | -32 | -64;
  bscale: number;
  bzero: number;
  /** BLANK: the stored integer meaning "no value". */
  blank?: bigint;
  kind: FloatKind;
}

export interface ImageLayout extends PixelFormat {
  /** Row-major (C order): [NAXISn, …, NAXIS1]. */
  shape: number[];
  /** Stored bytes per row along the slowest axis (one NAXISn slice). */
  rowBytes: number;
}

export const bitpixes = [8, 16, 32, 64, -32, -64];

export function pixelFormat(bitpix: number, bscale: number, bzero: number, blank: bigint | undefined): PixelFormat {
  if (!bitpixes.includes(bitpix)) throw new Error(`BITPIX ${bitpix} is not one of ${bitpixes.join(', ')}`);
  const small = bitpix === 8 || bitpix === 16;
  const exactOffset = Number.isInteger(bzero) && Math.abs(bzero) <= 32768;
  const kind: FloatKind = (bitpix === -32 && bscale === 1 && bzero === 0) || (small && bscale === 1 && exactOffset) ? 'float32' : 'float64';
  return { bitpix: bitpix as PixelFormat['bitpix'], bscale, bzero, blank: bitpix > 0 ? blank : undefined, kind };
}

export function imageLayout(header: FitsHeader, prefix = ''): ImageLayout {
  const naxis = header.integer(`${prefix}NAXIS`);
  const axes = Array.from({ length: naxis }, (_, i) => header.integer(`${prefix}NAXIS${i + 1}`));
  const bitpix = header.integer(`${prefix}BITPIX`);
  const blank = header.get('BLANK');
  const format = pixelFormat(bitpix, header.number('BSCALE', 1), header.number('BZERO', 0),
    typeof blank === 'number' || typeof blank === 'bigint' ? BigInt(blank) : undefined);
  const shape = axes.slice().reverse();
  const rowBytes = (Math.abs(bitpix) / 8) * axes.slice(0, -1).reduce((a, b) => a * b, 1);
  return { ...format, shape, rowBytes };
}

/** Physical values of stored big-endian pixels (bytes holding whole pixels). */
export function decodePixels(bytes: Uint8Array, f: PixelFormat): Float32Array | Float64Array {
  const size = Math.abs(f.bitpix) / 8;
  const n = Math.floor(bytes.length / size);
  checkBudget(n * (f.kind === 'float32' ? 4 : 8), 'the image', `read it in blocks with block_rows, or ${howToRaise}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = f.kind === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const blank = f.blank === undefined ? undefined : Number(f.blank);
  const { bscale, bzero } = f;
  const scaled = bscale !== 1 || bzero !== 0;
  switch (f.bitpix) {
    case 8:
      for (let i = 0; i < n; i++) out[i] = bytes[i] === blank ? NaN : bytes[i] * bscale + bzero;
      break;
    case 16:
      for (let i = 0; i < n; i++) {
        const v = view.getInt16(2 * i);
        out[i] = v === blank ? NaN : v * bscale + bzero;
      }
      break;
    case 32:
      for (let i = 0; i < n; i++) {
        const v = view.getInt32(4 * i);
        out[i] = v === blank ? NaN : v * bscale + bzero;
      }
      break;
    case 64:
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i);
        out[i] = v === f.blank ? NaN : Number(v) * bscale + bzero;
      }
      break;
    case -32:
      for (let i = 0; i < n; i++) out[i] = scaled ? view.getFloat32(4 * i) * bscale + bzero : view.getFloat32(4 * i);
      break;
    case -64:
      for (let i = 0; i < n; i++) out[i] = scaled ? view.getFloat64(8 * i) * bscale + bzero : view.getFloat64(8 * i);
      break;
  }
  return out;
}
