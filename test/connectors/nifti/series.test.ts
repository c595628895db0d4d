// 4-D and 5-D NIfTI (issue 21): source.nifti gives a row per volume (`volume`, `t_index`,
// `component`, `time`), equal to nibabel 5 on five files nibabel wrote (test/fixtures/nifti/series,
// make.py: float32 LE, big-endian int16 with scl_slope/scl_inter and ms units in gzip, NIfTI-2
// uint8, a 5-D float64 vector field, a spectral dim 4 in Hz). expected.json holds what nibabel read
// from them, so the test asserts without python; with /usr/bin/python3 and nibabel every voxel is
// compared live, and sink.nifti's series written back are read by nibabel.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { niftiSink } from '../../../connectors/nifti/sink.ts';
import { niftiSource } from '../../../connectors/nifti/source.ts';
import { affineOf } from '../../../src/arrow/volume-row.ts';
import { volumeAt } from '../../../src/arrow/volume.ts';
import { repoRoot, scratchDir } from '../../helpers.ts';
import { readSource, writeSink } from '../stage-harness.ts';

const fixtures = join(repoRoot, 'test', 'fixtures', 'nifti', 'series');
interface Expected { shape: number[]; affine: number[][]; zooms: number[]; units: string[]; toffset: number; sum: number; min: number; max: number; first: number[]; last: number[]; volume_sums: (number | null)[] }
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')).files as Record<string, Expected>;
const hasNibabel = spawnSync('/usr/bin/python3', ['-c', 'import nibabel']).status === 0;
const scratch = scratchDir('quiver-nifti-series-');

/** Every row's voxels one after the other: the file's order (x fastest, volume by volume). */
const allValues = (batches: RecordBatch[]) => {
  const out: number[] = [];
  for (const b of batches) for (let r = 0; r < b.numRows; r++) out.push(...volumeAt(b, 'data', r).values);
  return out;
};
const column = (batches: RecordBatch[], name: string) => batches.flatMap((b) => [...b.getChild(name)!]);
const near = (a: number, b: number, relative = 1e-6) => Math.abs(a - b) <= relative * Math.max(1, Math.abs(b));

/** What nibabel reads from `path`: shape, zooms, units and every value in file order. */
function nibabelRead(path: string) {
  const script = `import json, sys, nibabel as nib
img = nib.load(sys.argv[1])
print(json.dumps({'shape': list(img.shape), 'zooms': [float(z) for z in img.header.get_zooms()], 'units': list(img.header.get_xyzt_units()),
  'affine': img.affine.tolist(), 'values': img.get_fdata().ravel(order='F').tolist()}))`;
  const run = spawnSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { shape: number[]; zooms: number[]; units: string[]; affine: number[][]; values: number[] };
}

describe('source.nifti on 4-D and 5-D files nibabel wrote', () => {
  for (const [name, want] of Object.entries(expected)) {
    test(name, async () => {
      const { schema, partitions: [{ batches }] } = await readSource(niftiSource, { path: name }, fixtures);
      expect(schema.fields.map((f) => f.name).slice(-4)).toEqual(['volume', 't_index', 'component', 'time']);
      const [nx, ny, nz, nt = 1, ...rest] = want.shape;
      const count = nt * rest.reduce((a, b) => a * b, 1);
      expect(batches.reduce((n, b) => n + b.numRows, 0)).toBe(count);
      for (const b of batches) for (let r = 0; r < b.numRows; r++) expect(volumeAt(b, 'data', r).shape).toEqual([nz, ny, nx]);
      expect(column(batches, 'volume')).toEqual(Array.from({ length: count }, (_, v) => v));
      expect(column(batches, 't_index')).toEqual(Array.from({ length: count }, (_, v) => v % nt));
      expect(column(batches, 'component')).toEqual(Array.from({ length: count }, (_, v) => Math.floor(v / nt)));
      // Time in seconds: toffset + t × TR in the file's time unit; none for a spectral axis; unknown taken as seconds.
      const perUnit = ({ sec: 1, msec: 1e-3, usec: 1e-6, unknown: 1 } as Record<string, number>)[want.units[1]];
      const times = column(batches, 'time');
      times.forEach((time, v) => (perUnit === undefined ? expect(time).toBeNull() : expect(near(time as number, (want.toffset + (v % nt) * want.zooms[3]) * perUnit)).toBe(true)));
      want.affine.flat().forEach((v, i) => expect(near(affineOf(batches[0])[i], v)).toBe(true));
      const values = allValues(batches);
      expect(values.length).toBe(want.shape.reduce((a, b) => a * b, 1));
      want.first.forEach((v, i) => expect(near(values[i], v), `voxel ${i}: ${values[i]} vs ${v}`).toBe(true));
      want.last.forEach((v, i) => expect(near(values[values.length - 3 + i], v)).toBe(true));
      expect(near(values.reduce((a, b) => a + b, 0), want.sum, 1e-5)).toBe(true);
      expect([Math.min(...values), Math.max(...values)].map((v, i) => near(v, [want.min, want.max][i]))).toEqual([true, true]);
      const header = JSON.parse(String(batches[0].getChild('header')!.get(0)));
      expect(header.dims).toEqual(want.shape);
      expect(near(header.tr, want.zooms[3])).toBe(true);
    });
  }

  test.skipIf(!hasNibabel)('every voxel equals live nibabel', async () => {
    for (const name of Object.keys(expected)) {
      const { partitions: [{ batches }] } = await readSource(niftiSource, { path: name }, fixtures);
      const values = allValues(batches);
      const nib = nibabelRead(join(fixtures, name));
      expect(values.length).toBe(nib.values.length);
      // quiver's volume rows are float32: nibabel's float64 rounded to float32.
      expect(values.every((v, i) => v === Math.fround(nib.values[i])), name).toBe(true);
    }
  });

  test('a 3-D file keeps the plain volume row; a 3-D and a 4-D file together: the 3-D one is volume 0', async () => {
    const one = await readSource(niftiSource, { path: '../nocode.nii.gz' }, fixtures);
    expect(one.schema.fields.map((f) => f.name)).not.toContain('volume');
    const dir = scratchDir();
    writeFileSync(join(dir, 'a.nii.gz'), readFileSync(join(fixtures, '..', 'nocode.nii.gz')));
    writeFileSync(join(dir, 'b.nii'), readFileSync(join(fixtures, 'fmri-f32.nii')));
    const both = await readSource(niftiSource, { path: '*.nii*' }, dir);
    expect(column(both.partitions[0].batches, 'volume')).toEqual([0]);
    expect(column(both.partitions[1].batches, 'volume')).toEqual([0, 1, 2, 3, 4]);
  });

  test('a series cut short fails naming the file and the volume, after the volumes it holds', async () => {
    const bytes = readFileSync(join(fixtures, 'fmri-f32.nii'));
    const dir = scratchDir();
    writeFileSync(join(dir, 'cut.nii'), bytes.subarray(0, 352 + 4 * 24 * 3 + 10));
    await expect(readSource(niftiSource, { path: 'cut.nii' }, dir)).rejects.toThrow(/cut\.nii: truncated: volume 3 of 5 needs bytes/);
  });
});

describe('sink.nifti writes series back', () => {
  for (const [name, gzip] of [['fmri-f32.nii', false], ['bold-i16-be-scaled.nii.gz', true], ['vector-5d-f64.nii.gz', true], ['uint8-nifti2.nii', false]] as const) {
    test(`${name} → ${gzip ? '.nii.gz' : '.nii'}: quiver${hasNibabel ? ' and nibabel' : ''} read the same volumes, TR and affine`, async () => {
      const { schema, partitions: [{ batches }] } = await readSource(niftiSource, { path: name }, fixtures);
      const out = join(scratch, name.replace(/\W/g, '-'));
      const [record] = await writeSink(niftiSink, { path: 'series/', gzip }, schema, [batches], out, gzip ? 'nii.gz' : 'nii');
      const back = await readSource(niftiSource, { path: record.path }, '.');
      const got = back.partitions[0].batches;
      expect(allValues(got)).toEqual(allValues(batches));
      // Written as NIfTI-1: TR and toffset in float32 seconds (a spectral axis's time: none, so 0).
      column(got, 'time').forEach((t, v) => expect(near(t as number, (column(batches, 'time')[v] as number | null) ?? 0)).toBe(true));
      expect(JSON.parse(String(got[0].getChild('header')!.get(0))).dims).toEqual(expected[name].shape);
      if (!hasNibabel) return;
      const nib = nibabelRead(record.path);
      expect(nib.shape).toEqual(expected[name].shape);
      expect(nib.values.every((v, i) => Math.fround(v) === allValues(batches)[i])).toBe(true);
      const seconds = ({ sec: 1, msec: 1e-3, unknown: 1 } as Record<string, number>)[expected[name].units[1]];
      expect(near(nib.zooms[3], expected[name].zooms[3] * seconds)).toBe(true);
      expect(nib.units).toEqual(['mm', 'sec']);
      nib.affine.flat().forEach((v, i) => expect(near(v, expected[name].affine.flat()[i], 1e-5)).toBe(true));
    });
  }

  test('a series missing volumes is refused, naming how many came', async () => {
    const { schema, partitions: [{ batches }] } = await readSource(niftiSource, { path: 'fmri-f32.nii' }, fixtures);
    const some = batches.map((b) => b.slice(0, 1)).slice(0, 1);
    await expect(writeSink(niftiSink, { path: 'x/', gzip: false }, schema, [some], scratchDir(), 'nii')).rejects.toThrow(/1 of the 5 volumes the series holds came/);
  });
});
