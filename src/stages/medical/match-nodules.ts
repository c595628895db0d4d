// `medical.match-nodules`: labels detections with the simulated nodules they hit, `from:
// [detections, truth]` (medical.blob-candidates' rows, medical.nodule-truth's): adds `nodule` (the
// nodule hit, null for none) and `hit` (1 or 0, a classifier's label). A hit lies within the
// nodule's radius of its centre, or within min_radius_mm (lib/froc.ts).
import { Field, Float32, Int32, makeData, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { byVolume, matchDetection, type TruthNodule } from './lib/froc.ts';
import { detectionRows, requireNoduleRows, truthRows } from './lib/nodule-rows.ts';

const params = z.object({
  keys: z.array(z.string().min(1)).min(1).default(['series', 'copy']).describe('the columns naming a volume, in both inputs'),
  min_radius_mm: z.number().min(0).default(0).describe('a hit may lie this far from a nodule smaller than it'),
}).strict();

export const matchNodules = defineReduce({
  name: 'medical.match-nodules',
  kind: 'reduce',
  version: '1',
  description: 'Labels detections with the nodule they hit (within its radius): adds `nodule` and `hit` (1/0).',
  params,
  inputs: { min: 2, max: 2 },
  outputSchema({ params: p, inputs: [detections, truth] }) {
    requireNoduleRows(detections, truth, p.keys);
    return withColumns(detections, [new Field('nodule', new Int32(), true), new Field('hit', new Float32(), false)]);
  },
  scope: () => 'partition',
  buildInputs: () => [1],
  create(p, { outputSchema }) {
    const truth: TruthNodule[] = [];
    let nodules: Map<string, TruthNodule[]> | undefined;
    return {
      push(batch, at) {
        if (at.input === 1) {
          truth.push(...truthRows(batch, p.keys));
          return null;
        }
        nodules ??= byVolume(truth);
        const hits = detectionRows(batch, p.keys).map((d) => matchDetection(d, nodules!, p.min_radius_mm));
        return makeBatch(outputSchema, [
          ...batch.data.children,
          vectorFromArray(hits.map((h) => h?.nodule ?? null), new Int32()).data[0],
          makeData({ type: new Float32(), length: batch.numRows, nullCount: 0, data: Float32Array.from(hits, (h) => (h ? 1 : 0)) }),
        ], batch.numRows);
      },
    };
  },
});
