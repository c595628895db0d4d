// `medical.insert-nodules`: SIMULATED lung nodules written into real CT volumes (lib/nodules.ts:
// solid and part-solid, log-uniform diameters, realistic HU, partial volume), for training and
// scoring nodule detectors where no annotated nodules are at hand. Each input row (a HU volume with
// a lung mask, e.g. from medical.lung-mask) becomes `copies` rows, each with its own `count`
// nodules drawn from `seed` and the copy number. `side` keeps the nodules to one lung (left or
// right of the mask's centroid), so a detector can be trained on one side and tested on the other.
// Replaces `data`; adds `copy`, `region` (the lung mask on that side: where nodules are and where a
// detector should look) and `nodules`, the truth as JSON (medical.nodule-truth makes it rows).
import { Field, Int32, makeData, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { takeBatch } from '../../arrow/take.ts';
import { volumeData } from '../../arrow/volume.ts';
import { Random } from '../../numeric/random.ts';
import { defineMap } from '../../workflow/stage.ts';
import { depthInside, drawNodules, implant, noduleKinds, sideOf, type VoxelGrid } from './lib/nodules.ts';
import { gridVolume, requireVolumes, volumeColumn } from './lib/volume-rows.ts';

const params = z.object({
  count: z.number().int().min(1).default(3).describe('nodules in each copy'),
  copies: z.number().int().min(1).default(1).describe('volumes made from each input row, each with its own nodules'),
  diameter_mm: z.tuple([z.number().positive(), z.number().positive()]).default([3, 30]).refine(([a, b]) => a <= b, { message: 'diameter_mm: the first must not exceed the second' })
    .describe('smallest and largest diameter (log-uniform between)'),
  kinds: z.array(z.enum(noduleKinds)).min(1).default(['solid', 'part-solid']),
  side: z.enum(['both', 'left', 'right']).default('both').describe("the lung the nodules go in ('left': the patient's left, RAS x above the mask's centroid)"),
  edge_mm: z.number().min(0).default(0.7).describe('the Gaussian blur of the nodule edge'),
  noise_hu: z.number().min(0).default(15).describe('texture inside the nodule (standard deviation)'),
  fit_mm: z.number().min(0).default(6).describe('centres lie at least min(radius, fit_mm) inside the lung mask: larger nodules may touch the pleura'),
  seed: z.number().int().default(0),
  mask: z.string().min(1).default('mask').describe('the lung mask column'),
}).strict();

type Params = z.output<typeof params>;

/** `copies` copies of a volume with nodules: each one's values, search region and truth. */
export function insertNodules(values: Float32Array, lung: Float32Array, grid: VoxelGrid, p: Params, copies: number[]) {
  const mask = Uint8Array.from(lung, (m) => (m > 0.5 ? 1 : 0));
  const region = sideOf(mask, grid, p.side);
  const depth = depthInside(mask, grid);
  const options = { count: p.count, diameterMm: p.diameter_mm, kinds: p.kinds, edgeMm: p.edge_mm, noiseHu: p.noise_hu, fitMm: p.fit_mm };
  return copies.map((copy) => {
    const random = new Random((p.seed * 7919 + copy * 104729) >>> 0);
    const nodules = drawNodules(region, depth, grid, options, random);
    const out = values.slice();
    for (const nodule of nodules) implant(out, grid, nodule, options, random);
    return { values: out, region: Float32Array.from(region), nodules };
  });
}

export const insertNodulesStage = defineMap({
  name: 'medical.insert-nodules',
  kind: 'map',
  version: '1',
  description: 'Writes SIMULATED solid and part-solid nodules (3-30 mm, realistic HU) into CT volumes inside the lung mask; `copies` rows a volume, truth in `nodules`.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireVolumes(input, 'data');
    requireVolumes(input, p.mask);
    return withColumns(input, [new Field('copy', new Int32(), false), volumeColumn('region'), new Field('nodules', new Utf8(), false)]);
  },
  create(p, { outputSchema }) {
    return (batch: RecordBatch) => {
      const rows = Int32Array.from({ length: batch.numRows * p.copies }, (_, n) => Math.floor(n / p.copies));
      const copies = Int32Array.from(rows, (_, n) => n % p.copies);
      const numbers = Array.from({ length: p.copies }, (_, c) => c);
      const made = Array.from({ length: batch.numRows }, (_, r) => {
        const v = gridVolume(batch, r, 'data');
        const grid = { dims: [v.shape[2], v.shape[1], v.shape[0]], spacing: [v.spacing[2], v.spacing[1], v.spacing[0]], affine: v.affine };
        return insertNodules(v.values, gridVolume(batch, r, p.mask).values, grid, p, numbers).map((copy) => ({ shape: v.shape, ...copy }));
      }).flat();
      const repeated = takeBatch(batch, rows);
      const children = [...repeated.data.children];
      const data = batch.schema.fields.findIndex((f) => f.name === 'data');
      children[data] = volumeData(batch.schema.fields[data], made.map((m) => ({ values: m.values, shape: m.shape })));
      const added = outputSchema.fields.slice(batch.schema.fields.length);
      return makeBatch(outputSchema, [
        ...children,
        makeData({ type: new Int32(), length: rows.length, nullCount: 0, data: copies }),
        volumeData(added[1], made.map((m) => ({ values: m.region, shape: m.shape }))),
        vectorFromArray(made.map((m) => JSON.stringify(m.nodules)), new Utf8()).data[0],
      ], rows.length);
    };
  },
});
