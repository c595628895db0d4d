// Calibration by hand-built frames whose truth is known: a bias with a column pattern, dark
// current per second, a flat with a vignetting ramp, a sky; cosmic rays in single frames. The
// masters must come back without the cosmic rays and the calibrated frame must be the sky.
import { Field, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../../src/arrow/tensor.ts';
import { Random } from '../../../src/numeric/random.ts';
import { calibrate } from '../../../src/stages/astro/calibrate.ts';
import { combine } from '../../../src/stages/astro/combine.ts';
import type { ReduceStage } from '../../../src/workflow/stage.ts';

const ny = 20;
const nx = 30;
const schema = new Schema([tensorField('data', { shape: [ny, nx], kind: 'float64' }), new Field('header', new Utf8(), false)]);
const frame = (values: Float64Array, exptime: number): RecordBatch =>
  makeBatch(schema, [tensorData(schema.fields[0], values, 1), vectorFromArray([JSON.stringify({ EXPTIME: exptime })], new Utf8()).data[0]], 1);

const bias = Float64Array.from({ length: ny * nx }, (_, i) => 500 + 3 * (i % nx));
const darkPerSecond = Float64Array.from({ length: ny * nx }, (_, i) => 0.2 + 0.01 * Math.floor(i / nx));
const flat = Float64Array.from({ length: ny * nx }, (_, i) => 0.8 + 0.4 * (i % nx) / nx);
const sky = Float64Array.from({ length: ny * nx }, (_, i) => 100 + Math.floor(i / nx));

async function runReduce(stage: ReduceStage, raw: unknown, inputs: RecordBatch[][]): Promise<RecordBatch[]> {
  const params = stage.params.parse(raw);
  const inputSchemas = inputs.map((b) => b[0].schema);
  const outputSchema = stage.outputSchema({ params, inputs: inputSchemas, baseDir: '.' });
  const reducer = stage.create(params, { inputSchemas, outputSchema, baseDir: '.' });
  const out: RecordBatch[] = [];
  const order = [...(stage.buildInputs?.(params) ?? []), ...inputs.keys()].filter((v, i, a) => a.indexOf(v) === i);
  for (const input of order) for (const b of inputs[input]) {
    const e = await reducer.push(b, { input, partition: { index: 0, key: '0' } });
    if (e) out.push(e as RecordBatch);
  }
  const e = await reducer.end?.();
  if (e) out.push(e as RecordBatch);
  return out;
}

describe('astro.combine and astro.calibrate', () => {
  test('masters without cosmic rays; calibrated frames equal the sky', async () => {
    const random = new Random(8);
    const noisy = (f: (i: number) => number, hit: boolean) => Float64Array.from({ length: ny * nx }, (_, i) => f(i) + random.normal() + (hit && i === 77 ? 5000 : 0));
    const biases = Array.from({ length: 9 }, (_, k) => frame(noisy((i) => bias[i], k === 3), 0));
    const darks = Array.from({ length: 9 }, (_, k) => frame(noisy((i) => bias[i] + darkPerSecond[i] * 300, k === 5), 300));
    const flats = Array.from({ length: 9 }, (_, k) => frame(noisy((i) => bias[i] + flat[i] * (20000 + 1000 * k), k === 1), 0));
    const [masterBias] = await runReduce(combine, {}, [biases]);
    expect(Math.max(...tensorValues(masterBias, 'data').map((v, i) => Math.abs(v - bias[i])))).toBeLessThan(2);
    // Darks and flats have the bias taken off first.
    const debiasedDarks = (await Promise.all(darks.map((d) => runReduce(calibrate, { masters: ['bias'] }, [[d], [masterBias]])))).flat();
    const [masterDark] = await runReduce(combine, { per_second: true }, [debiasedDarks]);
    expect(Math.max(...tensorValues(masterDark, 'data').map((v, i) => Math.abs(v - darkPerSecond[i])))).toBeLessThan(0.01);
    const debiasedFlats = (await Promise.all(flats.map((f) => runReduce(calibrate, { masters: ['bias'] }, [[f], [masterBias]])))).flat();
    const [masterFlat] = await runReduce(combine, { normalise: 'median' }, [debiasedFlats]);
    const sorted = [...flat].sort((a, b) => a - b);
    const flatMedian = (sorted[(ny * nx) / 2 - 1] + sorted[(ny * nx) / 2]) / 2;
    expect(Math.max(...tensorValues(masterFlat, 'data').map((v, i) => Math.abs(v - flat[i] / flatMedian)))).toBeLessThan(2e-3);

    const science = frame(Float64Array.from({ length: ny * nx }, (_, i) => bias[i] + darkPerSecond[i] * 60 + (flat[i] / flatMedian) * sky[i]), 60);
    const [calibrated] = await runReduce(calibrate, { masters: ['bias', 'dark', 'flat'] }, [[science], [masterBias], [masterDark], [masterFlat]]);
    const error = tensorValues(calibrated, 'data').map((v, i) => (v - sky[i]) / sky[i]);
    expect(Math.max(...error.map(Math.abs))).toBeLessThan(0.01);
  });

  test('a master of another shape, or masters and inputs that do not agree, are refused by name', () => {
    const other = new Schema([tensorField('data', { shape: [ny, nx + 1], kind: 'float64' }), new Field('header', new Utf8(), false)]);
    const params = calibrate.params.parse({ masters: ['flat'] });
    expect(() => calibrate.outputSchema({ params, inputs: [schema, other], baseDir: '.' })).toThrow('the flat master is 20×31, the frames 20×30');
    expect(() => calibrate.outputSchema({ params: calibrate.params.parse({ masters: ['bias', 'flat'] }), inputs: [schema, schema], baseDir: '.' })).toThrow("'masters' names 2 masters but 'from' gives 1");
  });
});
