// `source.nifti`: NIfTI-1 and NIfTI-2 volumes (`.nii`, `.nii.gz`; either byte order) → one row
// each, in the volume row of volume-row.ts: values scaled by scl_slope/scl_inter as nibabel
// scales them (a slope of 0 or not finite means none), the affine as nibabel picks it (sform,
// else qform, else Analyze's), array axes [k, j, i] so voxel (i, j, k) is NIfTI's own.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Schema } from 'apache-arrow';
import { z } from 'zod';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { matchFiles } from '../../src/io/input-files.ts';
import { checkBudget, DEFLATE_MAX_RATIO, inflatePrefix } from '../../src/io/limits.ts';
import { datatypes, niftiAffine, niftiExtent, parseNiftiHeader, type NiftiHeader } from './header.ts';
import { volumeBatch, volumeFields } from '../../src/arrow/volume-row.ts';

const params = z.object({
  path: z.string().min(1).describe('a .nii or .nii.gz file or a glob; relative to the workflow folder'),
  missing: z.enum(['error', 'empty']).default('error').describe('no file matching: an error, or no rows (a workflow taking NIfTI or DICOM)'),
}).strict();

interface NiftiChunk extends Chunk { path: string; key: string }

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
  const [name, size] = datatypes[h.datatype as keyof typeof datatypes];
  const { voxels: count, end } = niftiExtent(h);
  const start = h.voxOffset;
  if (end > bytes.length) throw new Error(`the header promises ${count} voxels of ${size} bytes from byte ${start}; the file ends at ${bytes.length}`);
  checkBudget(count * 4, 'the volume');
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * size);
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
    return {
      schema: new Schema(volumeFields),
      partitions: files.map((f) => ({ key: f.key, file: f.path, bytes: f.bytes, chunks: (): NiftiChunk[] => [{ path: f.path, key: f.key, bytes: f.bytes }] })),
    };
  },
  async *read(raw, _p, { schema }) {
    const chunk = raw as NiftiChunk;
    let batch;
    try {
      const bytes = await niftiBytes(chunk.path);
      const h = parseNiftiHeader(bytes);
      if (h.dims.length > 3 && h.dims.slice(3).some((d) => d > 1)) throw new Error(`${h.dims.length}-D (${h.dims.join(' × ')}): only 3-D volumes are read`);
      const [nx, ny = 1, nz = 1] = h.dims;
      const { affine, form } = niftiAffine(h);
      const values = niftiValues(h, bytes);
      // Inside: the batch reads the affine's axis codes, which a damaged affine does not have.
      batch = volumeBatch(schema, {
        source: chunk.key, series: createHash('sha256').update(bytes).digest('hex').slice(0, 16), values, shape: [nz, ny, nx],
        spacing: [h.pixdim[3] ?? 1, h.pixdim[2] ?? 1, h.pixdim[1]].map((v) => (v > 0 ? v : 1)), affine,
        header: { version: h.version, datatype: datatypes[h.datatype as keyof typeof datatypes][0], dims: h.dims, affine_from: form, qform_code: h.qformCode, sform_code: h.sformCode, scl_slope: h.sclSlope, scl_inter: h.sclInter, descrip: h.descrip },
      });
    } catch (error) {
      throw new InputError(chunk.key, messageOf(error));
    }
    yield batch;
  },
});
