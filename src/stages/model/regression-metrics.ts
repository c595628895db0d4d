// `model.regression-metrics`: how far predictions are from what happened, over all rows in order,
// one output row per predicted column (a model and its baselines side by side):
//   MSE = mean (ŷ - y)²,  RMSE = √MSE,  MAE = mean |ŷ - y|,
//   MAPE = 100 · mean |ŷ - y| / |y| over rows with y ≠ 0 (how many is `mape_rows`),
//   directional accuracy = the share of rows where ŷ moved from the reference the way y did:
//     sign(ŷ - r) = sign(y - r), r the `reference` column (the last value known when predicting),
//     or without one the previous row's y (the first row then has no direction and is left out).
import { Field, Float64, Int64, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { isNumeric } from '../../arrow/types.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';

const params = z.object({
  actual: z.string().min(1),
  predicted: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((p) => (Array.isArray(p) ? p : [p]))
    .describe('one column, or several (a row of metrics each)'),
  reference: z.string().optional().describe('the value the prediction started from; default: the previous row\'s actual'),
}).strict();

const schema = new Schema([
  new Field('predicted', new Utf8(), false), new Field('rows', new Int64(), false), new Field('mse', new Float64(), true), new Field('rmse', new Float64(), true),
  new Field('mae', new Float64(), true), new Field('mape', new Float64(), true), new Field('mape_rows', new Int64(), false),
  new Field('directional_accuracy', new Float64(), true), new Field('direction_rows', new Int64(), false),
]);

export interface RegressionMetrics {
  rows: number; mse: number | null; rmse: number | null; mae: number | null; mape: number | null; mape_rows: number;
  directional_accuracy: number | null; direction_rows: number;
}

export function regressionMetrics(actual: number[], predicted: number[], reference?: number[]): RegressionMetrics {
  const n = actual.length;
  let se = 0;
  let ae = 0;
  let ape = 0;
  let apeRows = 0;
  let same = 0;
  let directions = 0;
  for (let i = 0; i < n; i++) {
    const error = predicted[i] - actual[i];
    se += error * error;
    ae += Math.abs(error);
    if (actual[i] !== 0) {
      ape += Math.abs(error / actual[i]);
      apeRows++;
    }
    const from = reference ? reference[i] : i > 0 ? actual[i - 1] : undefined;
    if (from !== undefined) {
      directions++;
      if (Math.sign(predicted[i] - from) === Math.sign(actual[i] - from)) same++;
    }
  }
  const mean = (sum: number, count: number) => (count === 0 ? null : sum / count);
  const mse = mean(se, n);
  return {
    rows: n, mse, rmse: mse === null ? null : Math.sqrt(mse), mae: mean(ae, n), mape: apeRows ? (100 * ape) / apeRows : null,
    mape_rows: apeRows, directional_accuracy: mean(same, directions), direction_rows: directions,
  };
}

export const regressionMetricsStage = defineReduce({
  name: 'model.regression-metrics',
  kind: 'reduce',
  version: '1',
  description: 'MSE, RMSE, MAE, MAPE and directional accuracy of predictions against actual values.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    for (const column of [p.actual, ...p.predicted, ...(p.reference ? [p.reference] : [])]) requireColumnOf(input, column, isNumeric, 'a number');
    return schema;
  },
  scope: () => 'all',
  create(p) {
    const columns = [p.actual, ...p.predicted, ...(p.reference ? [p.reference] : [])];
    const values = columns.map(() => [] as number[]);
    return {
      push(batch: RecordBatch) {
        for (let i = 0; i < batch.numRows; i++) {
          const row = columns.map((c) => batch.getChild(c)!.get(i));
          if (row.some((v) => v === null)) throw new Error(`row ${values[0].length}: ${columns.join(', ')} must not be null`);
          row.forEach((v, k) => values[k].push(Number(v)));
        }
      },
      end() {
        const reference = p.reference ? values[columns.length - 1] : undefined;
        const all = p.predicted.map((name, k) => ({ name, ...regressionMetrics(values[0], values[k + 1], reference) }));
        const ints = (pick: (m: RegressionMetrics) => number) => vectorFromArray(all.map((m) => BigInt(pick(m))), new Int64()).data[0];
        const floats = (pick: (m: RegressionMetrics) => number | null) => vectorFromArray(all.map(pick), new Float64()).data[0];
        return makeBatch(schema, [vectorFromArray(all.map((m) => m.name), new Utf8()).data[0], ints((m) => m.rows), floats((m) => m.mse),
          floats((m) => m.rmse), floats((m) => m.mae), floats((m) => m.mape), ints((m) => m.mape_rows),
          floats((m) => m.directional_accuracy), ints((m) => m.direction_rows)], all.length);
      },
    };
  },
});
