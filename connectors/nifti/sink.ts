// `sink.nifti`: volume rows (source.dicom, source.nifti, medical stages) → NIfTI-1 files that
// nibabel reads with the row's affine: sform (code 2) always, qform (code 1) too when the affine is
// a rotation and zooms. `path` ending in `/` writes a file per partition (named after its input),
// `.nii.gz` (gzip, no timestamp: the same volume gives the same bytes) unless `gzip: false`; a
// path of one file takes one volume. Integer datatypes take rounded values and refuse any value
// outside their range, naming it: a cast never wraps (a mask of −1, HU into uint8).
// Rows of a 4-D or 5-D series (source.nifti's `volume` column, and `dims` in `header`) are written
// back as one file of that many volumes, one volume at a time, in `volume` order, with the TR
// (pixdim[4], seconds) and toffset; a .nii.gz is then a gzip member per volume (as valid gzip as one).
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { volumeAt, volumeInfo } from '../../src/arrow/volume.ts';
import { requireColumn } from '../../src/arrow/columns.ts';
import { defineSink } from '../../src/workflow/stage.ts';
import { fileSink, outputPath, partitionFiles } from '../../src/io/file-sink.ts';
import { datatypeCodes, datatypes, niftiHeaderBytes, type DatatypeName } from './header.ts';
import { affineOf } from '../../src/arrow/volume-row.ts';

const names = Object.keys(datatypeCodes) as [DatatypeName, ...DatatypeName[]];

const params = z.object({
  path: outputPath,
  column: z.string().min(1).default('data').describe('the volume column to write'),
  datatype: z.enum(names).default('float32'),
  gzip: z.boolean().default(true).describe('per-partition files: .nii.gz (true) or .nii'),
}).strict();

const ranges: Partial<Record<DatatypeName, [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], int16: [-32768, 32767], uint16: [0, 65535], int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1],
  int64: [-(2 ** 53), 2 ** 53], uint64: [0, 2 ** 53],
};

/** A volume's voxels in `datatype`, little-endian; throws on the first value the type cannot hold. */
function encode(values: ArrayLike<number>, shape: number[], datatype: DatatypeName): Uint8Array {
  const [, size] = datatypes[datatypeCodes[datatype] as keyof typeof datatypes];
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  const range = ranges[datatype];
  const write: Record<DatatypeName, (o: number, v: number) => void> = {
    uint8: (o, v) => view.setUint8(o, v), int8: (o, v) => view.setInt8(o, v), int16: (o, v) => view.setInt16(o, v, true), uint16: (o, v) => view.setUint16(o, v, true),
    int32: (o, v) => view.setInt32(o, v, true), uint32: (o, v) => view.setUint32(o, v, true), float32: (o, v) => view.setFloat32(o, v, true), float64: (o, v) => view.setFloat64(o, v, true),
    int64: (o, v) => view.setBigInt64(o, BigInt(v), true), uint64: (o, v) => view.setBigUint64(o, BigInt(v), true),
  };
  const put = write[datatype];
  const [, ny, nx] = shape;
  for (let n = 0; n < values.length; n++) {
    let v = values[n];
    if (range) {
      v = Math.round(v);
      if (!(v >= range[0] && v <= range[1])) {
        const voxel = [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))];
        throw new Error(`value ${values[n]} at voxel (${voxel.join(', ')}) does not fit ${datatype} [${range[0]}, ${range[1]}]: window or clip it first, or write a wider type`);
      }
    }
    put(n * size, v);
  }
  return out;
}

/** From a row's `header` JSON (source.nifti's record): the dimensions past the third and the time, for a series. */
function seriesOf(text: unknown): { dims: number[]; tr: number; toffset: number; intentCode: number } | undefined {
  if (typeof text !== 'string') return undefined;
  let record: { dims?: unknown; tr_s?: unknown; toffset_s?: unknown; intent_code?: unknown };
  try {
    record = JSON.parse(text);
  } catch {
    return undefined;
  }
  const dims = Array.isArray(record.dims) ? record.dims.slice(3).map(Number) : [];
  if (!(dims.length > 0 && dims.every((d) => Number.isInteger(d) && d >= 1) && dims.some((d) => d > 1))) return undefined;
  const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return { dims, tr: number(record.tr_s), toffset: number(record.toffset_s), intentCode: number(record.intent_code) };
}

export const niftiSink = defineSink({
  name: 'sink.nifti',
  kind: 'sink',
  version: '1',
  description: 'NIfTI-1 files (.nii.gz) of volume rows with their affine (sform and, when a rotation, qform); integer types never wrap.',
  params,
  check({ params: p, inputs: [input] }) {
    volumeInfo(input, p.column);
    requireColumn(input, 'affine');
  },
  partitionFiles: (p, partitions) => partitionFiles(p.path, p.gzip ? 'nii.gz' : 'nii', partitions),
  open(p, ctx) {
    const gzip = p.path.endsWith('/') ? p.gzip : p.path.endsWith('.gz');
    return fileSink(p.path, p.gzip ? 'nii.gz' : 'nii', ctx, (file) => {
      let written = 0;
      /** A series: how many volumes the header written says, and the first volume's shape. */
      let series: { count: number; shape: number[] } | undefined;
      return {
        async write(batch) {
          const volumeColumn = batch.getChild('volume');
          for (let r = 0; r < batch.numRows; r++) {
            const { values, shape } = volumeAt(batch, p.column, r);
            if (written === 0) {
              const time = volumeColumn ? seriesOf(batch.getChild('header')?.get(r)) : undefined;
              const dims = [shape[2], shape[1], shape[0], ...(time?.dims ?? [])];
              if (time) series = { count: time.dims.reduce((a, b) => a * b, 1), shape };
              const header = niftiHeaderBytes(dims, p.datatype, affineOf(batch, r), 'quiver', time);
              await file.write(gzip ? gzipSync(header) : header);
            } else if (!series) {
              throw new Error(`${file.path}: a NIfTI file holds one volume; give a path ending in '/' for a file per partition`);
            } else {
              if (shape.join() !== series.shape.join()) throw new Error(`${file.path}: volume ${written} is ${shape.join(' × ')}, unlike volume 0 (${series.shape.join(' × ')}): a series is of one shape`);
            }
            if (series) {
              const index = Number(volumeColumn!.get(r));
              if (index !== written) throw new Error(`${file.path}: row ${written} is volume ${index}: a series is written in volume order, every volume once`);
              if (written >= series.count) throw new Error(`${file.path}: more than the ${series.count} volumes its header declares`);
            }
            written++;
            const voxels = encode(values, shape, p.datatype);
            await file.write(gzip ? gzipSync(voxels) : voxels);
          }
        },
        finish() {
          if (series && written !== series.count) throw new Error(`${file.path}: ${written} of the ${series.count} volumes the series holds came: a NIfTI series is written whole`);
        },
      };
    });
  },
});
