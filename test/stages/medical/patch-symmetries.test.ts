// medical.patch-symmetries and its cube symmetries, checked by index: a flip of one axis is that
// axis read backwards, symmetry 10 is the axial 90° rotation out[z][y][x] = in[z][x][n−1−y], the
// 16 symmetries are distinct and closed under composition (a group), and the stage keeps each row,
// follows it with distinct non-identity variants, repeats its draws however rows are batched.
import { Field, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../../src/arrow/tensor.ts';
import { cubeSymmetries, symmetric } from '../../../src/stages/medical/lib/cube-symmetries.ts';
import { patchSymmetries } from '../../../src/stages/medical/patch-symmetries.ts';

const n = 4;
const at = (z: number, y: number, x: number) => (z * n + y) * n + x;
const cube = (offset = 0) => Float32Array.from({ length: n ** 3 }, (_, i) => i + offset); // every value distinct

describe('cube symmetries', () => {
  test('single flips read one axis backwards; symmetry 10 is the axial 90° rotation; 8 the transpose', () => {
    const v = cube();
    const cases: [number, (z: number, y: number, x: number) => number][] = [
      [0, (z, y, x) => at(z, y, x)],
      [1, (z, y, x) => at(n - 1 - z, y, x)],
      [2, (z, y, x) => at(z, n - 1 - y, x)],
      [4, (z, y, x) => at(z, y, n - 1 - x)],
      [8, (z, y, x) => at(z, x, y)],
      [10, (z, y, x) => at(z, x, n - 1 - y)],
      [7, (z, y, x) => at(n - 1 - z, n - 1 - y, n - 1 - x)],
    ];
    for (const [s, source] of cases) {
      const out = symmetric(v, n, s);
      for (let z = 0; z < n; z++) for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) expect(out[at(z, y, x)], `symmetry ${s}`).toBe(v[source(z, y, x)]);
    }
    // four quarter turns are the identity
    let turned: Float32Array = v;
    for (let k = 0; k < 4; k++) turned = symmetric(turned, n, 10);
    expect(Array.from(turned)).toEqual(Array.from(v));
    expect(() => symmetric(v, n, 16)).toThrow(/0-15/);
  });

  test('the 16 are distinct and closed under composition', () => {
    const v = cube();
    const images = Array.from({ length: cubeSymmetries }, (_, s) => Array.from(symmetric(v, n, s)).join());
    expect(new Set(images).size).toBe(16);
    for (let a = 0; a < cubeSymmetries; a++) for (let b = 0; b < cubeSymmetries; b++) {
      expect(images).toContain(Array.from(symmetric(symmetric(v, n, a), n, b)).join());
    }
  });
});

const schema = new Schema([tensorField('patch', { shape: [n, n, n], kind: 'float32' }), new Field('name', new Utf8(), false)]);
const batchOf = (offsets: number[]): RecordBatch => {
  const values = new Float32Array(offsets.length * n ** 3);
  offsets.forEach((o, r) => values.set(cube(o * 1000), r * n ** 3));
  return makeBatch(schema, [tensorData(schema.fields[0], values, offsets.length), vectorFromArray(offsets.map((o) => `p${o}`), new Utf8()).data[0]], offsets.length);
};

async function run(batch: RecordBatch, params: object): Promise<RecordBatch> {
  const p = patchSymmetries.params.parse(params);
  const outputSchema = patchSymmetries.outputSchema({ params: p, inputs: [schema], baseDir: '.' });
  return (await patchSymmetries.create(p, { inputSchema: schema, outputSchema, baseDir: '.' }))(batch, { index: 0, key: '0' }) as RecordBatch;
}

describe('medical.patch-symmetries', () => {
  test('each row kept as variant 0, followed by distinct symmetric variants; draws repeat however batched', async () => {
    const copies = 5;
    const out = await run(batchOf([1, 2, 3]), { copies, seed: 7 });
    expect(out.numRows).toBe(18);
    expect(Array.from({ length: 18 }, (_, r) => out.getChild('variant')!.get(r))).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(out.getChild('name')!.get(8)).toBe('p2');
    const values = tensorValues(out, 'patch');
    const row = (r: number) => Array.from(values).slice(r * n ** 3, (r + 1) * n ** 3).join();
    for (let p = 0; p < 3; p++) {
      const original = cube((p + 1) * 1000);
      expect(row(p * 6)).toBe(Array.from(original).join());
      const all = Array.from({ length: cubeSymmetries }, (_, s) => Array.from(symmetric(original, n, s)).join());
      const variants = Array.from({ length: copies }, (_, c) => row(p * 6 + c + 1));
      expect(new Set(variants).size).toBe(copies);
      for (const variant of variants) expect(all.slice(1)).toContain(variant);
    }
    const alone = await run(batchOf([2]), { copies, seed: 7 });
    const aloneValues = Array.from(tensorValues(alone, 'patch')).join();
    expect(aloneValues).toBe(Array.from(values).slice(6 * n ** 3, 12 * n ** 3).join());
    const reseeded = await run(batchOf([2]), { copies, seed: 8 });
    expect(Array.from(tensorValues(reseeded, 'patch')).join()).not.toBe(aloneValues);
  });

  test('non-cubic tensors and an existing variant column are refused', () => {
    const flat = new Schema([tensorField('patch', { shape: [n, n, n + 1], kind: 'float32' })]);
    expect(() => patchSymmetries.outputSchema({ params: patchSymmetries.params.parse({ copies: 1 }), inputs: [flat], baseDir: '.' })).toThrow(/cubes/);
    expect(() => patchSymmetries.params.parse({ copies: 16 })).toThrow();
  });
});
