// `finance.split`: a chronological train / validation / test split. Rows must come in time order;
// the first `train` share of them are train, the next `validation` share validation, the rest
// test — so every validation and test row is later than every train row (no overlap, unlike a
// shuffled split, which lets a model learn from the future it is tested on).
import { Field, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { isScalar } from '../../arrow/values.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { holdRows } from '../../arrow/hold-rows.ts';

const params = z.object({
  time: z.string().min(1).describe('the column rows are ordered by (a timestamp or date)'),
  train: z.number().gt(0).lt(1),
  validation: z.number().min(0).lt(1).default(0),
}).strict().refine((p) => p.train + p.validation < 1, { message: 'train + validation must leave a share for test' });

/** Refuses rows whose `column` goes back in time, naming the first such row. */
export function requireTimeOrder(batch: RecordBatch, column: string): void {
  const time = batch.getChild(column)!;
  for (let i = 1; i < batch.numRows; i++) {
    if (Number(time.get(i)) < Number(time.get(i - 1))) throw new Error(`row ${i}: '${column}' goes back in time; sort by it first (table.sort)`);
  }
}

export const split = defineReduce({
  name: 'finance.split',
  kind: 'reduce',
  version: '1',
  description: "Chronological train/validation/test split by shares of the rows in time order; adds 'split'.",
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireColumnOf(input, p.time, isScalar, 'a timestamp, date or number');
    return withColumns(input, [new Field('split', new Utf8(), false)]);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input], outputSchema }) {
    return holdRows(input, 'all', (all) => {
      requireTimeOrder(all, p.time);
      const trainEnd = Math.round(p.train * all.numRows);
      const validationEnd = Math.round((p.train + p.validation) * all.numRows);
      const labels = Array.from({ length: all.numRows }, (_, i) => (i < trainEnd ? 'train' : i < validationEnd ? 'validation' : 'test'));
      return makeBatch(outputSchema, [...all.data.children, vectorFromArray(labels, new Utf8()).data[0]], all.numRows);
    });
  },
});
