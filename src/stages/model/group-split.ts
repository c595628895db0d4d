// `model.group-split`: train / validation / test by group, so that no group (an active region, a
// patient) has rows on both sides. Groups are put in a seeded pseudo-random order (a hash of the
// seed and the group's value) and given out in that order: to train until it holds `train` of the
// rows, then to validation until `validation`, the rest to test. Adds 'split'.
import { createHash } from 'node:crypto';
import { Field, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { holdRows } from '../../arrow/hold-rows.ts';

const params = z.object({
  group: z.string().min(1).describe('the column whose values must not be split across train, validation and test'),
  train: z.number().gt(0).lt(1),
  validation: z.number().min(0).lt(1).default(0),
  seed: z.number().int().default(0),
}).strict().refine((p) => p.train + p.validation < 1, { message: 'train + validation must leave a share for test' });

export const groupSplit = defineReduce({
  name: 'model.group-split',
  kind: 'reduce',
  version: '1',
  description: "Train/validation/test split by whole groups (seeded), no group on two sides; adds 'split'.",
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireColumn(input, p.group);
    return withColumns(input, [new Field('split', new Utf8(), false)]);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input], outputSchema }) {
    return holdRows(input, 'all', (all) => {
      const keys = Array.from({ length: all.numRows }, (_, i) => JSON.stringify(all.getChild(p.group)!.get(i), (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
      const rows = new Map<string, number>();
      for (const k of keys) rows.set(k, (rows.get(k) ?? 0) + 1);
      const rank = (k: string) => createHash('sha256').update(`${p.seed}\0${k}`).digest('hex');
      const order = [...rows.keys()].sort((a, b) => (rank(a) < rank(b) ? -1 : 1));
      const side = new Map<string, string>();
      let taken = 0;
      for (const k of order) {
        side.set(k, taken < p.train * all.numRows ? 'train' : taken < (p.train + p.validation) * all.numRows ? 'validation' : 'test');
        taken += rows.get(k)!;
      }
      return makeBatch(outputSchema, [...all.data.children, vectorFromArray(keys.map((k) => side.get(k)!), new Utf8()).data[0]], all.numRows);
    });
  },
});
