// `table.sort`: rows ordered by one or more columns, stably (equal keys keep their input order).
// It materialises its input: all rows of the scope (everything, or one partition) are held in
// memory, sorted, then emitted in batches of at most 65,536 rows.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { concatBatches } from '../../arrow/concat.ts';
import { sortIndices } from '../../arrow/compare.ts';
import { takeBatch } from '../../arrow/take.ts';
import { isScalar } from '../../arrow/values.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';

const OUTPUT_ROWS = 65_536;

const key = z.union([
  z.string().min(1),
  z.object({
    column: z.string().min(1),
    order: z.enum(['asc', 'desc']).default('asc').describe('asc (default) or desc'),
    nulls: z.enum(['first', 'last']).default('last').describe('Where nulls go, in either order (default last)'),
  }).strict(),
]);

const params = z.object({
  by: z.union([key, z.array(key).min(1)])
    .transform((by) => (Array.isArray(by) ? by : [by]).map((k) =>
      typeof k === 'string' ? { column: k, order: 'asc' as const, nulls: 'last' as const } : k))
    .describe('Sort keys, most significant first: a column name, or {column, order: asc|desc, nulls: first|last}'),
  scope: z.enum(['all', 'partition']).default('all')
    .describe('all (default): one sorted output; partition: each partition sorted on its own'),
}).strict();

export const sort = defineReduce({
  name: 'table.sort',
  kind: 'reduce',
  version: '1',
  description: 'Sorts rows by columns (stable; nulls last and NaN after numbers by default), holding all rows of the scope in memory.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    for (const k of p.by) requireColumnOf(input, k.column, isScalar, 'a scalar type (number, string, bool, date or timestamp)');
    return input;
  },
  scope: (p) => p.scope,
  create(p, { inputSchemas: [input] }) {
    const columns = p.by.map((k) => input.fields.findIndex((f) => f.name === k.column));
    let batches: RecordBatch[] = [];
    const flush = (): RecordBatch[] => {
      const all = concatBatches(input, batches);
      batches = [];
      if (all.numRows === 0) return [];
      const order = sortIndices(p.by.map((k, i) => ({
        data: all.data.children[columns[i]], descending: k.order === 'desc', nullsFirst: k.nulls === 'first',
      })), all.numRows);
      const out: RecordBatch[] = [];
      for (let start = 0; start < order.length; start += OUTPUT_ROWS) {
        out.push(takeBatch(all, order.subarray(start, start + OUTPUT_ROWS)));
      }
      return out;
    };
    return {
      push(batch) {
        if (batch.numRows > 0) batches.push(batch);
      },
      endPartition: () => (p.scope === 'partition' ? flush() : null),
      end: () => flush(),
    };
  },
});
