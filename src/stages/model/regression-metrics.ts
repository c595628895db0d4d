// `model.regression-metrics`: how far predictions are from what happened, over all rows in order:
//   MSE = mean (ŷ - y)²,  RMSE = √MSE,  MAE = mean |ŷ - y|,
//   MAPE = 100 · mean |ŷ - y| / |y| over rows with y ≠ 0 (how many is `mape_rows`),
//   directional accuracy = the share of rows where ŷ moved from the reference the way y did:
//     sign(ŷ - r) = sign(y - r), r the `reference` column (the last value known when predicting),
//     or without one the previous row's y (the first row then has no direction and is left out).
import { Field, Float64, Int64, Schema, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { isNumeric } from '../../arrow/types.ts';
import { requireColumnOf } from '../../workflow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';

const params = z.object({
  actual: z.string().min(1),
  predicted: z.string().min(1),
  reference: z.string().optional().describe('the value the prediction started from; default: the previous row\'s actual'),
}).strict();

const schema = new Schema([
  new Field('rows', new Int64(), false), new Field('mse', new Float64(), true), new Field('rmse', new Float64(), true),
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
    for (const column of [p.actual, p.predicted, ...(p.reference ? [p.reference] : [])]) requireColumnOf(input, column, isNumeric, 'a number');
    return schema;
  },
  scope: () => 'all',
  create(p) {
    const actual: number[] = [];
    const predicted: number[] = [];
    const reference: number[] = [];
    return {
      push(batch: RecordBatch) {
        for (let i = 0; i < batch.numRows; i++) {
          const values = [p.actual, p.predicted, ...(p.reference ? [p.reference] : [])].map((c) => batch.getChild(c)!.get(i));
          if (values.some((v) => v === null)) throw new Error(`row ${actual.length}: ${[p.actual, p.predicted, p.reference].filter(Boolean).join(', ')} must not be null`);
          actual.push(Number(values[0]));
          predicted.push(Number(values[1]));
          if (p.reference) reference.push(Number(values[2]));
        }
      },
      end() {
        const m = regressionMetrics(actual, predicted, p.reference ? reference : undefined);
        const int = (v: number) => vectorFromArray([BigInt(v)], new Int64()).data[0];
        const float = (v: number | null) => vectorFromArray([v], new Float64()).data[0];
        return makeBatch(schema, [int(m.rows), float(m.mse), float(m.rmse), float(m.mae), float(m.mape), int(m.mape_rows),
          float(m.directional_accuracy), int(m.direction_rows)], 1);
      },
    };
  },
});
