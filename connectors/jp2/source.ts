// `source.jp2`: JPEG 2000 images in JP2 files (Helioviewer's solar images) → one row each, in the
// image-row form source.fits gives: `_source`, `data` (an arrow.fixed_shape_tensor of float32
// sample values, [rows, columns] or [rows, columns, components]) and `header` (JSON): the FITS
// header Helioviewer keeps in the file's XML box, as connectors/fits gives headers, so the WCS and
// keyword stages take it. Rows run as FITS's do (`rows: fits`, the default: row 0 is the bottom,
// CRPIX counts from it; as sunpy flips them) or as the image is stored (`rows: image`: row 0 the
// top, as Pillow gives them). `reduce: n` decodes resolution level n of the wavelet transform
// (each side halved n times, rounded up) without decoding the full image: a 4096² AIA image at
// reduce 2 is 1024², and CDELT, CRPIX and NAXIS are changed to match. Decoding is OpenJPEG's
// WebAssembly build (@cornerstonejs/codec-openjpeg, as for DICOM's JPEG 2000). Before anything is
// decoded the boxes are checked against the file, the codestream's size against the header box,
// the decoded size against the task's memory, and the codestream must end in its EOC marker.
import { createRequire } from 'node:module';
import { Field, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../src/arrow/batch.ts';
import { tensorData, tensorField } from '../../src/arrow/tensor.ts';
import { fileBytes } from '../../src/io/byte-reader.ts';
import { describeEach, firstReadable, partitionsOf } from '../../src/io/file-discovery.ts';
import { matchFiles } from '../../src/io/input-files.ts';
import { checkBudget } from '../../src/io/limits.ts';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { codestreamInfo, fitsHeaderFromXml, parseJp2, type Jp2Layout } from './boxes.ts';

const require = createRequire(import.meta.url);

const params = z.object({
  path: z.string().min(1).describe('a .jp2 file or a glob, relative to the workflow folder'),
  reduce: z.number().int().min(0).max(32).default(0).describe('decode resolution level n: each side halved n times (rounded up)'),
  rows: z.enum(['fits', 'image']).default('fits').describe('fits: row 0 is the bottom row (FITS and sunpy order); image: row 0 is the top (as stored, as Pillow gives)'),
}).strict();

interface Jp2Chunk extends Chunk { path: string; key: string }

/** The decoded size at `reduce`: each side halved that many times, rounded up (OpenJPEG's and Pillow's). */
const reduced = (n: number, reduce: number) => Math.ceil(n / 2 ** reduce);

/** Reads a whole JP2 file (its codestream is decoded whole anyway) and its layout. */
async function load(path: string, key: string): Promise<{ bytes: Uint8Array; layout: Jp2Layout }> {
  const reader = await fileBytes(path, key);
  try {
    const bytes = await reader.read(0, reader.size, 'the file');
    try {
      return { bytes, layout: parseJp2(bytes) };
    } catch (error) {
      throw new InputError(key, messageOf(error));
    }
  } finally {
    await reader.close();
  }
}

function shapeOf(layout: Jp2Layout, reduce: number): number[] {
  const shape = [reduced(layout.height, reduce), reduced(layout.width, reduce)];
  return layout.components > 1 ? [...shape, layout.components] : shape;
}

export const jp2Source = defineSource({
  name: 'source.jp2',
  kind: 'source',
  version: '1',
  description: 'JPEG 2000 (JP2) images as tensor rows with the FITS header Helioviewer keeps in the XML box; reduce: n decodes a lower resolution level.',
  extensions: ['.jp2'],
  params,
  async discover(p, ctx) {
    const files = await matchFiles(p.path, ctx);
    const described = await describeEach(files, 4, async (f) => {
      const { layout } = await load(f.path, f.key);
      return { shape: shapeOf(layout, p.reduce) };
    });
    const first = firstReadable(described);
    const shape = first.info.shape;
    const schema = new Schema([
      new Field('_source', new Utf8(), false),
      tensorField('data', { shape, kind: 'float32' }),
      new Field('header', new Utf8(), false),
    ], new Map([['fits.hdu_kind', 'image']]));
    const partitions = partitionsOf(described, (f, info) => {
      if (info.shape.join() !== shape.join()) throw new InputError(f.key, `is ${info.shape.join(' × ')} at reduce ${p.reduce}, unlike ${first.file.key} (${shape.join(' × ')}): read images of other sizes with a source of their own`);
      return [{ key: f.key, file: f.path, bytes: f.bytes, chunks: (): Jp2Chunk[] => [{ path: f.path, key: f.key, bytes: f.bytes }] }];
    });
    return { schema, partitions };
  },
  async *read(raw, p, { schema }) {
    const chunk = raw as Jp2Chunk;
    const { bytes, layout } = await load(chunk.path, chunk.key);
    let batch;
    try {
      const values = await decodeJp2(bytes, layout, p.reduce, p.rows === 'fits');
      const header = fitsHeaderFromXml(layout.xml) ?? {};
      batch = makeBatch(schema, [
        vectorFromArray([chunk.key], new Utf8()).data[0],
        tensorData(schema.fields[1], values, 1),
        vectorFromArray([JSON.stringify(adjustHeader(header, layout, p.reduce))], new Utf8()).data[0],
      ], 1);
    } catch (error) {
      throw error instanceof InputError ? error : new InputError(chunk.key, messageOf(error));
    }
    yield batch;
  },
});

/**
 * The XML box's FITS header made true of the decoded image: NAXIS1/2 its size (Helioviewer may have
 * resized the FITS image), CDELT scaled and CRPIX moved to the pixel grid decoded; the JP2's own
 * facts under JP2_* keywords.
 */
function adjustHeader(header: Record<string, unknown>, layout: Jp2Layout, reduce: number): Record<string, unknown> {
  const out = { ...header };
  const sides = [layout.width, layout.height];
  [1, 2].forEach((axis) => {
    const naxis = header[`NAXIS${axis}`];
    const decoded = reduced(sides[axis - 1], reduce);
    // Pixels per decoded pixel along the axis (the FITS image may be larger than the JP2's full resolution).
    const scale = typeof naxis === 'number' && naxis > 0 ? naxis / decoded : 2 ** reduce;
    out[`NAXIS${axis}`] = decoded;
    const cdelt = header[`CDELT${axis}`];
    if (typeof cdelt === 'number') out[`CDELT${axis}`] = cdelt * scale;
    const crpix = header[`CRPIX${axis}`];
    if (typeof crpix === 'number') out[`CRPIX${axis}`] = (crpix - 0.5) / scale + 0.5;
  });
  return { ...out, JP2_WIDTH: layout.width, JP2_HEIGHT: layout.height, JP2_BITS: layout.bits, JP2_REDUCE: reduce };
}

interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
  calculateSizeAtDecompositionLevel(level: number): { width: number; height: number };
  decodeSubResolution(level: number, layer: number): void;
}

let decoderModule: Promise<{ J2KDecoder: new () => J2KDecoder }> | undefined;
let decoder: J2KDecoder | undefined;

/** The image's samples as float32, row by row ([rows, columns(, components)]), rows bottom-up when `fitsRows`. */
export async function decodeJp2(bytes: Uint8Array, layout: Jp2Layout, reduce: number, fitsRows: boolean): Promise<Float32Array> {
  const cs = bytes.subarray(layout.codestream.start, layout.codestream.start + layout.codestream.length);
  const info = codestreamInfo(cs);
  if (info.width !== layout.width || info.height !== layout.height || info.components !== layout.components) {
    throw new Error(`the codestream is ${info.width} × ${info.height} × ${info.components}; the header box says ${layout.width} × ${layout.height} × ${layout.components}`);
  }
  if (reduce > info.levels) throw new Error(`reduce ${reduce}: the codestream has ${info.levels} resolution levels below the full image (reduce 0-${info.levels})`);
  if (layout.bits > 16) throw new Error(`${layout.bits}-bit samples: quiver reads JPEG 2000 of up to 16 bits`);
  if (!(cs[cs.length - 2] === 0xff && cs[cs.length - 1] === 0xd9)) throw new Error('the codestream does not end in its EOC marker: the file is truncated');
  const [height, width] = [reduced(layout.height, reduce), reduced(layout.width, reduce)];
  const bytesPer = layout.bits > 8 ? 2 : 1;
  const samples = width * height * layout.components;
  // The decoder's output and ours, checked before OpenJPEG allocates for what the header says.
  checkBudget(samples * (bytesPer + 4) + cs.length, `decoding ${width} × ${height} × ${layout.components}`);
  decoderModule ??= (require('@cornerstonejs/codec-openjpeg/decodewasmjs') as (o: object) => Promise<{ J2KDecoder: new () => J2KDecoder }>)({ print: () => {}, printErr: () => {} });
  const module = await decoderModule;
  decoder ??= new module.J2KDecoder();
  let decoded: Uint8Array;
  try {
    decoder.getEncodedBuffer(cs.length).set(cs);
    decoder.decodeSubResolution(reduce, 0);
    decoded = decoder.getDecodedBuffer();
  } catch (error) {
    decoder = undefined; // after a C++ exception (a bare number) the decoder is not reused
    if (error instanceof Error) throw error;
    throw new Error('the JPEG 2000 codestream is damaged: the decoder stopped at an error in it');
  }
  if (decoded.length !== samples * bytesPer) throw new Error(`the codestream decodes to ${decoded.length} bytes, not the ${samples * bytesPer} of ${width} × ${height} × ${layout.components}`);
  const view = new DataView(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  const read = bytesPer === 1 ? (i: number) => (layout.signed ? view.getInt8(i) : decoded[i]) : (i: number) => (layout.signed ? view.getInt16(2 * i, true) : view.getUint16(2 * i, true));
  const out = new Float32Array(samples);
  const rowSamples = width * layout.components;
  for (let r = 0; r < height; r++) {
    const from = (fitsRows ? height - 1 - r : r) * rowSamples;
    for (let k = 0; k < rowSamples; k++) out[r * rowSamples + k] = read(from + k);
  }
  return out;
}
