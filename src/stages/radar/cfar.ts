// `radar.cfar`: 2-D CFAR detection on range-Doppler power maps (radar.doppler's output): one
// output row per detection, or per cluster of adjacent detections with `cluster: true` (the
// strongest cell stands for the cluster; `cells` counts its members). Columns that say where a
// map came from (`_source`, `cpi`, `channel` or `beam`, `angle_deg`) are carried over.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { tensorValues } from '../../arrow/tensor.ts';
import { cfarDetect, windowProblem, type CfarOptions, type Detections } from './lib/cfar-detect.ts';
import { detectionBatch, detectionSchema, mapShape, type MapDetections } from './lib/detection-columns.ts';

const cells = z.union([
  z.number().int().min(0),
  z.object({ range: z.number().int().min(0), doppler: z.number().int().min(0) }).strict(),
]);

const params = z.object({
  method: z.enum(['ca', 'go', 'so', 'os']).default('ca').describe('cell averaging, greatest-of, smallest-of, or ordered statistic'),
  pfa: z.number().gt(0).lt(1).default(1e-6).describe('false-alarm probability per cell, in exponential noise'),
  guard: cells.default(2).describe('guard cells on each side: a number for both dimensions, or {range, doppler}'),
  train: cells.default(8).describe('training cells on each side beyond the guard: a number, or {range, doppler}'),
  rank: z.number().gt(0).max(1).default(0.75).describe('OS: the order statistic as a fraction of the training cells'),
  cluster: z.boolean().default(false).describe('merge adjacent detections (Doppler wraps) into one row at the strongest cell'),
}).strict();

type Params = z.infer<typeof params>;

const perDimension = (value: Params['guard']) => (typeof value === 'number' ? { range: value, doppler: value } : value);

function options(p: Params): CfarOptions {
  return { method: p.method, pfa: p.pfa, guard: perDimension(p.guard), train: perDimension(p.train), rank: p.rank };
}

export const cfar = defineMap({
  name: 'radar.cfar',
  kind: 'map',
  version: '1',
  description: '2-D CFAR (CA, GO, SO, OS) on range-Doppler power maps with exact Pfa to the map edges; one row per detection or cluster.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const [dopplerBins, rangeBins] = mapShape(input);
    const problem = windowProblem(options(p), dopplerBins, rangeBins);
    if (problem) throw new SchemaError(problem);
    return detectionSchema(input);
  },
  create(p, { inputSchema, outputSchema }) {
    const [dopplerBins, rangeBins] = mapShape(inputSchema);
    const o = options(p);
    return (batch: RecordBatch) => {
      const maps = tensorValues(batch, 'data');
      const size = dopplerBins * rangeBins;
      const parts: MapDetections[] = [];
      for (let row = 0; row < batch.numRows; row++) {
        const found = cfarDetect(maps.subarray(row * size, (row + 1) * size), dopplerBins, rangeBins, o);
        parts.push(p.cluster ? clusters(found, dopplerBins) : { ...found, cells: new Int32Array(found.power.length).fill(1) });
      }
      return detectionBatch(batch, outputSchema, parts, dopplerBins, rangeBins);
    };
  },
});

/** Groups detections that touch (8-neighbours, Doppler circular); each group keeps its strongest cell. */
export function clusters(found: Detections, dopplerBins: number): MapDetections {
  const n = found.power.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(`${found.doppler[i]},${found.range[i]}`, i);
  for (let i = 0; i < n; i++) {
    for (let dd = -1; dd <= 1; dd++) {
      for (let dr = -1; dr <= 1; dr++) {
        const j = index.get(`${(found.doppler[i] + dd + dopplerBins) % dopplerBins},${found.range[i] + dr}`);
        if (j !== undefined) parent[root(i)] = root(j);
      }
    }
  }
  const best = new Map<number, number>();
  const count = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const r = root(i);
    count.set(r, (count.get(r) ?? 0) + 1);
    const b = best.get(r);
    if (b === undefined || found.power[i] > found.power[b]) best.set(r, i);
  }
  const keep = [...best.entries()].sort((a, b) => a[1] - b[1]);
  return {
    doppler: Int32Array.from(keep, ([, i]) => found.doppler[i]),
    range: Int32Array.from(keep, ([, i]) => found.range[i]),
    power: Float64Array.from(keep, ([, i]) => found.power[i]),
    threshold: Float64Array.from(keep, ([, i]) => found.threshold[i]),
    estimate: Float64Array.from(keep, ([, i]) => found.estimate[i]),
    cells: Int32Array.from(keep, ([r]) => count.get(r)!),
  };
}
