// Which split a simulated item falls in: the items (CPIs, scenes, samples of a class) are cut in
// their order by the split's fractions, so a split never mixes seeds and is the same for any
// partitioning.
import { z } from 'zod';

export const splitFractions = (defaults: { train: number; validation: number; test: number }, of: string) =>
  z.object({ train: z.number().min(0), validation: z.number().min(0), test: z.number().min(0) }).strict()
    .default(defaults).describe(`fractions of ${of}, in order`);
export type SplitFractions = z.output<ReturnType<typeof splitFractions>>;

/** 'train', 'validation' or 'test' for item `index` of `count`. */
export function splitOf(split: SplitFractions, index: number, count: number): string {
  const total = split.train + split.validation + split.test;
  const at = ((index + 0.5) / count) * total;
  return at < split.train ? 'train' : at < split.train + split.validation ? 'validation' : 'test';
}
