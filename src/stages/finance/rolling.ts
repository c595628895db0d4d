// `finance.rolling`: rolling statistics over the last `window` rows of each partition, the row
// itself included and nothing after it (features from the past only). Null until `window` rows
// have been seen, and while a null lies in the window.
import { z } from 'zod';
import { defineReduce } from '../../workflow/stage.ts';
import { appendFloats, numbers, requireNumbers, withFloatColumns } from '../../arrow/added-columns.ts';

const stats = ['mean', 'std', 'min', 'max'] as const;
const params = z.object({
  columns: z.array(z.string().min(1)).min(1),
  window: z.number().int().min(2),
  stats: z.array(z.enum(stats)).min(1).default(['mean', 'std']).describe('mean, std (sample, n - 1), min, max'),
}).strict();

type Stat = (typeof stats)[number];

function statOf(values: Float64Array, stat: Stat): number {
  if (stat === 'min') return Math.min(...values);
  if (stat === 'max') return Math.max(...values);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (stat === 'mean') return mean;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
}

export const rolling = defineReduce({
  name: 'finance.rolling',
  kind: 'reduce',
  version: '1',
  description: 'Rolling mean, std, min and max over the last N rows of each partition (the row and those before it only).',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireNumbers(input, p.columns);
    return withFloatColumns(input, p.columns.flatMap((c) => p.stats.map((s) => `${c}_${s}_${p.window}`)));
  },
  scope: () => 'partition',
  create(p, { outputSchema }) {
    // The last `window` values of each column, oldest first.
    let recent = p.columns.map(() => [] as number[]);
    return {
      push(batch) {
        const out: Float64Array[] = [];
        p.columns.forEach((column, k) => {
          const values = numbers(batch, column);
          const perStat = p.stats.map(() => new Float64Array(batch.numRows));
          values.forEach((v, i) => {
            recent[k].push(v);
            if (recent[k].length > p.window) recent[k].shift();
            const window = Float64Array.from(recent[k]);
            const full = window.length === p.window && !window.some(Number.isNaN);
            p.stats.forEach((stat, s) => (perStat[s][i] = full ? statOf(window, stat) : NaN));
          });
          out.push(...perStat);
        });
        return appendFloats(batch, outputSchema, out);
      },
      endPartition() {
        recent = p.columns.map(() => []);
      },
    };
  },
});
