// `medical.froc`: a nodule detector's FROC points, `from: [detections, truth]`: the sensitivity at
// each of `fp_per_volume` false positives per volume, detections ranked by `score` (lib/froc.ts:
// a hit lies within the nodule's radius, or min_radius_mm; later hits on a found nodule are not
// false positives). The volumes counted are those named in either input. One row per rate:
// fp_per_volume, sensitivity, detected, nodules, false_positives, volumes.
import { Field, Float64, Int32, Schema, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { floatData } from '../../arrow/added-columns.ts';
import { makeBatch } from '../../arrow/batch.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { froc as frocPoints, type Detection, type TruthNodule } from './lib/froc.ts';
import { detectionRows, requireNoduleRows, truthRows } from './lib/nodule-rows.ts';

const params = z.object({
  score: z.string().min(1).describe('the detections\' score column: higher is surer'),
  fp_per_volume: z.array(z.number().positive()).min(1).default([1, 2, 4]),
  keys: z.array(z.string().min(1)).min(1).default(['series', 'copy']).describe('the columns naming a volume, in both inputs'),
  min_radius_mm: z.number().min(0).default(0).describe('a hit may lie this far from a nodule smaller than it'),
}).strict();

const schema = new Schema([
  new Field('fp_per_volume', new Float64(), false), new Field('sensitivity', new Float64(), true),
  ...['detected', 'nodules', 'false_positives', 'volumes'].map((n) => new Field(n, new Int32(), false)),
]);

export const froc = defineReduce({
  name: 'medical.froc',
  kind: 'reduce',
  version: '1',
  description: 'FROC of a nodule detector: sensitivity at 1, 2, 4 (or other) false positives per volume against the truth rows.',
  params,
  inputs: { min: 2, max: 2 },
  outputSchema({ params: p, inputs: [detections, truth] }) {
    requireNoduleRows(detections, truth, p.keys, p.score);
    return schema;
  },
  scope: () => 'all',
  create(p) {
    const detections: Detection[] = [];
    const truth: TruthNodule[] = [];
    return {
      push(batch, at) {
        if (at.input === 1) truth.push(...truthRows(batch, p.keys));
        else detections.push(...detectionRows(batch, p.keys, p.score));
        return null;
      },
      end() {
        const volumes = new Set([...truth, ...detections].map((r) => r.volume)).size;
        const points = frocPoints(detections, truth, volumes, p.fp_per_volume, p.min_radius_mm);
        const column = (name: 'detected' | 'false_positives') => vectorFromArray(points.map((q) => q[name]), new Int32()).data[0];
        return makeBatch(schema, [
          floatData(Float64Array.from(points, (q) => q.fp_per_volume)), floatData(Float64Array.from(points, (q) => q.sensitivity)),
          column('detected'), vectorFromArray(points.map(() => truth.length), new Int32()).data[0], column('false_positives'),
          vectorFromArray(points.map(() => volumes), new Int32()).data[0],
        ], points.length);
      },
    };
  },
});
