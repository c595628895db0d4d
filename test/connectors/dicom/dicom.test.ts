// source.dicom against pydicom (REFERENCE.json): every DICOM file of ../shared/data/medical read to
// the same stored values and HU; the same CT slice in six more transfer syntaxes (made with dcmtk
// 3.6.7: implicit VR, big endian, deflated, RLE, JPEG lossless SV1 and predictor 1) decoding to
// pydicom's numbers exactly, an 8-bit JPEG baseline to dcmtk's own decoding; series geometry
// (the TotalSegmentator slices' 2 mm stack, the GE head's 18.5° gantry tilt and uneven gaps); damaged
// and non-image files failing alone, by name; and no patient attribute in any output.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { dicomSource } from '../../../connectors/dicom/source.ts';
import { parseDicom } from '../../../connectors/dicom/dataset.ts';
import { pixelModule, storedValues } from '../../../connectors/dicom/pixels.ts';
import { volumeAt } from '../../../src/arrow/volume.ts';
import { repoRoot, sharedData } from '../../helpers.ts';
import { expectStats, statsOf, type Stats } from '../../reference-stats.ts';

const data = sharedData('.');
interface DicomReference { kind: 'dicom'; transfer_syntax: string; rows: number; columns: number; pixel_spacing: number[]; slice_thickness: number; rescale_slope: number; rescale_intercept: number; modality: string; image_position: number[]; raw: Stats; hu: Stats }
const reference = data ? JSON.parse(readFileSync(join(data, 'REFERENCE.json'), 'utf8')) as Record<string, DicomReference> : {};
const dicomFiles = Object.keys(reference).filter((k) => reference[k].kind === 'dicom');
const fixtures = join(repoRoot, 'test', 'fixtures', 'dicom');

async function read(path: string, extra: object = {}) {
  const p = dicomSource.params.parse({ path, ...extra });
  const { schema, partitions } = await dicomSource.discover(p, { baseDir: repoRoot });
  const out: { key: string; batch?: RecordBatch; error?: string }[] = [];
  for (const [index, partition] of partitions.entries()) {
    for (const chunk of await partition.chunks() as never[]) {
      try {
        for await (const batch of dicomSource.read(structuredClone(chunk), p, { schema, partition: { index, key: partition.key } })) out.push({ key: partition.key, batch });
      } catch (error) {
        out.push({ key: partition.key, error: (error as Error).message });
      }
    }
  }
  return out;
}

const numbers = (batch: RecordBatch, column: string) => Array.from(batch.getChild(column)!.get(0)!.toArray() as Float64Array);

describe.skipIf(!data)('source.dicom against pydicom (REFERENCE.json)', () => {
  test.each(dicomFiles)('%s', async (name) => {
    const ref = reference[name];
    const file = parseDicom(readFileSync(join(data!, name)));
    expect(file.transferSyntax).toBe(ref.transfer_syntax);
    const ds = file.dataset;
    expect([ds.number('Rows'), ds.number('Columns')]).toEqual([ref.rows, ref.columns]);
    expect(ds.numbers('PixelSpacing')).toEqual(ref.pixel_spacing);
    expect([ds.number('SliceThickness'), ds.number('RescaleSlope') ?? 1, ds.number('RescaleIntercept') ?? 0]).toEqual([ref.slice_thickness, ref.rescale_slope, ref.rescale_intercept]);
    expect(ds.string('Modality') ?? '').toBe(ref.modality);
    expect(ds.numbers('ImagePositionPatient') ?? [0, 0, 0]).toEqual(ref.image_position);
    expectStats(await storedValues(file, pixelModule(file)), ref.raw, `${name} stored`);
    const [row] = await read(join(data!, name));
    const volume = volumeAt(row.batch!, 'data', 0);
    expect(volume.shape).toEqual([1, ref.rows, ref.columns]);
    expectStats(volume.values, ref.hu, `${name} HU`);
  });
});

describe('transfer syntaxes', () => {
  const ct = data ? reference['medical/pydicom_CT_small.dcm'] : undefined;
  test.skipIf(!ct).each(['ct-implicit.dcm', 'ct-big.dcm', 'ct-deflated.dcm', 'ct-rle.dcm', 'ct-jpeg-ls1.dcm', 'ct-jpeg-lossless.dcm'])('%s decodes to pydicom\'s values of the original', async (name) => {
    const file = parseDicom(readFileSync(join(fixtures, name)));
    const stored = await storedValues(file, pixelModule(file));
    const got = statsOf(stored);
    expect([got.sum, got.min, got.max]).toEqual([ct!.raw.sum, ct!.raw.min, ct!.raw.max]);
    const [row] = await read(join(fixtures, name));
    expect(statsOf(volumeAt(row.batch!, 'data', 0).values).sum).toBe(ct!.hu.sum);
  });

  test('8-bit JPEG baseline (lossy) decodes as dcmtk decodes it', async () => {
    const expected = JSON.parse(readFileSync(join(fixtures, 'jpeg-baseline.json'), 'utf8'))['ct8-jpeg-baseline.dcm'];
    const file = parseDicom(readFileSync(join(fixtures, 'ct8-jpeg-baseline.dcm')));
    const values = await storedValues(file, pixelModule(file));
    // Two IDCTs (libjpeg-turbo here, IJG in dcmtk) may differ by one in a few pixels.
    Array.from(values.subarray(0, 16)).forEach((v, i) => expect(Math.abs(v - expected.first[i])).toBeLessThanOrEqual(1));
    expect(Math.abs(statsOf(values).sum - expected.sum) / expected.sum).toBeLessThan(1e-3);
  });
});

describe.skipIf(!data)('series', () => {
  test('the TotalSegmentator slices (JPEG 2000, no SeriesInstanceUID): one 5-slice volume, 2 mm apart, its affine the slices\' positions', async () => {
    const rows = await read(join(data!, 'medical/totalseg_example_ct_dicom/*.dcm'));
    expect(rows).toHaveLength(1);
    const { batch } = rows[0];
    const volume = volumeAt(batch!, 'data', 0);
    expect(volume.shape).toEqual([5, 512, 512]);
    expect(numbers(batch!, 'spacing')).toEqual([2, 0.9765625, 0.9765625]);
    const names = dicomFiles.filter((n) => n.includes('totalseg_example_ct_dicom'));
    expect(statsOf(volume.values).sum).toBe(names.reduce((a, n) => a + reference[n].hu.sum, 0));
    // Slice k at the k-th position from the bottom: LPS (x, y, z) → RAS (−x, −y, z).
    const affine = numbers(batch!, 'affine');
    const zs = names.map((n) => reference[n].image_position[2]).sort((a, b) => a - b);
    zs.forEach((z, k) => expect([affine[3], affine[7], affine[10] * k + affine[11]]).toEqual([249.51171875, 437.51171875, z]));
    const header = JSON.parse(String(batch!.getChild('header')!.get(0)));
    expect(header.assumed[0]).toMatch(/^series \(no SeriesInstanceUID/);
    expect(header.orientation).toBe('LPS'); // DICOM's patient axes, as the file stores the slices
  });

  test('the GE head (18.5° gantry tilt): a sheared affine through every slice\'s position; uneven gaps refused, or resampled', async () => {
    const names = ['12', '13', '14'].map((n) => `medical/dcm_qa_ct_GE_head/${n}.dcm`);
    const [even] = await read(join(data!, 'medical/dcm_qa_ct_GE_head/1[234].dcm'));
    expect(JSON.parse(String(even.batch!.getChild('header')!.get(0))).tilt_deg).toBeCloseTo(18.5, 4);
    const affine = numbers(even.batch!, 'affine');
    names.forEach((n, k) => {
      const [x, y, z] = reference[n].image_position;
      const at = [0, 1, 2].map((r) => affine[r * 4 + 2] * k + affine[r * 4 + 3]);
      [-x, -y, z].forEach((v, i) => expect(at[i]).toBeCloseTo(v, 6));
    });
    // 4.22 mm between positions, 4.22 × cos 18.5° along the slice normal.
    expect(numbers(even.batch!, 'spacing')[0]).toBeCloseTo(4.22 * Math.cos((18.5 * Math.PI) / 180), 4);

    const [uneven] = await read(join(data!, 'medical/dcm_qa_ct_GE_head/*.dcm'));
    expect(uneven.error).toMatch(/uneven slice spacing \(4\.002, 4\.002, 1\.081 mm between neighbours\): give uneven_spacing: resample/);
    const [resampled] = await read(join(data!, 'medical/dcm_qa_ct_GE_head/*.dcm'), { uneven_spacing: 'resample' });
    const volume = volumeAt(resampled.batch!, 'data', 0);
    expect(volume.shape).toEqual([9, 512, 512]); // 9.58 mm of stack at the 1.081-mm gap
    expect(statsOf(volume.values.subarray(0, 512 * 512)).sum).toBe(reference[names[0]].hu.sum); // slice 0 is 12.dcm itself
  });

  test('a damaged file, a text file and an image-less object fail alone, each naming itself and why', async () => {
    const rows = await read('data/medical/archive/inbox/*.dcm');
    expect(rows.map((r) => [r.key, r.error])).toEqual([
      ['data/medical/archive/inbox/notes.dcm', 'data/medical/archive/inbox/notes.dcm: not a DICOM Part 10 file: no "DICM" after the 128-byte preamble'],
      ['data/medical/archive/inbox/report.dcm', 'data/medical/archive/inbox/report.dcm: no PixelData: not an image (SOP class 1.2.840.10008.5.1.4.1.1.88.11)'],
      ['data/medical/archive/inbox/truncated.dcm', expect.stringMatching(/^data\/medical\/archive\/inbox\/truncated.dcm: truncated at byte \d+: the value of \(7FE0,0010\) \(32768 bytes\) runs past the end/)],
    ]);
  });

  test('no patient attribute in any output unless asked for', async () => {
    const [row] = await read(join(data!, 'medical/pydicom_CT_small.dcm'));
    const text = JSON.stringify(row.batch!.toArray().map((r) => Object.fromEntries(Object.entries(r.toJSON()).filter(([k]) => k !== 'data'))));
    for (const phi of ['CompressedSamples', '1CT1', '19040119', 'PatientName']) expect(text).not.toContain(phi);
    const [asked] = await read(join(data!, 'medical/pydicom_CT_small.dcm'), { attributes: ['PatientID', 'Rows'] });
    expect([asked.batch!.getChild('PatientID')!.get(0), asked.batch!.getChild('Rows')!.get(0)]).toEqual(['1CT1', '128']);
  });
});
