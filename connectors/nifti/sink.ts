// `sink.nifti`: volume rows (source.dicom, source.nifti, medical stages) → NIfTI-1 files that
// nibabel reads with the row's affine: sform (code 2) always, qform (code 1) too when the affine is
// a rotation and zooms. `path` ending in `/` writes a file per partition (named after its input),
// `.nii.gz` (gzip, no timestamp: the same volume gives the same bytes) unless `gzip: false`; a
// path of one file takes one volume. Integer datatypes take rounded values and refuse any value
// outside their range, naming it: a cast never wraps (a mask of −1, HU into uint8).
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
      return {
        async write(batch) {
          for (let r = 0; r < batch.numRows; r++) {
            if (++written > 1) throw new Error(`${file.path}: a NIfTI file holds one volume; give a path ending in '/' for a file per partition`);
            const { values, shape } = volumeAt(batch, p.column, r);
            const bytes = Buffer.concat([niftiHeaderBytes([shape[2], shape[1], shape[0]], p.datatype, affineOf(batch, r), 'quiver'), encode(values, shape, p.datatype)]);
            await file.write(gzip ? gzipSync(bytes) : bytes);
          }
        },
        finish() {},
      };
    });
  },
});
