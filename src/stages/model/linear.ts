// `model.linear`: the linear-regression baseline every learned forecaster is reported beside.
// Ordinary least squares with an intercept on the feature column (a number, or a tensor whose
// values are the features), fitted on the rows whose `split` is `fit_on`, applied to every row:
// adds `prediction`. The normal equations get a ridge of 1e-9 × their mean diagonal, only so a
// constant feature cannot make them singular.
import { z } from 'zod';
import { solveHermitian } from '../../numeric/hermitian.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { appendFloats, featureRows, numbers, withFloatColumns } from '../../arrow/added-columns.ts';
import { holdRows } from '../../arrow/hold-rows.ts';

const params = z.object({
  input: z.string().min(1).describe('the features: a number column or a tensor column'),
  target: z.string().min(1),
  split: z.string().min(1).default('split'),
  fit_on: z.string().min(1).default('train'),
}).strict();

export const linear = defineReduce({
  name: 'model.linear',
  kind: 'reduce',
  version: '1',
  description: "Least-squares linear regression (with intercept) fitted on the training rows; adds 'prediction' to every row.",
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireColumn(input, p.input);
    requireColumn(input, p.target);
    requireColumn(input, p.split);
    return withFloatColumns(input, ['prediction']);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input], outputSchema }) {
    return holdRows(input, 'all', (all) => {
      const { x, width } = featureRows(all, p.input);
      const y = numbers(all, p.target);
      const n = width + 1; // the intercept is feature 0
      const a = new Float64Array(n * n);
      const b = new Float64Array(n);
      let fitted = 0;
      for (let r = 0; r < all.numRows; r++) {
        if (all.getChild(p.split)!.get(r) !== p.fit_on || Number.isNaN(y[r])) continue;
        const row = [1, ...x.subarray(r * width, (r + 1) * width)];
        if (row.some(Number.isNaN)) continue;
        fitted++;
        for (let i = 0; i < n; i++) {
          b[i] += row[i] * y[r];
          for (let j = 0; j < n; j++) a[i * n + j] += row[i] * row[j];
        }
      }
      if (fitted <= n) throw new Error(`${fitted} complete '${p.fit_on}' rows cannot fit ${n} coefficients`);
      let diagonal = 0;
      for (let i = 0; i < n; i++) diagonal += a[i * n + i] / n;
      for (let i = 0; i < n; i++) a[i * n + i] += 1e-9 * diagonal;
      const w = solveHermitian(n, a, new Float64Array(n * n), { re: b, im: new Float64Array(n) }).re;
      const prediction = Float64Array.from({ length: all.numRows }, (_, r) => {
        let sum = w[0];
        for (let i = 0; i < width; i++) sum += w[i + 1] * x[r * width + i];
        return sum;
      });
      return appendFloats(all, outputSchema, [prediction]);
    });
  },
});
