// `finance.refit-split`: the split for a model refitted once per calendar period (a scheduled
// forecast's retraining cadence). The period is the one (UTC) holding the latest row. Rows before
// it are what the model is fitted on: the last `validation` share of them 'validation', the rest
// 'train'. Rows inside it whose target has arrived are 'test' (out of sample for this period's
// model); rows whose target is still to come are 'live'. Every run within one period therefore
// sees the same 'train' and 'validation' rows, so `model.train` with `reuse` trains once per period.
import { Field, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { isScalar } from '../../arrow/values.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { numbers, requireNumbers, withColumns } from '../../arrow/added-columns.ts';
import { holdRows } from '../../arrow/hold-rows.ts';
import { requireTimeOrder } from './split.ts';

const periods = ['day', 'week', 'month', 'quarter', 'year'] as const;
type Period = (typeof periods)[number];

const params = z.object({
  time: z.string().min(1).describe('the column rows are ordered by (a timestamp or date)'),
  target: z.string().min(1).default('target').describe('null where the value to predict is still to come'),
  every: z.enum(periods).describe('how often the model is refitted: on the first run of each period'),
  validation: z.number().gt(0).lt(1).default(0.15).describe('share of the fitting rows, the latest, kept for early stopping'),
}).strict();

/** The start (UTC) of the period holding `ms`; weeks start on Monday. */
export function periodStart(ms: number, every: Period): number {
  const d = new Date(ms);
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  switch (every) {
    case 'day': return Date.UTC(y, m, day);
    case 'week': return Date.UTC(y, m, day - ((d.getUTCDay() + 6) % 7));
    case 'month': return Date.UTC(y, m, 1);
    case 'quarter': return Date.UTC(y, m - (m % 3), 1);
    case 'year': return Date.UTC(y, 0, 1);
  }
}

export const refitSplit = defineReduce({
  name: 'finance.refit-split',
  kind: 'reduce',
  version: '1',
  description: "Split for a model refitted each period: before the latest row's period train/validation, inside it test, target still to come live; adds 'split'.",
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireColumnOf(input, p.time, isScalar, 'a timestamp, date or number');
    requireNumbers(input, [p.target]);
    return withColumns(input, [new Field('split', new Utf8(), false)]);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input], outputSchema }) {
    return holdRows(input, 'all', (all) => {
      requireTimeOrder(all, p.time);
      const time = all.getChild(p.time)!;
      const target = numbers(all, p.target);
      const at = (i: number) => Number(time.get(i));
      const start = all.numRows > 0 ? periodStart(at(all.numRows - 1), p.every) : 0;
      const fitting: number[] = [];
      const labels = Array.from({ length: all.numRows }, (_, i): string => {
        if (Number.isNaN(target[i])) return 'live';
        if (at(i) >= start) return 'test';
        fitting.push(i);
        return 'train';
      });
      const validation = Math.round(p.validation * fitting.length);
      for (const i of fitting.slice(fitting.length - validation)) labels[i] = 'validation';
      return makeBatch(outputSchema, [...all.data.children, vectorFromArray(labels, new Utf8()).data[0]], all.numRows);
    });
  },
});
