// model.augment by what a transform must keep: the label stays registered with the image; a pure
// rotation keeps a disc's area; a mirror is exact; the noise has the sd asked for; contrast and
// offset follow their closed forms; and a row's
// variants are the same however the rows are batched, and change with the seed.
import { Field, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../../src/arrow/tensor.ts';
import { augment } from '../../../src/stages/model/augment.ts';

const n = 48;
const schema = new Schema([tensorField('image', { shape: [n, n], kind: 'float32' }), tensorField('label', { shape: [n, n], kind: 'float32' }), new Field('name', new Utf8(), false)]);

/** Rows of discs (radius r at cx, cy): image 100 inside plus a faint slope, label 1 inside. */
function discs(shapes: { cx: number; cy: number; r: number }[]): RecordBatch {
  const image = new Float32Array(shapes.length * n * n);
  const label = new Float32Array(image.length);
  shapes.forEach(({ cx, cy, r }, row) => {
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
      const inside = Math.hypot(x - cx, y - cy) <= r ? 1 : 0;
      image[row * n * n + y * n + x] = 100 * inside + 0.1 * x;
      label[row * n * n + y * n + x] = inside;
    }
  });
  return makeBatch(schema, [tensorData(schema.fields[0], image, shapes.length), tensorData(schema.fields[1], label, shapes.length),
    vectorFromArray(shapes.map((_, i) => `row${i}`), new Utf8()).data[0]], shapes.length);
}

async function augmented(batch: RecordBatch, params: object): Promise<RecordBatch> {
  const p = augment.params.parse(params);
  const outputSchema = augment.outputSchema({ params: p, inputs: [schema], baseDir: '.' });
  return (await augment.create(p, { inputSchema: schema, outputSchema, baseDir: '.' }))(batch, { index: 0, key: '0' }) as RecordBatch;
}

const rowOf = (values: ArrayLike<number>, row: number) => Array.from(values).slice(row * n * n, (row + 1) * n * n);

describe('model.augment', () => {
  test('each row kept as copy 0 and followed by its variants; the label stays on the image', async () => {
    const batch = discs([{ cx: 20, cy: 24, r: 9 }, { cx: 28, cy: 20, r: 6 }]);
    const out = await augmented(batch, { label: 'label', copies: 5, rotate_deg: 30, scale: [0.8, 1.2], shift: 0.1, seed: 3 });
    expect(out.numRows).toBe(12);
    expect(Array.from({ length: 12 }, (_, r) => out.getChild('copy')!.get(r))).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(out.getChild('name')!.get(7)).toBe('row1');
    const [image, label] = [tensorValues(out, 'image'), tensorValues(out, 'label')];
    expect(rowOf(image, 6)).toEqual(rowOf(tensorValues(batch, 'image'), 1));
    for (let r = 0; r < 12; r++) {
      const pixels = rowOf(image, r);
      const agree = rowOf(label, r).filter((l, i) => l === (pixels[i] > 50 ? 1 : 0)).length;
      expect(agree / (n * n)).toBeGreaterThan(0.99);
    }
    expect(rowOf(image, 1)).not.toEqual(rowOf(image, 0));
  });

  test('a rotation alone keeps a disc\'s area; a mirror alone is exact', async () => {
    const centred = discs([{ cx: 23.5, cy: 23.5, r: 12 }]);
    const area = (values: number[]) => values.filter((v) => v > 0.5).length;
    const rotated = await augmented(centred, { label: 'label', copies: 6, rotate_deg: 45, scale: [1, 1], shift: 0, mirror: false });
    for (let c = 1; c <= 6; c++) expect(Math.abs(area(rowOf(tensorValues(rotated, 'label'), c)) / area(rowOf(tensorValues(centred, 'label'), 0)) - 1)).toBeLessThan(0.02);

    const offCentre = discs([{ cx: 15, cy: 24, r: 6 }]);
    const original = rowOf(tensorValues(offCentre, 'image'), 0);
    const mirrored = Array.from({ length: n * n }, (_, i) => original[Math.floor(i / n) * n + (n - 1 - (i % n))]);
    const out = tensorValues(await augmented(offCentre, { copies: 8, rotate_deg: 0, scale: [1, 1], shift: 0, seed: 1 }), 'image');
    const kinds = Array.from({ length: 8 }, (_, c) => rowOf(out, c + 1)).map((v) => (String(v) === String(original) ? 'same' : String(v) === String(mirrored) ? 'mirrored' : 'other'));
    expect(new Set(kinds)).toEqual(new Set(['same', 'mirrored']));
  });

  test('noise has the sd asked for', async () => {
    const batch = discs([{ cx: 24, cy: 24, r: 10 }]);
    const out = tensorValues(await augmented(batch, { copies: 4, rotate_deg: 0, scale: [1, 1], shift: 0, mirror: false, noise: 5 }), 'image');
    const original = rowOf(out, 0);
    const differences = [1, 2, 3, 4].flatMap((c) => rowOf(out, c).map((v, i) => v - original[i]));
    const sd = Math.sqrt(differences.reduce((s, d) => s + d * d, 0) / differences.length);
    expect(Math.abs(sd / 5 - 1)).toBeLessThan(0.05); // 9216 draws: the sd's own error is about 0.7 %
  });

  test('contrast scales values about the image\'s mean; an offset shifts every value alike, within its bound', async () => {
    const batch = discs([{ cx: 24, cy: 24, r: 10 }]);
    const still = { rotate_deg: 0, scale: [1, 1], shift: 0, mirror: false };
    const original = rowOf(tensorValues(batch, 'image'), 0);
    const mean = original.reduce((a, v) => a + v, 0) / original.length;
    const doubled = rowOf(tensorValues(await augmented(batch, { copies: 1, ...still, gain: [2, 2] }), 'image'), 1);
    // One expect over every pixel (thousands): the pixels off by more than toBeCloseTo(…, 3) allows.
    expect(doubled.flatMap((v, i) => (Math.abs(v - (mean + 2 * (original[i] - mean))) < 5e-4 ? [] : [{ i, v }]))).toEqual([]);
    const shifted = tensorValues(await augmented(batch, { copies: 6, ...still, offset: 30 }), 'image');
    const shifts = [1, 2, 3, 4, 5, 6].map((c) => rowOf(shifted, c).map((v, i) => v - original[i]));
    for (const d of shifts) {
      expect(Math.abs(d[0])).toBeLessThanOrEqual(30);
      expect(d.flatMap((x, i) => (Math.abs(x - d[0]) < 5e-4 ? [] : [{ i, x }]))).toEqual([]);
    }
    expect(new Set(shifts.map((d) => d[0].toFixed(3))).size).toBe(6);
  });

  test('the same variants whatever the batching; others with another seed', async () => {
    const shapes = [{ cx: 20, cy: 24, r: 9 }, { cx: 28, cy: 20, r: 6 }];
    const params = { label: 'label', copies: 3, noise: 2, seed: 7 };
    const together = tensorValues(await augmented(discs(shapes), params), 'image');
    const apart = [...tensorValues(await augmented(discs([shapes[0]]), params), 'image'), ...tensorValues(await augmented(discs([shapes[1]]), params), 'image')];
    expect(Array.from(together)).toEqual(apart);
    const reseeded = tensorValues(await augmented(discs(shapes), { ...params, seed: 8 }), 'image');
    expect(Array.from(reseeded)).not.toEqual(Array.from(together));
  });
});
