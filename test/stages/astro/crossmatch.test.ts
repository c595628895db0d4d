// astro.crossmatch against brute force: every left source's nearest right source within the
// radius, found by comparing with all of them, over skies that cross RA 0/360 and a pole.
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { Random } from '../../../src/numeric/random.ts';
import { crossmatch, separationArcsec } from '../../../src/stages/astro/crossmatch.ts';

const unit = (ra: number, dec: number) => [Math.cos((dec * Math.PI) / 180) * Math.cos((ra * Math.PI) / 180), Math.cos((dec * Math.PI) / 180) * Math.sin((ra * Math.PI) / 180), Math.sin((dec * Math.PI) / 180)];
const batch = (columns: Record<string, Float64Array>) => tableFromArrays(columns).batches[0] as unknown as RecordBatch;

async function match(left: RecordBatch, right: RecordBatch, raw: Record<string, unknown>) {
  const params = crossmatch.params.parse(raw);
  const outputSchema = crossmatch.outputSchema({ params, inputs: [left.schema, right.schema], baseDir: '.' });
  const reducer = crossmatch.create(params, { inputSchemas: [left.schema, right.schema], outputSchema, baseDir: '.' });
  reducer.push(right, { input: 1, partition: { index: 0, key: 'r' } });
  return (await reducer.push(left, { input: 0, partition: { index: 0, key: 'l' } })) as RecordBatch;
}

describe('astro.crossmatch', () => {
  test('the same pairs as brute force, around RA 0/360 and the north pole', async () => {
    const random = new Random(4);
    for (const [centreRa, centreDec] of [[0, 10], [180, 89.99]]) {
      const sky = (n: number) => {
        const ra = Float64Array.from({ length: n }, () => (centreRa + (random.uniform() - 0.5) * 0.2 + 360) % 360);
        const dec = Float64Array.from({ length: n }, () => Math.min(90, centreDec + (random.uniform() - 0.5) * 0.2));
        return { ra, dec, id: Float64Array.from({ length: n }, (_, i) => i) };
      };
      const left = sky(400);
      const right = sky(500);
      const radius = 20;
      const out = await match(batch(left), batch(right), { radius_arcsec: radius });
      expect(out.numRows).toBe(400);
      for (let i = 0; i < 400; i++) {
        let best = -1;
        let bestSep = Infinity;
        for (let j = 0; j < 500; j++) {
          const sep = separationArcsec(unit(left.ra[i], left.dec[i]), unit(right.ra[j], right.dec[j]));
          if (sep <= radius && sep < bestSep) [best, bestSep] = [j, sep];
        }
        const got = out.getChild('match_id')!.get(i);
        expect(got === null ? -1 : got, `left ${i}`).toBe(best);
        if (best >= 0) expect(out.getChild('separation_arcsec')!.get(i)).toBeCloseTo(bestSep, 9);
      }
    }
  });

  test('keep: matched drops the rows without a match; separations are exact at small angles', async () => {
    const left = batch({ ra: Float64Array.of(10, 10), dec: Float64Array.of(20, 21) });
    const right = batch({ ra: Float64Array.of(10 + 1 / 3600 / Math.cos((20 * Math.PI) / 180)), dec: Float64Array.of(20) });
    const out = await match(left, right, { radius_arcsec: 2, keep: 'matched' });
    expect(out.numRows).toBe(1);
    expect(out.getChild('separation_arcsec')!.get(0)).toBeCloseTo(1, 6);
  });
});
