// model.group-split keeps every group on one side and comes close to the asked shares; another
// seed gives another assignment. model.features packs columns in order and refuses a missing value.
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { tensorValues } from '../../../src/arrow/tensor.ts';
import { features } from '../../../src/stages/model/features.ts';
import { groupSplit } from '../../../src/stages/model/group-split.ts';

const batch = (columns: Record<string, Float64Array>) => tableFromArrays(columns).batches[0] as unknown as RecordBatch;

async function split(rows: RecordBatch, seed: number): Promise<string[]> {
  const params = groupSplit.params.parse({ group: 'region', train: 0.6, validation: 0.2, seed });
  const outputSchema = groupSplit.outputSchema({ params, inputs: [rows.schema], baseDir: '.' });
  const reducer = groupSplit.create(params, { inputSchemas: [rows.schema], outputSchema, baseDir: '.' });
  reducer.push(rows, { input: 0, partition: { index: 0, key: '0' } });
  return [...((await reducer.end!()) as RecordBatch).getChild('split')!] as string[];
}

describe('model.group-split and model.features', () => {
  test('no group on two sides; shares within a group of the asked ones; the seed decides', async () => {
    // 100 groups of 1 to 9 rows.
    const region = Float64Array.from({ length: 500 }, (_, i) => Math.floor(Math.sqrt(i * 20)) % 100);
    const rows = batch({ region });
    const sides = await split(rows, 1);
    const sideOf = new Map<number, Set<string>>();
    region.forEach((g, i) => sideOf.set(g, (sideOf.get(g) ?? new Set()).add(sides[i])));
    expect([...sideOf.values()].every((s) => s.size === 1)).toBe(true);
    const share = (name: string) => sides.filter((s) => s === name).length / sides.length;
    const biggest = Math.max(...[...sideOf.keys()].map((g) => region.filter((r) => r === g).length)) / sides.length;
    expect(Math.abs(share('train') - 0.6)).toBeLessThanOrEqual(biggest);
    expect(Math.abs(share('validation') - 0.2)).toBeLessThanOrEqual(2 * biggest);
    expect(await split(rows, 2)).not.toEqual(sides);
    expect(await split(rows, 1)).toEqual(sides);
  });

  test('features: columns packed in order as float32; a null is refused by row and column', async () => {
    const rows = batch({ a: Float64Array.of(1, 2), b: Float64Array.of(10, 20) });
    const params = features.params.parse({ columns: ['b', 'a'] });
    const outputSchema = features.outputSchema({ params, inputs: [rows.schema], baseDir: '.' });
    const fn = await features.create(params, { inputSchema: rows.schema, outputSchema, baseDir: '.' });
    expect([...tensorValues((await fn(rows, { index: 0, key: '0' }))!, 'features')]).toEqual([10, 1, 20, 2]);
    await expect(async () => fn(batch({ a: Float64Array.of(1, NaN), b: Float64Array.of(1, 2) }), { index: 0, key: '0' })).rejects.toThrow("row 1: 'a' is null; every feature needs a number");
  });
});
