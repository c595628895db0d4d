// `model.naive-bayes`: a Gaussian naive Bayes classifier (e.g. up/down days from return patterns).
// Fitted on the rows whose `split` is `fit_on`: per class its share of the rows and, per feature,
// the mean and variance (maximum likelihood, plus 1e-9 × the largest feature variance, as
// scikit-learn smooths). Every row gets the class of highest posterior, `predicted`, and that
// posterior, `probability`:  log P(c | x) ∝ log P(c) + Σ_f log N(x_f; μ_cf, σ²_cf).
import { Field, Float64, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { numbers, requireNumbers, withColumns } from '../../arrow/added-columns.ts';
import { holdRows } from '../../arrow/hold-rows.ts';

const params = z.object({
  features: z.array(z.string().min(1)).min(1),
  label: z.string().min(1),
  split: z.string().min(1).default('split'),
  fit_on: z.string().min(1).default('train'),
}).strict();

export interface GaussianClass { label: string; prior: number; mean: number[]; variance: number[] }

export function fitGaussianNb(x: number[][], labels: string[]): GaussianClass[] {
  const classes = [...new Set(labels)].sort();
  const width = x[0].length;
  const overall = Array.from({ length: width }, (_, f) => {
    const values = x.map((r) => r[f]);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    return values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length;
  });
  const smoothing = 1e-9 * Math.max(...overall);
  return classes.map((label) => {
    const rows = x.filter((_, i) => labels[i] === label);
    const mean = Array.from({ length: width }, (_, f) => rows.reduce((a, r) => a + r[f], 0) / rows.length);
    const variance = mean.map((m, f) => rows.reduce((a, r) => a + (r[f] - m) ** 2, 0) / rows.length + smoothing);
    return { label, prior: rows.length / x.length, mean, variance };
  });
}

/** Log posteriors (unnormalised) of each class for one row. */
export const logJoint = (model: GaussianClass[], row: number[]) => model.map((c) =>
  Math.log(c.prior) + row.reduce((a, v, f) => a - 0.5 * Math.log(2 * Math.PI * c.variance[f]) - (v - c.mean[f]) ** 2 / (2 * c.variance[f]), 0));

export const naiveBayes = defineReduce({
  name: 'model.naive-bayes',
  kind: 'reduce',
  version: '1',
  description: "Gaussian naive Bayes fitted on the training rows; adds 'predicted' (class) and 'probability' to every row.",
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireNumbers(input, p.features);
    requireColumn(input, p.label);
    requireColumn(input, p.split);
    return withColumns(input, [new Field('predicted', new Utf8(), true), new Field('probability', new Float64(), true)]);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input], outputSchema }) {
    return holdRows(input, 'all', (all) => {
      const columns = p.features.map((c) => numbers(all, c));
      const rowOf = (i: number) => columns.map((c) => c[i]);
      const complete = (i: number) => columns.every((c) => !Number.isNaN(c[i]));
      const fit = Array.from({ length: all.numRows }, (_, i) => i).filter((i) =>
        all.getChild(p.split)!.get(i) === p.fit_on && complete(i) && all.getChild(p.label)!.get(i) !== null);
      if (fit.length === 0) throw new Error(`no complete row has ${p.split} = '${p.fit_on}' to fit on`);
      const model = fitGaussianNb(fit.map(rowOf), fit.map((i) => String(all.getChild(p.label)!.get(i))));
      const predicted: (string | null)[] = [];
      const probability: (number | null)[] = [];
      for (let i = 0; i < all.numRows; i++) {
        if (!complete(i)) {
          predicted.push(null);
          probability.push(null);
          continue;
        }
        const joint = logJoint(model, rowOf(i));
        const best = joint.indexOf(Math.max(...joint));
        const total = joint.reduce((a, j) => a + Math.exp(j - joint[best]), 0);
        predicted.push(model[best].label);
        probability.push(1 / total);
      }
      return makeBatch(outputSchema, [...all.data.children, vectorFromArray(predicted, new Utf8()).data[0], vectorFromArray(probability, new Float64()).data[0]], all.numRows);
    });
  },
});
