// Tile-compressed images (FITS 4.0 §10): a BINTABLE with ZIMAGE = T, one row per tile. Each tile's
// bytes (COMPRESSED_DATA, or GZIP_COMPRESSED_DATA / UNCOMPRESSED_DATA where a tile could not be
// quantised) are decoded by connectors/fits/tile-codecs.ts; quantised floats come back through
// ZSCALE/ZZERO with their dither, integer images through BSCALE/BZERO/BLANK as plain images do.
// Tiles are laid into the image by their position on the tile grid (NAXIS1 fastest).
import type { Data, List } from 'apache-arrow';
import { newFloatArray, type FloatArray } from '../../src/arrow/tensor.ts';
import { binColumnData, binColumns } from './bintable.ts';
import type { FitsHeader } from './header.ts';
import { pixelFormat, type PixelFormat } from './image.ts';
import { decodeTile, dequantize, type TileCompression } from './tile-codecs.ts';

export interface CompressedLayout extends PixelFormat {
  shape: number[];
}

export function compressedLayout(header: FitsHeader): CompressedLayout {
  const naxis = header.integer('ZNAXIS');
  const shape = Array.from({ length: naxis }, (_, i) => header.integer(`ZNAXIS${i + 1}`)).reverse();
  const zbitpix = header.integer('ZBITPIX');
  const blank = header.get('BLANK') ?? header.get('ZBLANK');
  const format = pixelFormat(zbitpix, header.number('BSCALE', 1), header.number('BZERO', 0),
    typeof blank === 'number' || typeof blank === 'bigint' ? BigInt(blank) : undefined);
  return { ...format, shape };
}

/** Every pixel of a compressed image HDU, physical values, from its table bytes (rows then heap). */
export function decompressImage(header: FitsHeader, data: Uint8Array): FloatArray {
  const layout = compressedLayout(header);
  const axes = layout.shape.slice().reverse();
  const tile = axes.map((n, i) => header.integer(`ZTILE${i + 1}`, i === 0 ? n : 1));
  const grid = axes.map((n, i) => Math.ceil(n / tile[i]));
  const rows = header.integer('NAXIS2');
  const rowBytes = header.integer('NAXIS1');
  const heapStart = header.integer('THEAP', rowBytes * rows);
  const heap = data.subarray(heapStart, heapStart + header.integer('PCOUNT', 0));
  if (rows !== grid.reduce((a, b) => a * b, 1)) throw new Error(`the table has ${rows} rows but the tile grid ${grid.join('×')} needs ${grid.reduce((a, b) => a * b, 1)}`);

  const compression = (header.string('ZCMPTYPE') ?? '').trim() as TileCompression;
  if (!['RICE_1', 'RICE_ONE', 'GZIP_1', 'GZIP_2', 'NOCOMPRESS'].includes(compression)) {
    throw new Error(`ZCMPTYPE '${compression}' is not supported (RICE_1, GZIP_1, GZIP_2, NOCOMPRESS are)`);
  }
  const zvals = new Map<string, number>();
  for (let i = 1; header.has(`ZNAME${i}`); i++) zvals.set((header.string(`ZNAME${i}`) ?? '').trim().toUpperCase(), header.number(`ZVAL${i}`));
  const columns = binColumns(header);
  const column = (name: string) => {
    const c = columns.find((k) => k.name.toUpperCase() === name);
    return c ? binColumnData(c, data, rowBytes, rows, heap) : undefined;
  };
  const compressed = column('COMPRESSED_DATA');
  const gzipped = column('GZIP_COMPRESSED_DATA');
  const raw = column('UNCOMPRESSED_DATA');
  const scales = column('ZSCALE');
  const zeros = column('ZZERO');
  const blanks = column('ZBLANK');
  const quantised = layout.bitpix < 0 && scales !== undefined;
  const method = ((header.string('ZQUANTIZ') ?? 'NO_DITHER').trim()) as 'NO_DITHER' | 'SUBTRACTIVE_DITHER_1' | 'SUBTRACTIVE_DITHER_2';
  const dither0 = header.integer('ZDITHER0', 1);
  const zblank = header.get('ZBLANK');

  const out = newFloatArray(layout.kind, axes.reduce((a, b) => a * b, 1));
  const scalar = (d: Data | undefined, r: number) => (d ? Number(d.values[r]) : undefined);
  for (let r = 0; r < rows; r++) {
    // This tile's extent along each axis.
    const at = grid.map((_, i) => Math.floor(r / grid.slice(0, i).reduce((a, b) => a * b, 1)) % grid[i]);
    const extent = axes.map((n, i) => Math.min(tile[i], n - at[i] * tile[i]));
    const pixels = extent.reduce((a, b) => a * b, 1);
    let values: FloatArray;
    const bytes = listBytes(compressed, r);
    if (bytes && bytes.length > 0) {
      const floatBitpix = layout.bitpix < 0 && !quantised ? (layout.bitpix as -32 | -64) : undefined;
      const bytepix = (zvals.get('BYTEPIX') ?? (quantised ? 4 : Math.abs(layout.bitpix) / 8)) as 1 | 2 | 4 | 8;
      const decoded = decodeTile(compression, bytes, pixels, { bytepix, blocksize: zvals.get('BLOCKSIZE'), floatBitpix });
      if (quantised) {
        values = dequantize(Int32Array.from(decoded as ArrayLike<number>), {
          scale: scalar(scales, r)!, zero: scalar(zeros, r) ?? 0, method, dither0, tile: r + 1,
          blank: scalar(blanks, r) ?? (typeof zblank === 'number' ? zblank : undefined), float64: layout.bitpix === -64,
        });
      } else {
        values = newFloatArray(layout.kind, pixels);
        const blank = layout.blank === undefined ? undefined : Number(layout.blank);
        const unscaled = layout.bscale === 1 && layout.bzero === 0;
        for (let i = 0; i < pixels; i++) {
          const v = Number(decoded[i]);
          values[i] = v === blank && layout.bitpix > 0 ? NaN : unscaled ? v : v * layout.bscale + layout.bzero;
        }
      }
    } else {
      // A tile that could not be quantised is kept losslessly beside the others.
      const fallback = listBytes(gzipped, r) ?? listBytes(raw, r);
      if (!fallback) throw new Error(`tile ${r + 1} has no data in any of COMPRESSED_DATA, GZIP_COMPRESSED_DATA, UNCOMPRESSED_DATA`);
      const codec: TileCompression = listBytes(gzipped, r) ? 'GZIP_1' : 'NOCOMPRESS';
      values = decodeTile(codec, fallback, pixels, { bytepix: 4, floatBitpix: layout.bitpix as -32 | -64 }) as FloatArray;
    }
    placeTile(out, values, axes, tile, at, extent);
  }
  return out;
}

/** Row `r`'s bytes of a list<uint8> column (a variable-length array), or undefined without the column. */
function listBytes(data: Data | undefined, r: number): Uint8Array | undefined {
  if (!data) return undefined;
  const offsets = data.valueOffsets as Int32Array;
  return ((data as Data<List>).children[0].values as Uint8Array).subarray(offsets[r], offsets[r + 1]);
}

/** Copies a tile's pixels (NAXIS1 fastest) to their place in the image. */
function placeTile(out: FloatArray, values: FloatArray, axes: number[], tile: number[], at: number[], extent: number[]) {
  const strides = axes.map((_, i) => axes.slice(0, i).reduce((a, b) => a * b, 1));
  const lines = extent.slice(1).reduce((a, b) => a * b, 1);
  for (let line = 0; line < lines; line++) {
    let offset = at[0] * tile[0];
    let rest = line;
    for (let i = 1; i < axes.length; i++) {
      offset += (at[i] * tile[i] + (rest % extent[i])) * strides[i];
      rest = Math.floor(rest / extent[i]);
    }
    out.set(values.subarray(line * extent[0], (line + 1) * extent[0]), offset);
  }
}
