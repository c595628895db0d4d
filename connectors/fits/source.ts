// `source.fits`: one HDU of each FITS file (connectors/fits/ reads them; no external library).
// An image HDU (primary, IMAGE extension or tile-compressed) → one row: `_source`, `hdu`, `data`
// (an arrow.fixed_shape_tensor of physical values, BLANK → NaN) and `header` (the cards as JSON);
// with `block_rows`, one row per block of that many rows along the slowest axis (`row_start`,
// `rows`; the last block padded with NaN), so a large image streams with bounded memory. A table
// HDU → one row per table row, columns named by TTYPE with TUNIT as field metadata. Random groups
// → one row per group: its parameters and `data`. CHECKSUM and DATASUM are verified when present.
// A gzipped file (`.fits.gz`, told by its magic bytes) is read the same, inflated as a stream
// (gzip.ts): discovery holds one header at a time, a worker the HDU it reads, never the whole file.
// In S3 (`path: s3://bucket/glob`): discovery reads the headers by ranged GETs, and a chunk carries
// the object's reference and HDU offsets; the worker fetches that HDU's header and the data it
// decodes (its rows, or the whole HDU's data to verify CHECKSUM), never the rest of the object.
import { Field, Int32, makeData, Schema, Utf8, vectorFromArray, type Data, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../src/arrow/batch.ts';
import { tensorData, tensorField, type FloatArray } from '../../src/arrow/tensor.ts';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { asciiColumnData, asciiColumns, asciiField } from './ascii-table.ts';
import { binColumnData, binColumns, binField } from './bintable.ts';
import { checksumProblem, onesComplementSum } from './checksum.ts';
import { decompressImage, compressedLayout } from './compressed.ts';
import { GzipBytes, maybeGunzip } from '../../src/io/gzip-bytes.ts';
import { listHdus, pickHdu, type Hdu, type HduKind } from './file.ts';
import { decodeGroups, groupParamFields, groupsLayout } from './groups.ts';
import { BLOCK, parseHeader, type FitsHeader } from './header.ts';
import { decodePixels, imageLayout } from './image.ts';
import { fileBytes, type ByteReader } from '../../src/io/byte-reader.ts';
import { describeEach, firstReadable, partitionsOf } from '../../src/io/file-discovery.ts';
import { matchFiles, type InputFile } from '../../src/io/input-files.ts';
import { matchS3Objects } from '../../src/io/s3-inputs.ts';
import { S3ObjectBytes, transientS3, type S3ObjectRef } from '../../src/io/s3-object.ts';
import { isS3 } from '../../src/workflow/s3-url.ts';

const params = z.object({
  path: z.string().min(1).describe('a FITS file or a glob, relative to the workflow folder; or s3://bucket/key-glob'),
  hdu: z.union([z.number().int().min(0), z.string().min(1)]).optional()
    .describe('an HDU index or EXTNAME (NAME,VER for one version); default the first HDU holding data'),
  block_rows: z.number().int().min(1).optional().describe('images: emit blocks of this many rows instead of the whole image'),
  batchRows: z.number().int().min(1).default(65_536).describe('tables and groups: rows per batch'),
  checksum: z.enum(['verify', 'ignore']).default('verify'),
  header: z.boolean().default(false).describe('tables and groups: add `_source` and `header` (the HDU\'s cards as JSON) to every row'),
  data: z.boolean().default(true).describe('images: false reads only the header (a row of `_source`, `hdu`, `header`)'),
}).strict();

interface FitsChunk extends Chunk {
  path: string;
  key: string;
  hdu: { index: number; start: number; dataStart: number; dataBytes: number; kind: HduKind };
  /** Tables and groups: the rows; image blocks: the first row and how many. */
  first: number;
  count: number;
  verify: boolean;
  /** In S3: the object, whose HDU header and data the worker fetches by ranged GETs. */
  s3?: S3ObjectRef;
}

/** The bytes of a local file or an S3 object, to read by range. */
const rawBytesOf = (path: string, name: string, object?: S3ObjectRef): Promise<ByteReader> =>
  object ? Promise.resolve(new S3ObjectBytes(object)) : fileBytes(path, name);

/** The bytes as FITS has them: gzip (told by its magic bytes) inflated as read, keeping bytes from `keepFrom` on. */
async function bytesOf(path: string, name: string, object?: S3ObjectRef, keepFrom = 0): Promise<ByteReader> {
  const raw = await rawBytesOf(path, name, object);
  try {
    return await maybeGunzip(raw, keepFrom);
  } catch (error) {
    await raw.close();
    throw error;
  }
}

/** A FITS file's first bytes, where its primary header (usually) is, in one GET for an S3 object. */
const HEAD_GUESS = 64 * 1024;

async function openInput(f: InputFile): Promise<ByteReader> {
  const bytes = await rawBytesOf(f.path, f.key, f.object);
  try {
    if (bytes instanceof S3ObjectBytes) await bytes.load(0, HEAD_GUESS, 'the primary header');
    // Discovery walks a gzip stream forward, holding only the header it is reading.
    return await maybeGunzip(bytes, 0, true);
  } catch (error) {
    await bytes.close();
    throw error;
  }
}

const sourceFields = [new Field('_source', new Utf8(), false), new Field('header', new Utf8(), false)];

/** The output schema of an HDU. */
function schemaOf(hdu: Hdu, blockRows: number | undefined, withHeader: boolean, withData: boolean): Schema {
  const h = hdu.header;
  const meta = (kind: string) => new Map([['fits.hdu_kind', kind]]);
  const extra = withHeader ? sourceFields : [];
  switch (hdu.kind) {
    case 'bintable': return new Schema([...binColumns(h).filter((c) => c.repeat > 0).map(binField), ...extra], meta('bintable'));
    case 'table': return new Schema([...asciiColumns(h).map(asciiField), ...extra], meta('table'));
    case 'groups': {
      const layout = groupsLayout(h);
      return new Schema([...groupParamFields(layout), tensorField('data', { shape: layout.shape, kind: layout.format.kind }), ...extra], meta('groups'));
    }
    default: {
      if (!withData) return new Schema([new Field('_source', new Utf8(), false), new Field('hdu', new Int32(), false), new Field('header', new Utf8(), false)], meta('image'));
      const { shape, kind } = hdu.kind === 'compressed-image' ? compressedLayout(h) : imageLayout(h);
      const blocked = blockRows !== undefined && shape.length > 0;
      const tensorShape = blocked ? [Math.min(blockRows, shape[0]), ...shape.slice(1)] : shape;
      return new Schema([
        new Field('_source', new Utf8(), false), new Field('hdu', new Int32(), false),
        ...(blocked ? [new Field('row_start', new Int32(), false), new Field('rows', new Int32(), false)] : []),
        tensorField('data', { shape: tensorShape, kind }), new Field('header', new Utf8(), false),
      ], meta('image'));
    }
  }
}

const describe = (s: Schema) => s.fields.map((f) => `${f.name}: ${f.metadata.get('ARROW:extension:metadata') ?? String(f.type)}`).join(', ');

export const fitsSource = defineSource({
  name: 'source.fits',
  kind: 'source',
  version: '1',
  description: 'FITS files: images (incl. tile-compressed) as tensor rows, binary and ASCII tables as rows, random groups; CHECKSUM verified.',
  extensions: ['.fits', '.fit', '.fts', '.fz', '.uvfits'], // and each of them gzipped (told by the magic bytes)
  params,
  async discover(p, ctx) {
    const files = isS3(p.path) ? await matchS3Objects(p.path) : await matchFiles(p.path, ctx);
    const described = await describeEach(files, 8, async (f) => {
      const bytes = await openInput(f);
      try {
        const hdus = await listHdus(bytes);
        const hdu = p.hdu === undefined ? hdus.find((h) => h.dataBytes > 0) ?? hdus[0] : pickHdu(hdus, p.hdu, f.key);
        try {
          const object = bytes instanceof S3ObjectBytes ? bytes.ref : bytes instanceof GzipBytes ? bytes.source instanceof S3ObjectBytes ? bytes.source.ref : undefined : undefined;
          return { hdu, schema: schemaOf(hdu, p.block_rows, p.header, p.data), object };
        } catch (error) {
          throw new InputError(f.key, `HDU ${hdu.index}: ${messageOf(error)}`);
        }
      } finally {
        await bytes.close();
      }
    });
    // The server unreachable or failing is no fault of one object's: the run fails, to be tried again.
    const down = described.find((d) => 'error' in d && transientS3(d.error));
    if (down) throw (down as { error: unknown }).error;
    const first = firstReadable(described);
    const schema = first.info.schema;
    const partitions = partitionsOf(described, (f, { hdu, schema: other, object }) => {
      if (describe(other) !== describe(schema)) {
        throw new InputError(f.key, `HDU ${hdu.index} holds (${describe(other)}), unlike ${first.file.key} (${describe(schema)}): read files of different shapes with separate sources`);
      }
      return [{
        key: f.key,
        ...(object ? { object } : { file: f.path }),
        bytes: f.bytes,
        *chunks(): Iterable<FitsChunk> {
          const base = { path: f.path, key: f.key, hdu: { index: hdu.index, start: hdu.start, dataStart: hdu.dataStart, dataBytes: hdu.dataBytes, kind: hdu.kind }, ...(object ? { s3: object } : {}) };
          const total = hdu.kind === 'bintable' || hdu.kind === 'table' ? hdu.header.integer('NAXIS2', 0)
            : hdu.kind === 'groups' ? hdu.header.integer('GCOUNT', 1) : p.block_rows !== undefined ? imageRows(hdu) : 1;
          const step = hdu.kind === 'image' || hdu.kind === 'compressed-image' ? p.block_rows ?? 1 : p.batchRows;
          for (let first = 0, n = 0; first < total || n === 0; first += step, n++) {
            yield { ...base, first, count: Math.min(step, total - first), verify: n === 0 && p.checksum === 'verify', bytes: hdu.dataBytes / Math.max(1, Math.ceil(total / step)) };
          }
        },
      }];
    });
    return { schema, partitions };
  },
  async *read(raw, p, { schema }) {
    const chunk = raw as FitsChunk;
    const handle = await bytesOf(chunk.path, chunk.key, chunk.s3, chunk.hdu.start);
    try {
      const { hdu } = chunk;
      const headerBytes = await handle.read(hdu.start, hdu.dataStart - hdu.start, `HDU ${hdu.index}'s header`);
      const header = parseHeader(headerBytes, `HDU ${hdu.index}`);
      if (chunk.verify && (header.has('CHECKSUM') || header.has('DATASUM'))) {
        const problem = await verifyChecksum(handle, headerBytes, hdu, header);
        if (problem) throw new InputError(chunk.key, `HDU ${hdu.index}: ${problem}`);
      }
      try {
        yield await decodeChunk(handle, header, chunk, schema, p.block_rows);
      } catch (error) {
        throw error instanceof InputError ? error : new InputError(chunk.key, `HDU ${hdu.index}: ${messageOf(error)}`);
      }
    } finally {
      await handle.close();
    }
  },
});

function imageRows(hdu: Hdu): number {
  const shape = hdu.kind === 'compressed-image' ? compressedLayout(hdu.header).shape : imageLayout(hdu.header).shape;
  return shape.includes(0) ? 0 : shape[0] ?? 1; // no pixels: no rows, however long another axis says it is
}

/** `_source` and `header` for every row of a table chunk, when the schema asks for them. */
function sourceColumns(schema: Schema, chunk: FitsChunk, header: FitsHeader): Data[] {
  if (!schema.fields.some((f) => f.name === '_source')) return [];
  const repeat = (text: string) => vectorFromArray(Array.from({ length: chunk.count }, () => text), new Utf8()).data[0];
  return [repeat(chunk.key), repeat(JSON.stringify(header.toJSON()))];
}

async function verifyChecksum(handle: ByteReader, headerBytes: Uint8Array, hdu: FitsChunk['hdu'], header: FitsHeader) {
  // The data's sum, read in slices so a large HDU is never held whole.
  const padded = Math.ceil(hdu.dataBytes / BLOCK) * BLOCK;
  let dataSum = 0;
  const slice = 2880 * 4096;
  for (let at = 0; at < padded; at += slice) {
    dataSum = onesComplementSum(await handle.read(hdu.dataStart + at, Math.min(slice, padded - at), `HDU ${hdu.index}'s data`), dataSum);
  }
  return checksumProblem(headerBytes, dataSum, header.get('CHECKSUM'), header.get('DATASUM'));
}

async function decodeChunk(handle: ByteReader, header: FitsHeader, chunk: FitsChunk, schema: Schema, blockRows?: number): Promise<RecordBatch> {
  const { hdu } = chunk;
  const read = (offset: number, length: number, what: string) => handle.read(hdu.dataStart + offset, length, what);
  if (hdu.kind === 'bintable' || hdu.kind === 'table') {
    const rowBytes = header.integer('NAXIS1');
    const rows = await read(chunk.first * rowBytes, chunk.count * rowBytes, `rows ${chunk.first + 1}-${chunk.first + chunk.count}`);
    if (hdu.kind === 'table') return makeBatch(schema, [...asciiColumns(header).map((c) => asciiColumnData(c, rows, rowBytes, chunk.count)), ...sourceColumns(schema, chunk, header)], chunk.count);
    const columns = binColumns(header).filter((c) => c.repeat > 0);
    const heapStart = header.integer('THEAP', rowBytes * header.integer('NAXIS2'));
    const heapBytes = columns.some((c) => c.variable) ? header.integer('PCOUNT', 0) : 0;
    const heap = heapBytes > 0 ? await read(heapStart, Math.min(heapBytes, hdu.dataBytes - heapStart), 'the heap') : new Uint8Array(0);
    return makeBatch(schema, [...columns.map((c) => binColumnData(c, rows, rowBytes, chunk.count, heap)), ...sourceColumns(schema, chunk, header)], chunk.count);
  }
  if (hdu.kind === 'groups') {
    const layout = groupsLayout(header);
    const bytes = await read(chunk.first * layout.groupBytes, chunk.count * layout.groupBytes, `groups ${chunk.first + 1}-${chunk.first + chunk.count}`);
    const { params, arrays } = decodeGroups(layout, bytes, chunk.count);
    const floats = params.map((values) => makeData({ type: schema.fields[0].type, length: chunk.count, nullCount: 0, data: values }) as Data);
    const data = schema.fields.find((f) => f.name === 'data')!;
    return makeBatch(schema, [...floats, tensorData(data, arrays, chunk.count), ...sourceColumns(schema, chunk, header)], chunk.count);
  }
  const ints = (v: number) => makeData({ type: new Int32(), length: 1, nullCount: 0, data: Int32Array.of(v) });
  const headerJson = () => vectorFromArray([JSON.stringify(header.toJSON())], new Utf8()).data[0];
  if (!schema.fields.some((f) => f.name === 'data')) return makeBatch(schema, [vectorFromArray([chunk.key], new Utf8()).data[0], ints(hdu.index), headerJson()], 1);
  // Images: the whole image, or a block of rows along the slowest axis.
  let values: FloatArray;
  const dataField = schema.fields.find((f) => f.name === 'data')!;
  const size = Number((dataField.type as { listSize: number }).listSize);
  if (hdu.kind === 'compressed-image') {
    // Only the tiles that cover the block are read and decoded.
    const rows = blockRows === undefined ? [] : [chunk.first, chunk.count];
    values = await decompressImage(header, (offset, length) => read(offset, length, 'the compressed image'), ...rows);
  } else {
    const layout = imageLayout(header);
    const rowBytes = layout.shape.length === 0 ? 0 : layout.rowBytes;
    values = layout.shape.length === 0 ? decodePixels(new Uint8Array(0), layout)
      : blockRows === undefined ? decodePixels(await read(0, hdu.dataBytes, 'the image'), layout)
        : decodePixels(await read(chunk.first * rowBytes, chunk.count * rowBytes, `image rows ${chunk.first + 1}-${chunk.first + chunk.count}`), layout);
  }
  if (values.length < size) {
    const padded = new (values.constructor as Float32ArrayConstructor)(size).fill(NaN);
    padded.set(values);
    values = padded;
  }
  const blocked = schema.fields.some((f) => f.name === 'row_start');
  return makeBatch(schema, [
    vectorFromArray([chunk.key], new Utf8()).data[0], ints(hdu.index),
    ...(blocked ? [ints(chunk.first), ints(chunk.count)] : []),
    tensorData(dataField, values, 1), headerJson(),
  ], 1);
}
