// `radar.cfar`: 2-D CFAR detection on range-Doppler power maps (radar.doppler's output): one
// output row per detection, or per cluster of adjacent detections with `cluster: true` (the
// strongest cell stands for the cluster; `cells` counts its members). Columns that say where a
// map came from (`_source`, `cpi`, `channel` or `beam`, `angle_deg`) are carried over.
import { Field, FixedSizeList, Float64, Int32, makeData, Schema, Type, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { takeData } from '../../arrow/take.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { ColumnTypeError, SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { cfarDetect, windowProblem, type CfarOptions, type Detections } from './lib/cfar-detect.ts';

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

const carried = ['_source', 'cpi', 'channel', 'beam', 'angle_deg'];
const perDimension = (value: Params['guard']) => (typeof value === 'number' ? { range: value, doppler: value } : value);

function options(p: Params): CfarOptions {
  return { method: p.method, pfa: p.pfa, guard: perDimension(p.guard), train: perDimension(p.train), rank: p.rank };
}

const detectionFields = [
  new Field('range_bin', new Int32(), false), new Field('range_m', new Float64(), false),
  new Field('doppler_bin', new Int32(), false), new Field('doppler_hz', new Float64(), false),
  new Field('power', new Float64(), false), new Field('threshold', new Float64(), false),
  new Field('snr_db', new Float64(), false), new Field('cells', new Int32(), false),
];

export const cfar = defineMap({
  name: 'radar.cfar',
  kind: 'map',
  version: '1',
  description: '2-D CFAR (CA, GO, SO, OS) on range-Doppler power maps with exact Pfa to the map edges; one row per detection or cluster.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const { shape } = tensorInfo(input, 'data');
    if (shape.length !== 2) throw new ColumnTypeError('data', 'a [doppler, range] power map (as radar.doppler makes)', `a tensor of shape ${JSON.stringify(shape)}`);
    const axis = (name: string, length: number) => requireColumnOf(input, name,
      (t) => t.typeId === Type.FixedSizeList && (t as FixedSizeList).listSize === length && (t as FixedSizeList).children[0].type.typeId === Type.Float,
      `fixed_size_list<float64, ${length}> (the map's axis, as radar.doppler gives it)`);
    axis('doppler_hz', shape[0]);
    axis('range_m', shape[1]);
    const problem = windowProblem(options(p), shape[0], shape[1]);
    if (problem) throw new SchemaError(problem);
    return new Schema([...input.fields.filter((f) => carried.includes(f.name)), ...detectionFields]);
  },
  create(p, { inputSchema, outputSchema }) {
    const [dopplerBins, rangeBins] = tensorInfo(inputSchema, 'data').shape;
    const o = options(p);
    return (batch: RecordBatch) => {
      const maps = tensorValues(batch, 'data');
      const size = dopplerBins * rangeBins;
      const source: number[] = [];
      const parts: (Detections & { cells: Int32Array })[] = [];
      for (let row = 0; row < batch.numRows; row++) {
        const found = cfarDetect(maps.subarray(row * size, (row + 1) * size), dopplerBins, rangeBins, o);
        const part = p.cluster ? clusters(found, dopplerBins) : { ...found, cells: new Int32Array(found.power.length).fill(1) };
        parts.push(part);
        for (let i = 0; i < part.power.length; i++) source.push(row);
      }
      const rows = source.length;
      const at = Int32Array.from(source);
      const dopplerAxis = batch.getChild('doppler_hz')!.data[0].children[0].values as Float64Array | Float32Array;
      const rangeAxis = batch.getChild('range_m')!.data[0].children[0].values as Float64Array | Float32Array;
      const column = (pick: (part: Detections & { cells: Int32Array }, i: number, row: number) => number, float: boolean) => {
        const out = float ? new Float64Array(rows) : new Int32Array(rows);
        let k = 0;
        parts.forEach((part, row) => {
          for (let i = 0; i < part.power.length; i++) out[k++] = pick(part, i, row);
        });
        return makeData({ type: float ? new Float64() : new Int32(), length: rows, nullCount: 0, data: out } as never);
      };
      const computed: Record<string, ReturnType<typeof column>> = {
        range_bin: column((d, i) => d.range[i], false),
        range_m: column((d, i, row) => rangeAxis[row * rangeBins + d.range[i]], true),
        doppler_bin: column((d, i) => d.doppler[i], false),
        doppler_hz: column((d, i, row) => dopplerAxis[row * dopplerBins + d.doppler[i]], true),
        power: column((d, i) => d.power[i], true),
        threshold: column((d, i) => d.threshold[i], true),
        snr_db: column((d, i) => 10 * Math.log10(d.power[i] / d.estimate[i]), true),
        cells: column((d, i) => d.cells[i], false),
      };
      const children = outputSchema.fields.map((f) => computed[f.name] ?? takeData(batch.getChild(f.name)!.data[0], at));
      return makeBatch(outputSchema, children, rows);
    };
  },
});

/** Groups detections that touch (8-neighbours, Doppler circular); each group keeps its strongest cell. */
export function clusters(found: Detections, dopplerBins: number): Detections & { cells: Int32Array } {
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
