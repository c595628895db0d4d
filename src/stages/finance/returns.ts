// `finance.returns`: period returns of price columns, row over the row before it in the same
// partition: simple (p_t / p_{t-1} - 1) or log (ln(p_t / p_{t-1})). The first row of a partition,
// and a row after a null or non-positive price, has no return (null).
import { z } from 'zod';
import { defineReduce } from '../../workflow/stage.ts';
import { appendFloats, numbers, requireNumbers, withFloatColumns } from '../../arrow/added-columns.ts';

const params = z.object({
  columns: z.array(z.string().min(1)).min(1).describe('price columns'),
  kind: z.enum(['simple', 'log']).default('log'),
}).strict();

const nameOf = (column: string, kind: string) => `${column}_${kind === 'log' ? 'log_return' : 'return'}`;

export const returns = defineReduce({
  name: 'finance.returns',
  kind: 'reduce',
  version: '1',
  description: 'Simple or log returns of price columns, each row over the previous row of its partition.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireNumbers(input, p.columns);
    return withFloatColumns(input, p.columns.map((c) => nameOf(c, p.kind)));
  },
  scope: () => 'partition',
  create(p, { outputSchema }) {
    let previous = p.columns.map(() => NaN);
    return {
      push(batch) {
        const out = p.columns.map((column, k) => {
          const prices = numbers(batch, column);
          return prices.map((price, i) => {
            const before = i === 0 ? previous[k] : prices[i - 1];
            if (!(before > 0) || !(price > 0)) return NaN;
            return p.kind === 'log' ? Math.log(price / before) : price / before - 1;
          });
        });
        if (batch.numRows > 0) previous = p.columns.map((c, k) => numbers(batch, c)[batch.numRows - 1] ?? previous[k]);
        return appendFloats(batch, outputSchema, out);
      },
      endPartition() {
        previous = p.columns.map(() => NaN);
      },
    };
  },
});
