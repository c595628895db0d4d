// `source.nifti`: NIfTI-1 and NIfTI-2 volumes (`.nii`, `.nii.gz`; either byte order) → one row
// each, in the volume row of volume-row.ts: values scaled by scl_slope/scl_inter as nibabel
// scales them (a slope of 0 or not finite means none), the affine as nibabel picks it (sform,
// else qform, else Analyze's), array axes [k, j, i] so voxel (i, j, k) is NIfTI's own.
// 4-D and 5-D images (fMRI series, vector fields): one row per 3-D volume, in file order, with
// `volume` (its index), `t_index`, `component` (the index along dim 5 and beyond) and `time`
// (toffset + t × TR in seconds; null when dim 4 is not time). A row per volume keeps the volume
// row every medical stage takes, and memory to one volume: the volumes are read one at a time,
// a .nii.gz inflated as a stream (src/io/gzip-bytes.ts). Those four columns appear only when a
// matched file has more than three dimensions, so 3-D files keep the row source.dicom gives.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Field, Float64, Int32, makeData, Schema, type Data } from 'apache-arrow';
import { z } from 'zod';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { fileBytes, type ByteReader } from '../../src/io/byte-reader.ts';
import { maybeGunzip } from '../../src/io/gzip-bytes.ts';
import { mapLimited, matchFiles } from '../../src/io/input-files.ts';
import { checkBudget, DEFLATE_MAX_RATIO, inflatePrefix } from '../../src/io/limits.ts';
import { datatypes, niftiAffine, niftiExtent, parseNiftiHeader, secondsPerTimeUnit, type NiftiHeader } from './header.ts';
import { volumeBatch, volumeFields } from '../../src/arrow/volume-row.ts';

const params = z.object({
  path: z.string().min(1).describe('a .nii or .nii.gz file or a glob; relative to the workflow folder'),
  missing: z.enum(['error', 'empty']).default('error').describe('no file matching: an error, or no rows (a workflow taking NIfTI or DICOM)'),
}).strict();

interface NiftiChunk extends Chunk { path: string; key: string }

/** The columns a row of a 4-D or 5-D image adds. */
export const seriesFields = [
  new Field('volume', new Int32(), false), new Field('t_index', new Int32(), false), new Field('component', new Int32(), false),
  new Field('time', new Float64(), true),
];

/** Volumes beyond the first three dimensions: dim[4] × dim[5] × … (1 for a 3-D image). */
export const volumeCount = (h: NiftiHeader) => h.dims.slice(3).reduce((a, b) => a * b, 1);

/** The header of the file (or gzip stream) `bytes` reads; a NIfTI-2 header read whole. */
export async function readNiftiHeader(bytes: ByteReader): Promise<NiftiHeader> {
  const size = new DataView((await bytes.read(0, 4, 'the header')).buffer);
  const nifti2 = size.getInt32(0, true) === 540 || size.getInt32(0, false) === 540;
  return parseNiftiHeader(await bytes.read(0, nifti2 ? 540 : 348, 'the header'));
}

/** A file's header, or undefined when it has none quiver reads (reading it then says why). */
async function headerOrNothing(path: string, key: string): Promise<NiftiHeader | undefined> {
  try {
    const bytes = await maybeGunzip(await fileBytes(path, key), 0, true);
    try {
      return await readNiftiHeader(bytes);
    } finally {
      await bytes.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * The file's bytes, gunzipped when they start with gzip's magic: inflated only as far as the
 * header says the data goes, once that is plausible for the file's size and fits the task's budget.
 */
export async function niftiBytes(path: string): Promise<Uint8Array> {
  const file = await readFile(path);
  if (!(file[0] === 0x1f && file[1] === 0x8b)) return file;
  const { voxels, end } = niftiExtent(parseNiftiHeader(await inflatePrefix(file, 540, 'gzip')));
  if (end > file.length * DEFLATE_MAX_RATIO + 1024) {
    throw new Error(`the header declares ${end} bytes of image, more than ${file.length} bytes of gzip can inflate to`);
  }
  checkBudget(end + voxels * 4, 'the volume');
  return inflatePrefix(file, end, 'gzip');
}

/** Voxel values as float32 (x fastest), scaled. */
export function niftiValues(h: NiftiHeader, bytes: Uint8Array): Float32Array {
  const [, size] = datatypes[h.datatype as keyof typeof datatypes];
  const { voxels: count, end } = niftiExtent(h);
  const start = h.voxOffset;
  if (end > bytes.length) throw new Error(`the header promises ${count} voxels of ${size} bytes from byte ${start}; the file ends at ${bytes.length}`);
  return decodeVoxels(h, bytes.subarray(start, end), count);
}

/** `count` voxels stored in `bytes` (the header's datatype and byte order) as float32, scaled. */
export function decodeVoxels(h: NiftiHeader, bytes: Uint8Array, count: number): Float32Array {
  const [name, size] = datatypes[h.datatype as keyof typeof datatypes];
  checkBudget(count * 4, 'the volume');
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  const le = h.littleEndian;
  const read: Record<string, (o: number) => number> = {
    uint8: (o) => view.getUint8(o), int8: (o) => view.getInt8(o), int16: (o) => view.getInt16(o, le), uint16: (o) => view.getUint16(o, le),
    int32: (o) => view.getInt32(o, le), uint32: (o) => view.getUint32(o, le), float32: (o) => view.getFloat32(o, le), float64: (o) => view.getFloat64(o, le),
    int64: (o) => Number(view.getBigInt64(o, le)), uint64: (o) => Number(view.getBigUint64(o, le)),
  };
  const get = read[name];
  const scaled = Number.isFinite(h.sclSlope) && h.sclSlope !== 0;
  const slope = scaled ? h.sclSlope : 1;
  const inter = scaled && Number.isFinite(h.sclInter) ? h.sclInter : 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = get(i * size) * slope + inter;
  return out;
}

export const niftiSource = defineSource({
  name: 'source.nifti',
  kind: 'source',
  version: '1',
  description: 'NIfTI-1/2 volumes (.nii, .nii.gz) as volume rows: scaled values, the affine nibabel would give, spacing, origin, direction.',
  extensions: ['.nii', '.nii.gz'],
  params,
  async discover(p, ctx) {
    const files = await matchFiles(p.path, ctx, p.missing === 'empty');
    // The headers say whether any file is a series of volumes (then every row says which volume it is).
    const headers = await mapLimited(files, 8, (f) => headerOrNothing(f.path, f.key));
    const series = headers.some((h) => h !== undefined && volumeCount(h) > 1);
    return {
      schema: new Schema(series ? [...volumeFields, ...seriesFields] : volumeFields),
      partitions: files.map((f) => ({ key: f.key, file: f.path, bytes: f.bytes, chunks: (): NiftiChunk[] => [{ path: f.path, key: f.key, bytes: f.bytes }] })),
    };
  },
  async *read(raw, _p, { schema }) {
    const chunk = raw as NiftiChunk;
    const withSeries = schema.fields.some((f) => f.name === 'volume');
    const first = await headerOrNothing(chunk.path, chunk.key);
    if (first && volumeCount(first) > 1) {
      if (!withSeries) throw new InputError(chunk.key, `${first.dims.length}-D (${first.dims.join(' × ')}), but the files read with it are 3-D: read series with a source of their own`);
      yield* readSeries(chunk, schema);
      return;
    }
    let batch;
    try {
      const bytes = await niftiBytes(chunk.path);
      const h = parseNiftiHeader(bytes);
      if (volumeCount(h) > 1) throw new Error(`${h.dims.length}-D (${h.dims.join(' × ')}), but its header could not be read when the source was planned`);
      const [nx, ny = 1, nz = 1] = h.dims;
      const { affine, form } = niftiAffine(h);
      const values = niftiValues(h, bytes);
      // Inside: the batch reads the affine's axis codes, which a damaged affine does not have.
      batch = volumeBatch(schema, {
        source: chunk.key, series: createHash('sha256').update(bytes).digest('hex').slice(0, 16), values, shape: [nz, ny, nx],
        spacing: [h.pixdim[3] ?? 1, h.pixdim[2] ?? 1, h.pixdim[1]].map((v) => (v > 0 ? v : 1)), affine,
        header: headerRecord(h, form),
      }, withSeries ? seriesData(0, 0, 0, timeOf(h, 0)) : []);
    } catch (error) {
      throw new InputError(chunk.key, messageOf(error));
    }
    yield batch;
  },
});

/** What the row's `header` keeps of the file's. */
function headerRecord(h: NiftiHeader, form: string): object {
  const perUnit = secondsPerTimeUnit(h.xyztUnits);
  const series = volumeCount(h) > 1 ? {
    tr: h.pixdim[4], time_unit: timeUnitName(h.xyztUnits), toffset: h.toffset, intent_code: h.intentCode,
    tr_s: perUnit === undefined ? null : h.pixdim[4] * (Number.isNaN(perUnit) ? 1 : perUnit), toffset_s: timeOf(h, 0),
  } : {};
  return { version: h.version, datatype: datatypes[h.datatype as keyof typeof datatypes][0], dims: h.dims, affine_from: form, qform_code: h.qformCode, sform_code: h.sformCode, scl_slope: h.sclSlope, scl_inter: h.sclInter, descrip: h.descrip, ...series };
}

const timeUnitName = (units: number) => ({ 0: 'unknown', 8: 's', 16: 'ms', 24: 'us', 32: 'Hz', 40: 'ppm', 48: 'rad/s' } as Record<number, string>)[units & 0x38] ?? 'unknown';

/**
 * Seconds from the start of volume `t`: toffset + t × TR (pixdim[4]) in xyzt_units' time unit; a
 * unit left unknown is taken as seconds (as FSL and nibabel's users do); null when dim 4 is no time.
 */
function timeOf(h: NiftiHeader, t: number): number | null {
  const perUnit = secondsPerTimeUnit(h.xyztUnits);
  if (perUnit === undefined) return null;
  const scale = Number.isNaN(perUnit) ? 1 : perUnit;
  const tr = Number.isFinite(h.pixdim[4]) ? h.pixdim[4] : 0;
  return ((Number.isFinite(h.toffset) ? h.toffset : 0) + t * tr) * scale;
}

function seriesData(volume: number, t: number, component: number, time: number | null): Data[] {
  const int = (v: number) => makeData({ type: new Int32(), length: 1, nullCount: 0, data: Int32Array.of(v) });
  const nullBitmap = time === null ? Uint8Array.of(0) : undefined;
  return [int(volume), int(t), int(component), makeData({ type: new Float64(), length: 1, nullCount: time === null ? 1 : 0, nullBitmap, data: Float64Array.of(time ?? 0) })];
}

/** A 4-D or 5-D file: its volumes one at a time, each a row; the series hash is the file's bytes'. */
async function* readSeries(chunk: NiftiChunk, schema: Schema) {
  const fail = (error: unknown) => (error instanceof InputError ? error : new InputError(chunk.key, messageOf(error)));
  let series: string;
  try {
    series = await fileHash(chunk.path);
  } catch (error) {
    throw fail(error);
  }
  const bytes = await maybeGunzip(await fileBytes(chunk.path, chunk.key), 0, true).catch((error) => { throw fail(error); });
  try {
    let h: NiftiHeader;
    let affine: number[];
    let form: string;
    try {
      h = await readNiftiHeader(bytes);
      ({ affine, form } = niftiAffine(h));
    } catch (error) {
      throw fail(error);
    }
    const [nx, ny = 1, nz = 1] = h.dims;
    const nt = h.dims[3] ?? 1;
    const voxels = nx * ny * nz;
    const volumeBytes = voxels * datatypes[h.datatype as keyof typeof datatypes][1];
    const count = volumeCount(h);
    const spacing = [h.pixdim[3] ?? 1, h.pixdim[2] ?? 1, h.pixdim[1]].map((v) => (v > 0 ? v : 1));
    const header = headerRecord(h, form);
    for (let v = 0; v < count; v++) {
      let batch;
      try {
        checkBudget(volumeBytes + voxels * 4, 'one volume');
        const stored = await bytes.read(h.voxOffset + v * volumeBytes, volumeBytes, `volume ${v} of ${count}`);
        const t = v % nt;
        batch = volumeBatch(schema, {
          source: chunk.key, series, values: decodeVoxels(h, stored, voxels), shape: [nz, ny, nx], spacing, affine, header,
        }, seriesData(v, t, Math.floor(v / nt), timeOf(h, t)));
      } catch (error) {
        throw fail(error);
      }
      yield batch;
    }
  } finally {
    await bytes.close();
  }
}

/** sha256 of a file's bytes (16 hex digits), read as a stream. */
async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  return hash.digest('hex').slice(0, 16);
}
