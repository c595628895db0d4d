// `finance.scale`: z-score or min-max scaling of columns, with constants fitted on the training
// rows only (the `split` column), so nothing about validation or test data leaks into the
// features. Adds `COL_scaled`, and `COL_center` / `COL_spread` (scaled = (x - center) / spread), so
// predictions can be turned back into price units.
import { z } from 'zod';
import { requireColumn } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { appendFloats, numbers, requireNumbers, withFloatColumns } from '../../arrow/added-columns.ts';
import { holdRows } from '../../arrow/hold-rows.ts';

const params = z.object({
  columns: z.array(z.string().min(1)).min(1),
  method: z.enum(['zscore', 'minmax']).default('zscore'),
  split: z.string().min(1).default('split'),
  fit_on: z.string().min(1).default('train').describe('the split value whose rows fit the constants'),
}).strict();

const outputs = (c: string) => [`${c}_scaled`, `${c}_center`, `${c}_spread`];

export const scale = defineReduce({
  name: 'finance.scale',
  kind: 'reduce',
  version: '1',
  description: 'Z-score or min-max scaling fitted on the training rows only; adds COL_scaled, COL_center, COL_spread.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireNumbers(input, p.columns);
    requireColumn(input, p.split);
    return withFloatColumns(input, p.columns.flatMap(outputs));
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input], outputSchema }) {
    return holdRows(input, 'all', (all) => {
      const fit = Array.from({ length: all.numRows }, (_, i) => all.getChild(p.split)!.get(i) === p.fit_on);
      if (!fit.some(Boolean)) throw new Error(`no row has ${p.split} = '${p.fit_on}' to fit the scaling on`);
      const columns = p.columns.flatMap((column) => {
        const x = numbers(all, column);
        const fitted = x.filter((v, i) => fit[i] && !Number.isNaN(v));
        let center: number;
        let spread: number;
        if (p.method === 'zscore') {
          center = fitted.reduce((a, b) => a + b, 0) / fitted.length;
          spread = Math.sqrt(fitted.reduce((a, v) => a + (v - center) ** 2, 0) / fitted.length);
        } else {
          center = Math.min(...fitted);
          spread = Math.max(...fitted) - center;
        }
        if (!(spread > 0)) throw new Error(`column '${column}' is constant on the ${p.fit_on} rows: it cannot be scaled`);
        return [x.map((v) => (v - center) / spread), new Float64Array(x.length).fill(center), new Float64Array(x.length).fill(spread)];
      });
      return appendFloats(all, outputSchema, columns);
    });
  },
});
