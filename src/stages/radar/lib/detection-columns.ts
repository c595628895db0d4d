// The rows a detector stage emits for range-Doppler maps (radar.cfar, radar.detect-learned): one
// per detection (or cluster), with where it is (bins and axis values), its power, the threshold it
// crossed, its power over the noise estimate (snr_db) and how many cells it stands for, after the
// columns that say where its map came from (`_source`, `cpi`, `channel` or `beam`, `angle_deg`).
import { Field, FixedSizeList, Float64, Int32, makeData, Schema, Type, type Data, type RecordBatch } from 'apache-arrow';
import { makeBatch } from '../../../arrow/batch.ts';
import { requireColumnOf } from '../../../arrow/columns.ts';
import { tensorInfo } from '../../../arrow/tensor.ts';
import { takeData } from '../../../arrow/take.ts';
import { ColumnTypeError } from '../../../workflow/errors.ts';
import type { Detections } from './cfar-detect.ts';

const carried = ['_source', 'cpi', 'channel', 'beam', 'angle_deg'];

export const detectionFields = [
  new Field('range_bin', new Int32(), false), new Field('range_m', new Float64(), false),
  new Field('doppler_bin', new Int32(), false), new Field('doppler_hz', new Float64(), false),
  new Field('power', new Float64(), false), new Field('threshold', new Float64(), false),
  new Field('snr_db', new Float64(), false), new Field('cells', new Int32(), false),
];

/** The [doppler, range] shape of the input's maps, after checking `data` and its axis columns. */
export function mapShape(input: Schema): [number, number] {
  const { shape } = tensorInfo(input, 'data');
  if (shape.length !== 2) throw new ColumnTypeError('data', 'a [doppler, range] power map (as radar.doppler makes)', `a tensor of shape ${JSON.stringify(shape)}`);
  const axis = (name: string, length: number) => requireColumnOf(input, name,
    (t) => t.typeId === Type.FixedSizeList && (t as FixedSizeList).listSize === length && (t as FixedSizeList).children[0].type.typeId === Type.Float,
    `fixed_size_list<float64, ${length}> (the map's axis, as radar.doppler gives it)`);
  axis('doppler_hz', shape[0]);
  axis('range_m', shape[1]);
  return [shape[0], shape[1]];
}

/** The output schema: the carried columns, the detection columns, then `extra`. */
export const detectionSchema = (input: Schema, extra: Field[] = []) =>
  new Schema([...input.fields.filter((f) => carried.includes(f.name)), ...detectionFields, ...extra]);

export type MapDetections = Detections & { cells: Int32Array };

/** One batch of detection rows: `parts[row]` holds what was found in the input's map `row`; `extra` fills the extra columns. */
export function detectionBatch(batch: RecordBatch, outputSchema: Schema, parts: MapDetections[], dopplerBins: number, rangeBins: number,
  extra: Record<string, (part: MapDetections, i: number, row: number) => number> = {}): RecordBatch {
  const source: number[] = [];
  parts.forEach((part, row) => {
    for (let i = 0; i < part.power.length; i++) source.push(row);
  });
  const rows = source.length;
  const dopplerAxis = batch.getChild('doppler_hz')!.data[0].children[0].values as Float64Array | Float32Array;
  const rangeAxis = batch.getChild('range_m')!.data[0].children[0].values as Float64Array | Float32Array;
  const column = (pick: (part: MapDetections, i: number, row: number) => number, float: boolean): Data => {
    const out = float ? new Float64Array(rows) : new Int32Array(rows);
    let k = 0;
    parts.forEach((part, row) => {
      for (let i = 0; i < part.power.length; i++) out[k++] = pick(part, i, row);
    });
    return makeData({ type: float ? new Float64() : new Int32(), length: rows, nullCount: 0, data: out } as never);
  };
  const computed: Record<string, Data> = {
    range_bin: column((d, i) => d.range[i], false),
    range_m: column((d, i, row) => rangeAxis[row * rangeBins + d.range[i]], true),
    doppler_bin: column((d, i) => d.doppler[i], false),
    doppler_hz: column((d, i, row) => dopplerAxis[row * dopplerBins + d.doppler[i]], true),
    power: column((d, i) => d.power[i], true),
    threshold: column((d, i) => d.threshold[i], true),
    snr_db: column((d, i) => 10 * Math.log10(d.power[i] / d.estimate[i]), true),
    cells: column((d, i) => d.cells[i], false),
  };
  for (const [name, pick] of Object.entries(extra)) computed[name] = column(pick, true);
  const at = Int32Array.from(source);
  const children = outputSchema.fields.map((f) => computed[f.name] ?? takeData(batch.getChild(f.name)!.data[0], at));
  return makeBatch(outputSchema, children, rows);
}
