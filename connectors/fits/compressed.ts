// Tile-compressed images (FITS 4.0 §10): a BINTABLE with ZIMAGE = T, one row per tile. Each tile's
// bytes (COMPRESSED_DATA, or GZIP_COMPRESSED_DATA / UNCOMPRESSED_DATA where a tile could not be
// quantised) are decoded by connectors/fits/tile-codecs.ts; quantised floats come back through
// ZSCALE/ZZERO with their dither, integer images through BSCALE/BZERO/BLANK as plain images do.
// Tiles are laid into the image by their position on the tile grid (NAXIS1 fastest). The image's
// size is declared, not bounded by the file: it must fit the task's memory budget, and each tile's
// bytes must lie in the heap, before anything is allocated.
import type { Data } from 'apache-arrow';
import { checkBudget, howToRaise } from '../../src/io/limits.ts';
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
  if (naxis < 0 || naxis > 999) throw new Error(`ZNAXIS is ${naxis}, not 0-999`);
  const shape = Array.from({ length: naxis }, (_, i) => header.integer(`ZNAXIS${i + 1}`)).reverse();
  if (shape.some((n) => n < 0)) throw new Error(`ZNAXIS${naxis - shape.findIndex((n) => n < 0)} is negative`);
  const zbitpix = header.integer('ZBITPIX');
  const blank = header.get('BLANK') ?? header.get('ZBLANK');
  const format = pixelFormat(zbitpix, header.number('BSCALE', 1), header.number('BZERO', 0),
    typeof blank === 'number' || typeof blank === 'bigint' ? BigInt(blank) : undefined);
  return { ...format, shape };
}

/** Reads `length` bytes at `offset` from the start of the HDU's data. */
export type ReadData = (offset: number, length: number) => Promise<Uint8Array>;

/**
 * Physical values of image rows `first` to `first + count` along the slowest axis (the whole
 * image by default), reading from the file only the table rows of the tiles that cover them and
 * only those tiles' bytes in the heap: memory follows the block, not the image.
 */
export async function decompressImage(header: FitsHeader, read: ReadData, first = 0, count?: number): Promise<FloatArray> {
  const layout = compressedLayout(header);
  const axes = layout.shape.slice().reverse();
  const last = axes.length - 1;
  const tile = axes.map((n, i) => header.integer(`ZTILE${i + 1}`, i === 0 ? Math.max(n, 1) : 1));
  tile.forEach((t, i) => {
    if (t < 1) throw new Error(`ZTILE${i + 1} is ${t}: a tile is at least 1 pixel along each axis`);
  });
  const grid = axes.map((n, i) => Math.ceil(n / tile[i]));
  const rows = header.integer('NAXIS2');
  const rowBytes = header.integer('NAXIS1');
  const heapStart = header.integer('THEAP', rowBytes * rows);
  const heapEnd = rowBytes * rows + header.integer('PCOUNT', 0);
  if (rows !== grid.reduce((a, b) => a * b, 1)) throw new Error(`the table has ${rows} rows but the tile grid ${grid.join('×')} needs ${grid.reduce((a, b) => a * b, 1)}`);
  const compression = (header.string('ZCMPTYPE') ?? '').trim() as TileCompression;
  if (!['RICE_1', 'RICE_ONE', 'GZIP_1', 'GZIP_2', 'NOCOMPRESS'].includes(compression)) {
    throw new Error(`ZCMPTYPE '${compression}' is not supported (RICE_1, GZIP_1, GZIP_2, NOCOMPRESS are)`);
  }

  // The slabs of tiles (along the slowest axis) that cover the rows asked for, and their table rows.
  const wanted = count ?? axes[last] - first;
  const slab0 = Math.floor(first / tile[last]);
  const slab1 = Math.ceil((first + wanted) / tile[last]);
  const perSlab = rows / grid[last];
  const row0 = slab0 * perSlab;
  const tableRows = (slab1 - slab0) * perSlab;
  const table = await read(row0 * rowBytes, tableRows * rowBytes);
  const columns = binColumns(header);
  const find = (name: string) => columns.find((k) => k.name.toUpperCase() === name);
  const scalars = (name: string) => {
    const c = find(name);
    return c && !c.variable ? binColumnData(c, table, rowBytes, tableRows, new Uint8Array(0)) : undefined;
  };
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  /** Row `r`'s (relative to row0) heap bytes of a variable-length column, or undefined without the column or data. */
  const tileBytes = async (name: string, r: number) => {
    const c = find(name);
    if (!c || !c.variable) return undefined;
    const at = r * rowBytes + c.offset;
    const n = c.variable === 'P' ? view.getUint32(at) : Number(view.getBigUint64(at));
    const offset = c.variable === 'P' ? view.getUint32(at + 4) : Number(view.getBigUint64(at + 8));
    if (heapStart + offset + n > heapEnd) throw new Error(`tile ${row0 + r + 1}: its ${name} (bytes ${offset}-${offset + n} of the heap) lies outside the heap`);
    return n === 0 ? undefined : read(heapStart + offset, n);
  };
  const scales = scalars('ZSCALE');
  const zeros = scalars('ZZERO');
  const blanks = scalars('ZBLANK');
  const zvals = new Map<string, number>();
  for (let i = 1; header.has(`ZNAME${i}`); i++) zvals.set((header.string(`ZNAME${i}`) ?? '').trim().toUpperCase(), header.number(`ZVAL${i}`));
  const quantised = layout.bitpix < 0 && scales !== undefined;
  const method = ((header.string('ZQUANTIZ') ?? 'NO_DITHER').trim()) as 'NO_DITHER' | 'SUBTRACTIVE_DITHER_1' | 'SUBTRACTIVE_DITHER_2';
  const dither0 = header.integer('ZDITHER0', 1);
  const zblank = header.get('ZBLANK');

  // The slabs' pixels, then the rows asked for cut from them.
  const covered = Math.min(axes[last], slab1 * tile[last]) - slab0 * tile[last];
  const region = [...axes.slice(0, last), covered];
  // The region's values, and one tile's at a time: its bytes, their decoding, its values.
  const tilePixels = tile.reduce((a, t, i) => a * Math.min(t, axes[i]), 1);
  checkBudget(region.reduce((a, b) => a * b, 1) * (layout.kind === 'float32' ? 4 : 8) + tilePixels * 32, 'decompressing the image', `read it in blocks with block_rows, or ${howToRaise}`);
  const out = newFloatArray(layout.kind, region.reduce((a, b) => a * b, 1));
  const scalar = (d: Data | undefined, r: number) => (d ? Number(d.values[r]) : undefined);
  for (let k = 0; k < tableRows; k++) {
    const r = row0 + k; // the tile number, from 0
    const at = grid.map((_, i) => Math.floor(r / grid.slice(0, i).reduce((a, b) => a * b, 1)) % grid[i]);
    const extent = axes.map((n, i) => Math.min(tile[i], n - at[i] * tile[i]));
    const pixels = extent.reduce((a, b) => a * b, 1);
    let values: FloatArray;
    const bytes = await tileBytes('COMPRESSED_DATA', k);
    if (bytes) {
      const floatBitpix = layout.bitpix < 0 && !quantised ? (layout.bitpix as -32 | -64) : undefined;
      const bytepix = (zvals.get('BYTEPIX') ?? (quantised ? 4 : Math.abs(layout.bitpix) / 8)) as 1 | 2 | 4 | 8;
      const decoded = decodeTile(compression, bytes, pixels, { bytepix, blocksize: zvals.get('BLOCKSIZE'), floatBitpix });
      if (quantised) {
        values = dequantize(Int32Array.from(decoded as ArrayLike<number>), {
          scale: scalar(scales, k)!, zero: scalar(zeros, k) ?? 0, method, dither0, tile: r + 1,
          blank: scalar(blanks, k) ?? (typeof zblank === 'number' ? zblank : undefined), float64: layout.bitpix === -64,
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
      const gzipped = await tileBytes('GZIP_COMPRESSED_DATA', k);
      const fallback = gzipped ?? (await tileBytes('UNCOMPRESSED_DATA', k));
      if (!fallback) throw new Error(`tile ${r + 1} has no data in any of COMPRESSED_DATA, GZIP_COMPRESSED_DATA, UNCOMPRESSED_DATA`);
      values = decodeTile(gzipped ? 'GZIP_1' : 'NOCOMPRESS', fallback, pixels, { bytepix: 4, floatBitpix: layout.bitpix as -32 | -64 }) as FloatArray;
    }
    placeTile(out, values, region, tile, [...at.slice(0, last), at[last] - slab0], extent);
  }
  const perRow = region.slice(0, last).reduce((a, b) => a * b, 1);
  const skip = first - slab0 * tile[last];
  return out.subarray(skip * perRow, (skip + wanted) * perRow);
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
