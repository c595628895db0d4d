// Volumes to axial slices and back, by closed forms: a sphere phantom on a 0.7 × 0.7 × 2.5 mm grid
// keeps its mask through medical.slices and medical.stack; a checkerboard finer than the slice
// pixels averages to its mean (no aliasing); a disc's area comes out in mm² whatever the scanner's
// spacing; pixels beyond the volume are air; a volume missing a slice's prediction is an error.
import { Schema, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { volumeBatch, volumeFields } from '../../../src/arrow/volume-row.ts';
import { tensorValues } from '../../../src/arrow/tensor.ts';
import { volumeData } from '../../../src/arrow/volume.ts';
import { slices } from '../../../src/stages/medical/slices.ts';
import { stack } from '../../../src/stages/medical/stack.ts';
import { gridVolume, volumeColumn } from '../../../src/stages/medical/lib/volume-rows.ts';

const schema = new Schema([...volumeFields, volumeColumn('mask')]);

/** A volume row of dims [ni, nj, nk] at spacing [si, sj, sk] mm, values and mask from f(x, y, z) in mm from the centre. */
function volumeRow(dims: number[], spacing: number[], f: (x: number, y: number, z: number) => { value: number; inside: boolean }): RecordBatch {
  const [ni, nj, nk] = dims;
  const values = new Float32Array(ni * nj * nk);
  const mask = new Float32Array(values.length);
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) {
    const at = (n: number, a: number) => (n - (dims[a] - 1) / 2) * spacing[a];
    const { value, inside } = f(at(i, 0), at(j, 1), at(k, 2));
    values[(k * nj + j) * ni + i] = value;
    mask[(k * nj + j) * ni + i] = inside ? 1 : 0;
  }
  const shape = [nk, nj, ni];
  const affine = [spacing[0], 0, 0, 0, 0, spacing[1], 0, 0, 0, 0, spacing[2], 0, 0, 0, 0, 1];
  return volumeBatch(schema, { source: 'phantom', series: 'p1', values, shape, spacing: [spacing[2], spacing[1], spacing[0]], affine, header: {} },
    [volumeData(schema.fields[schema.fields.length - 1], [{ values: mask, shape }])]);
}

async function sliced(batch: RecordBatch, params: object) {
  const p = slices.params.parse(params);
  const outputSchema = slices.outputSchema({ params: p, inputs: [batch.schema], baseDir: '.' });
  return (await slices.create(p, { inputSchema: batch.schema, outputSchema, baseDir: '.' }))(batch, { index: 0, key: '0' }) as RecordBatch;
}

async function stacked(volumes: RecordBatch, predictions: RecordBatch, params: object) {
  const p = stack.params.parse(params);
  const outputSchema = stack.outputSchema({ params: p, inputs: [volumes.schema, predictions.schema], baseDir: '.' });
  const reducer = stack.create(p, { inputSchemas: [volumes.schema, predictions.schema], outputSchema, baseDir: '.' });
  await reducer.push(volumes, { input: 0, partition: { index: 0, key: 'v' } });
  await reducer.push(predictions, { input: 1, partition: { index: 0, key: 'p' } });
  return ((await reducer.end!()) as RecordBatch[])[0];
}

describe('medical.slices and medical.stack', () => {
  test('a sphere on a 0.7 × 0.7 × 2.5 mm grid keeps its mask through 1-mm slices and back', async () => {
    const radius = 20;
    const volume = volumeRow([80, 80, 24], [0.7, 0.7, 2.5], (x, y, z) => ({ value: 0, inside: Math.hypot(x, y, z) <= radius }));
    const rows = await sliced(volume, { size: 64, pixel_mm: 1, mask: 'mask' });
    expect(rows.numRows).toBe(24);
    expect(Array.from({ length: 24 }, (_, r) => rows.getChild('slice')!.get(r))).toEqual(Array.from({ length: 24 }, (_, k) => k));
    expect(rows.getChild('series')!.get(5)).toBe('p1');
    const back = await stacked(volume, rows, { column: 'label', name: 'stacked' });
    const [truth, got] = [gridVolume(volume, 0, 'mask').values, gridVolume(back, 0, 'stacked').values];
    let both = 0, a = 0, b = 0;
    truth.forEach((t, n) => ((both += t * got[n]), (a += t), (b += got[n])));
    expect((2 * both) / (a + b)).toBeGreaterThan(0.97);
    expect(Math.abs(b / a - 1)).toBeLessThan(0.03);
  });

  test('a checkerboard finer than the pixels averages to its mean: no aliasing', async () => {
    const volume = volumeRow([128, 128, 1], [0.625, 0.625, 1], (x, y) => ({ value: Math.abs(Math.round(x / 0.625 + 0.5) + Math.round(y / 0.625 + 0.5)) % 2, inside: false }));
    const image = tensorValues(await sliced(volume, { size: 16, pixel_mm: 4 }), 'image');
    expect([...image].filter((v) => !(Math.abs(v - 0.5) < 0.05))).toEqual([]);
  });

  test('a disc has its area in mm² at 0.5 mm and at 3 mm spacing; beyond the volume is its lowest value', async () => {
    for (const spacing of [0.5, 3]) {
      const n = Math.round(90 / spacing);
      const volume = volumeRow([n, n, 1], [spacing, spacing, 2], (x, y) => ({ value: Math.hypot(x, y) <= 30 ? 0 : -1000, inside: false }));
      const image = tensorValues(await sliced(volume, { size: 96, pixel_mm: 4 }), 'image');
      const area = Array.from(image).reduce((s, v) => s + (v + 1000) / 1000, 0) * 16;
      expect(Math.abs(area / (Math.PI * 30 ** 2) - 1)).toBeLessThan(0.03);
      expect(image[0]).toBe(-1000);
    }
  });

  test('a volume whose slices are not all predicted is refused, naming the slice', async () => {
    const volume = volumeRow([10, 10, 3], [1, 1, 1], () => ({ value: 0, inside: true }));
    const rows = await sliced(volume, { size: 16, pixel_mm: 1, mask: 'mask' });
    const two = rows.slice(0, 2);
    await expect(stacked(volume, two, { column: 'label', name: 'stacked' })).rejects.toThrow('series p1 (phantom) has no prediction for slice 2 of 3');
  });
});
