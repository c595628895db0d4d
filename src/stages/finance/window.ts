// `finance.window`: sequences for forecasting. For each row t of a partition with `length` rows
// up to it, a [length, features] tensor of the feature columns over rows t-length+1 .. t, the
// target column at row t + horizon (what is to be predicted), and the target at row t (`last`:
// the persistence forecast, and where direction is measured from). Inputs reach no later than t.
// A window or target with a missing value is not made; `split`, if present, is the target row's.
// With `live`, the last rows, whose target lies beyond the data, are made too (target null, split
// 'live'): the windows a forecast for the days to come is made from.
import { Field, Float64, makeData, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField } from '../../arrow/tensor.ts';
import { takeData } from '../../arrow/take.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { floatData, numbers, requireNumbers } from '../../arrow/added-columns.ts';
import { holdRows } from '../../arrow/hold-rows.ts';

const params = z.object({
  time: z.string().min(1),
  features: z.array(z.string().min(1)).min(1),
  target: z.string().min(1),
  length: z.number().int().min(1),
  horizon: z.number().int().min(1).default(1),
  carry: z.array(z.string().min(1)).default([]).describe('number columns to keep, as of row t (e.g. scaling constants, the price)'),
  live: z.boolean().default(false).describe('also make the windows whose target is still to come (target null)'),
}).strict();

export const slidingWindow = defineReduce({
  name: 'finance.window',
  kind: 'reduce',
  version: '1',
  description: 'Sliding windows of past feature rows as [length, features] tensors, with the target horizon rows ahead.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const time = requireColumn(input, p.time);
    requireNumbers(input, [...p.features, p.target, ...p.carry]);
    return new Schema([
      time,
      tensorField('window', { shape: [p.length, p.features.length], dimNames: ['step', 'feature'], kind: 'float32' }),
      new Field('last', new Float64(), false), new Field('target', new Float64(), p.live),
      ...p.carry.map((c) => new Field(c, new Float64(), true)),
      ...(input.fields.some((f) => f.name === 'split') ? [new Field('split', new Utf8(), false)] : []),
    ]);
  },
  scope: () => 'partition',
  create(p, { inputSchemas: [input], outputSchema }) {
    return holdRows(input, 'partition', (all) => {
      const features = p.features.map((c) => numbers(all, c));
      const target = numbers(all, p.target);
      const carried = p.carry.map((c) => numbers(all, c));
      const rows: number[] = [];
      const end = p.live ? all.numRows : all.numRows - p.horizon;
      for (let t = p.length - 1; t < end; t++) {
        const known = t + p.horizon < all.numRows;
        let complete = (!known || !Number.isNaN(target[t + p.horizon])) && !Number.isNaN(target[t]);
        for (let s = t - p.length + 1; complete && s <= t; s++) complete = features.every((f) => !Number.isNaN(f[s]));
        if (complete) rows.push(t);
      }
      const k = p.features.length;
      const values = new Float32Array(rows.length * p.length * k);
      rows.forEach((t, r) => {
        for (let s = 0; s < p.length; s++) for (let f = 0; f < k; f++) values[(r * p.length + s) * k + f] = features[f][t - p.length + 1 + s];
      });
      const at = Int32Array.from(rows);
      const ahead = Int32Array.from(rows, (t) => t + p.horizon);
      const float = (v: Float64Array) => makeData({ type: new Float64(), length: rows.length, nullCount: 0, data: v });
      const splitOf = (i: number) => (i < all.numRows ? String(all.getChild('split')!.get(i)) : 'live');
      return makeBatch(outputSchema, [
        takeData(all.getChild(p.time)!.data[0], at),
        tensorData(outputSchema.fields[1], values, rows.length),
        float(Float64Array.from(rows, (t) => target[t])),
        floatData(Float64Array.from(rows, (t) => (t + p.horizon < all.numRows ? target[t + p.horizon] : NaN))),
        ...carried.map((values) => floatData(Float64Array.from(rows, (t) => values[t]))),
        ...(outputSchema.fields.length > 4 + p.carry.length ? [vectorFromArray(Array.from(ahead, splitOf), new Utf8()).data[0]] : []),
      ], rows.length);
    });
  },
});
