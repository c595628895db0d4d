// The tile codecs against CFITSIO, tile by tile: test/fixtures/fits/tile-codecs.json holds, for
// images astropy 5.2 compressed (30 × 20 pixels in tiles of 7 rows, the last of 2; one 9600-pixel
// tile), each tile's stored bytes and per-tile ZSCALE/ZZERO, and its pixels as astropy decompressed
// them (for quantised floats, as CFITSIO itself reads them with NaN for ZBLANK: astropy 5.2 asks
// for no null value, and stores NaN as INT32_MIN without a ZBLANK, which the fixture's script adds).
// The cases: RICE_1 of 8/16/32-bit integers, GZIP_1 and GZIP_2 of integers and unquantised floats,
// quantised floats with each dither, exact zeros, NaNs, a constant tile kept losslessly in
// GZIP_COMPRESSED_DATA, and a dither sequence that wraps inside a tile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { decodeTile, dequantize, ditherRandoms, type TileCompression } from '../../../connectors/fits/tile-codecs.ts';
import { repoRoot } from '../../helpers.ts';

interface Tile { pixels: number; column: string; bytes: string; expected: string; ZSCALE?: number; ZZERO?: number; ZBLANK?: number }
interface Hdu {
  header: { ZCMPTYPE: TileCompression; ZBITPIX: number; ZQUANTIZ?: 'NO_DITHER' | 'SUBTRACTIVE_DITHER_1' | 'SUBTRACTIVE_DITHER_2'; ZDITHER0?: number; ZBLANK?: number; BZERO?: number; BSCALE?: number };
  zvals: { BLOCKSIZE?: number; BYTEPIX?: 1 | 2 | 4 | 8 };
  dtype: 'i2' | 'i4' | 'u1' | 'f4' | 'f8';
  tiles: Tile[];
}

const fixture = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'fits', 'tile-codecs.json'), 'utf8')) as Record<string, Hdu>;
const base64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/** The fixture's expected pixels: big-endian numbers of the image's dtype. */
function expectedPixels(hdu: Hdu, tile: Tile): number[] {
  const bytes = base64(tile.expected);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = { i2: (i: number) => view.getInt16(2 * i), i4: (i: number) => view.getInt32(4 * i), u1: (i: number) => view.getUint8(i), f4: (i: number) => view.getFloat32(4 * i), f8: (i: number) => view.getFloat64(8 * i) }[hdu.dtype];
  return Array.from({ length: tile.pixels }, (_, i) => read(i));
}

/** One tile as a reader of the convention decodes it: the codec, then dequantisation or BSCALE/BZERO. */
function decodeFixtureTile(hdu: Hdu, tile: Tile, row: number): ArrayLike<number | bigint> {
  const { header, zvals } = hdu;
  const floatBitpix = header.ZBITPIX < 0 ? (header.ZBITPIX as -32 | -64) : undefined;
  // A tile that could not be quantised is stored losslessly beside the others.
  if (tile.column === 'GZIP_COMPRESSED_DATA') return decodeTile('GZIP_1', base64(tile.bytes), tile.pixels, { bytepix: 4, floatBitpix });
  const quantised = floatBitpix !== undefined && tile.ZSCALE !== undefined;
  const decoded = decodeTile(header.ZCMPTYPE, base64(tile.bytes), tile.pixels, {
    bytepix: zvals.BYTEPIX ?? (quantised ? 4 : (Math.abs(header.ZBITPIX) / 8) as 1 | 2 | 4 | 8),
    blocksize: zvals.BLOCKSIZE,
    floatBitpix: quantised ? undefined : floatBitpix,
  });
  if (quantised) {
    expect(decoded).toBeInstanceOf(Int32Array);
    return dequantize(decoded as Int32Array, {
      scale: tile.ZSCALE!, zero: tile.ZZERO!, method: header.ZQUANTIZ ?? 'NO_DITHER', dither0: header.ZDITHER0 ?? 1,
      tile: row + 1, blank: tile.ZBLANK ?? header.ZBLANK, float64: header.ZBITPIX === -64,
    });
  }
  const { BSCALE = 1, BZERO = 0 } = header;
  return Array.from(decoded as ArrayLike<number>, (v) => v * BSCALE + BZERO);
}

describe('FITS tile codecs against CFITSIO (as astropy reads), tile by tile', () => {
  for (const [name, hdu] of Object.entries(fixture)) {
    const method = hdu.header.ZQUANTIZ && hdu.tiles.some((t) => t.ZSCALE !== undefined) ? `, ${hdu.header.ZQUANTIZ}` : '';
    test(`${name}: ${hdu.header.ZCMPTYPE}, ZBITPIX ${hdu.header.ZBITPIX}${method}: every pixel of its ${hdu.tiles.length} tiles exactly`, () => {
      for (const [row, tile] of hdu.tiles.entries()) {
        const got = decodeFixtureTile(hdu, tile, row);
        const expected = expectedPixels(hdu, tile);
        expect(got.length, `tile ${row + 1}`).toBe(tile.pixels);
        // Object.is: NaN only where CFITSIO has NaN, and 0 as 0.
        const wrong = expected.flatMap((v, i) => (Object.is(Number(got[i]), v) ? [] : [`tile ${row + 1} pixel ${i}: ${got[i]} vs ${v}`]));
        expect(wrong.slice(0, 5)).toEqual([]);
      }
    });
  }

  test('the fixture reaches the paths it is meant to: NaN, exact zeros, a lossless tile, raw RICE blocks', () => {
    const pixels = (name: string) => fixture[name].tiles.flatMap((t) => expectedPixels(fixture[name], t));
    expect(pixels('RICE_DITHER1').filter(Number.isNaN)).toHaveLength(2);
    expect(pixels('GZIP2_DITHER2').slice(181, 186)).toEqual([0, 0, 0, 0, 0]);
    expect(fixture.RICE_NO_DITHER.tiles[2].column).toBe('GZIP_COMPRESSED_DATA');
    expect(fixture.GZIP2_DITHER2.header.ZDITHER0).toBe(9999);
  });
});

describe('FITS tile codecs: the dither sequence, hand-made streams and damage', () => {
  test("the dither sequence is CFITSIO's fits_init_randoms: Park–Miller from seed 1, its 10000th seed 1043618065", () => {
    expect(ditherRandoms).toHaveLength(10000);
    expect(ditherRandoms[0]).toBe(Math.fround(16807 / 2147483647));
    expect(ditherRandoms[9999]).toBe(Math.fround(1043618065 / 2147483647));
  });

  test('SUBTRACTIVE_DITHER_2 keeps ZERO_VALUE (−2147483646) as exactly 0; ZBLANK is NaN; SUBTRACTIVE_DITHER_1 dithers it like any value', () => {
    const ints = Int32Array.of(-2147483646, 5, -7);
    const o = { scale: 2, zero: 10, dither0: 1, tile: 1, blank: -7 };
    expect(Array.from(dequantize(ints, { ...o, method: 'SUBTRACTIVE_DITHER_2' }))).toEqual([0, Math.fround((5 - ditherRandoms[1] + 0.5) * 2 + 10), NaN]);
    expect(dequantize(ints, { ...o, method: 'SUBTRACTIVE_DITHER_1' })[0]).toBeLessThan(-4e9);
    expect(Array.from(dequantize(ints, { ...o, method: 'NO_DITHER', float64: true }))).toEqual([-2147483646 * 2 + 10, 20, NaN]);
  });

  /** Packs a string of 0s and 1s (spaces ignored) into bytes, zero-padded. */
  const bits = (text: string) => {
    const digits = text.replace(/ /g, '');
    return Uint8Array.from({ length: Math.ceil(digits.length / 8) }, (_, i) => parseInt(digits.slice(8 * i, 8 * i + 8).padEnd(8, '0'), 2));
  };

  test('hand-made RICE_1 streams: all-equal blocks (fs code 0), a Rice-coded block, a raw block', () => {
    // 32-bit pixels, first value 7, then two blocks of 32 whose 5-bit fs code 0 says "no change".
    expect(decodeTile('RICE_1', bits('00000000 00000000 00000000 00000111 00000 00000'), 64, { bytepix: 4 })).toEqual(new Int32Array(64).fill(7));
    // 8-bit pixels 5, 6, 4: differences 0, +1, −2 map to 0, 2, 3; fs = 1 (code 2): unary high part, one low bit.
    expect(decodeTile('RICE_1', bits('00000101 010 1 0 01 0 01 1'), 3, { bytepix: 1 })).toEqual(Uint8Array.of(5, 6, 4));
    // 8-bit pixels 10, 12, 7: fs code 7 (fs = fsmax = 6) stores the mapped differences 0, 4, 9 in 8 bits each.
    expect(decodeTile('RICE_1', bits('00001010 111 00000000 00000100 00001001'), 3, { bytepix: 1 })).toEqual(Uint8Array.of(10, 12, 7));
    // 16-bit differences wrap at the pixel width: 32767 + 1 is −32768.
    expect(decodeTile('RICE_ONE', bits('01111111 11111111 1111 0000000000000000 0000000000000010'), 2, { bytepix: 2 })).toEqual(Int16Array.of(32767, -32768));
  });

  test('GZIP_1, GZIP_2 (bytes shuffled most significant first) and NOCOMPRESS, hand-made', () => {
    const values = Int16Array.of(1, -2, 300);
    const bigEndian = Uint8Array.of(0, 1, 0xff, 0xfe, 0x01, 0x2c);
    const shuffled = Uint8Array.of(0, 0xff, 0x01, 1, 0xfe, 0x2c);
    expect(decodeTile('GZIP_1', gzipSync(bigEndian), 3, { bytepix: 2 })).toEqual(values);
    expect(decodeTile('GZIP_2', gzipSync(shuffled), 3, { bytepix: 2 })).toEqual(values);
    expect(decodeTile('NOCOMPRESS', bigEndian, 3, { bytepix: 2 })).toEqual(values);
    expect(decodeTile('NOCOMPRESS', Uint8Array.of(0x3f, 0xc0, 0, 0), 1, { bytepix: 4, floatBitpix: -32 })).toEqual(Float32Array.of(1.5));
  });

  test('a cut or corrupt stream is an error that says what is wrong', () => {
    const tile = fixture.RICE_I32.tiles[0];
    const cut = base64(tile.bytes).subarray(0, 200);
    expect(() => decodeTile('RICE_1', cut, tile.pixels, { bytepix: 4 })).toThrow(/^RICE_1 tile: the stream ends after \d+ of 140 pixels$/);
    expect(() => decodeTile('RICE_1', Uint8Array.of(0, 0), 10, { bytepix: 4 })).toThrow('RICE_1 tile: 2 bytes cannot hold its first pixel');
    expect(() => decodeTile('GZIP_1', Uint8Array.of(1, 2, 3), 10, { bytepix: 4 })).toThrow(/^GZIP_1 tile: not a gzip stream/);
    expect(() => decodeTile('GZIP_2', gzipSync(Uint8Array.of(1, 2, 3)), 10, { bytepix: 2 })).toThrow('GZIP_2 tile: 3 bytes hold fewer than its 10 pixels of 2 bytes');
  });
});
