// source.nifti and sink.nifti against nibabel: the TotalSegmentator volumes as REFERENCE.json
// records them (nibabel 5: shape, affine, axis codes, scaled statistics), three files nibabel 5.0
// wrote here (NIfTI-2 with a rotated sform; big-endian int16 with only a qform and scl_slope 2,
// scl_inter −10; gzip with no form codes), and volumes written back reading the same.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { parseNiftiHeader, niftiAffine } from '../../../connectors/nifti/header.ts';
import { niftiBytes, niftiSource } from '../../../connectors/nifti/source.ts';
import { niftiSink } from '../../../connectors/nifti/sink.ts';
import { affineOf } from '../../../src/arrow/volume-row.ts';
import { volumeAt } from '../../../src/arrow/volume.ts';
import { axisCodes } from '../../../src/numeric/orientation.ts';
import { repoRoot, scratchDir, sharedData } from '../../helpers.ts';
import { expectStats, statsOf, type Stats } from '../../reference-stats.ts';
import { readSource, writeSink } from '../stage-harness.ts';

const data = sharedData('.');
interface NiftiReference { kind: 'nifti'; shape: number[]; dtype_on_disk: string; zooms: number[]; affine: number[][]; axcodes: string[]; scaled: Stats }
const reference = data ? JSON.parse(readFileSync(join(data, 'REFERENCE.json'), 'utf8')) as Record<string, NiftiReference> : {};
const niftiFiles = Object.keys(reference).filter((k) => reference[k].kind === 'nifti');
const fixtures = join(repoRoot, 'test', 'fixtures', 'nifti');
const nibabel = JSON.parse(readFileSync(join(fixtures, 'nibabel.json'), 'utf8')).files as Record<string, { shape: number[]; affine: number[][]; axcodes: string[]; sum: number; min: number; max: number; first: number[] }>;

async function readOne(path: string): Promise<RecordBatch> {
  const { partitions } = await readSource(niftiSource, { path }, repoRoot);
  return partitions[0].batches[0];
}

const expectAffine = (got: number[], want: number[][]) => want.flat().forEach((v, i) => expect(Math.abs(got[i] - v), `affine[${i}] ${got[i]} vs ${v}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));

describe.skipIf(!data)('source.nifti against nibabel (REFERENCE.json)', () => {
  test.each(niftiFiles)('%s', async (name) => {
    const ref = reference[name];
    const batch = await readOne(join(data!, name));
    const volume = volumeAt(batch, 'data', 0);
    expect(volume.shape).toEqual([...ref.shape].reverse()); // [k, j, i]: i fastest, as on disk
    expectAffine(affineOf(batch), ref.affine);
    expect(axisCodes(affineOf(batch))).toEqual(ref.axcodes);
    expect(Array.from(batch.getChild('spacing')!.get(0)!.toArray() as Float64Array)).toEqual([...ref.zooms].reverse());
    const header = JSON.parse(String(batch.getChild('header')!.get(0)));
    expect([header.datatype, header.orientation]).toEqual([ref.dtype_on_disk, ref.axcodes.join('')]);
    expectStats(volume.values, ref.scaled, name);
  });
});

describe('NIfTI variants nibabel wrote', () => {
  test.each(Object.keys(nibabel))('%s', async (name) => {
    const ref = nibabel[name];
    const batch = await readOne(join(fixtures, name));
    const volume = volumeAt(batch, 'data', 0);
    expect(volume.shape).toEqual([...ref.shape].reverse());
    expectAffine(affineOf(batch), ref.affine);
    expect(axisCodes(affineOf(batch))).toEqual(ref.axcodes);
    const s = statsOf(volume.values);
    for (const [got, want] of [[s.sum, ref.sum], [s.min, ref.min], [s.max, ref.max]]) expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
    // nibabel's first values in Fortran order (x fastest): our row-major [k, j, i] holds them first too.
    ref.first.forEach((v, i) => expect(volume.values[i]).toBeCloseTo(v, 5));
  });

  test('a file that is not NIfTI, and a truncated one, fail naming the file', async () => {
    const dir = scratchDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'text.nii'), 'not a volume at all'.repeat(30));
    writeFileSync(join(dir, 'short.nii'), readFileSync(join(fixtures, 'nifti2-sform.nii')).subarray(0, 700));
    await expect(readSource(niftiSource, { path: 'text.nii' }, dir)).rejects.toThrow('text.nii: sizeof_hdr is 544501614: not a NIfTI-1 (348) or NIfTI-2 (540) header');
    await expect(readSource(niftiSource, { path: 'short.nii' }, dir)).rejects.toThrow('short.nii: the header promises 60 voxels of 8 bytes from byte 544; the file ends at 700');
  });
});

describe.skipIf(!data)('sink.nifti', () => {
  test('the segmentation written as uint8 reads back voxel for voxel with the same affine, sform and qform set', async () => {
    const batch = await readOne(join(data!, 'medical/totalseg_example_seg.nii.gz'));
    const out = scratchDir();
    const [record] = await writeSink(niftiSink, { path: 'masks/', datatype: 'uint8' }, batch.schema, [[batch]], out, 'nii.gz');
    expect(record.path).toMatch(/masks\/part-0\.nii\.gz$/);
    const bytes = await niftiBytes(record.path);
    const header = parseNiftiHeader(bytes);
    expect([header.sformCode, header.qformCode, header.datatype]).toEqual([2, 1, 2]);
    // Both forms give the affine: nibabel takes the sform, other readers the qform.
    const qform = niftiAffine({ ...header, sformCode: 0 }).affine;
    expectAffine(qform, reference['medical/totalseg_example_seg.nii.gz'].affine.map((r) => r.map((v) => Math.fround(v))));
    const back = await readOne(record.path);
    expect(Array.from(volumeAt(back, 'data', 0).values)).toEqual(Array.from(volumeAt(batch, 'data', 0).values));
    expectAffine(affineOf(back), reference['medical/totalseg_example_seg.nii.gz'].affine.map((r) => r.map((v) => Math.fround(v))));
  });

  test('HU into uint8 is refused, naming the voxel, not wrapped', async () => {
    const batch = await readOne(join(data!, 'medical/totalseg_example_ct_sm.nii.gz'));
    await expect(writeSink(niftiSink, { path: 'ct.nii.gz', datatype: 'uint8' }, batch.schema, [[batch]], scratchDir(), 'nii.gz'))
      .rejects.toThrow('value -1024 at voxel (0, 0, 0) does not fit uint8 [0, 255]: window or clip it first, or write a wider type');
  });
});
