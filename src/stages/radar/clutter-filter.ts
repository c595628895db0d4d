// `radar.clutter-filter`: a classical ground-clutter filter for reflectivity sweeps (source.odim
// rows), from two cues:
// - texture, TDBZ (Hubbert et al. 2009, J. Atmos. Oceanic Technol. 26; Kessinger et al. 2003): the
//   mean of the squared reflectivity differences between consecutive range gates, over a window of
//   2·range_bins + 1 gates by 2·rays + 1 rays around the cell. Rain is smooth (a few dB² ); ground
//   echoes fluctuate from gate to gate (hundreds of dB²). Texture when TDBZ ≥ `tdbz`.
// - vertical continuity (Gabella & Notarpietro 2002, Phys. Chem. Earth 27): ground clutter lives
//   in the lowest beams, precipitation reaches the sweep above. For each cell, the next higher sweep
//   of the same quantity in the partition (the volume) is read over the same ground point (4/3-earth
//   geometry); a drop of `vertical_drop` dB or more (no echo above counts as `floor_dbz`) is the cue.
// A cell is clutter when it has texture and (with `combine: and`, the default) the vertical cue,
// or no sweep above it; with `combine: or`, either cue. NaN cells (nodata, undetect) are never
// flagged; NaN gates are left out of TDBZ's pairs, or taken as `floor_dbz` if given.
// Output: `data` with clutter cells set to NaN, `clutter` [azimuth, range] (1 clutter, 0 kept, NaN
// no data), `clutter_fraction` (flagged / valid cells). Rows of other quantities pass through with
// `clutter` NaN. It sees a whole partition (one volume) at a time, the rows in their order.
import { Field, Float64, Schema, makeData, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../arrow/tensor.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { groundRange, rayLookup, slantRange, sweepOf, sweepShape, type Sweep, type SweepShape } from './lib/sweep.ts';

const params = z.object({
  quantities: z.array(z.string().min(1)).min(1).default(['DBZH', 'TH', 'DBZ', 'DBZV', 'TV']).describe('reflectivity quantities to filter'),
  tdbz: z.number().positive().default(45).describe('TDBZ threshold, dB²'),
  range_bins: z.number().int().min(1).max(50).default(2).describe('TDBZ window half-width along range, gates'),
  rays: z.number().int().min(0).max(20).default(1).describe('TDBZ window half-width in azimuth, rays'),
  min_pairs: z.number().int().min(1).default(3).describe('fewest valid gate pairs for a TDBZ'),
  floor_dbz: z.number().optional().describe('value given to NaN gates in TDBZ and above (default: NaN gates left out of TDBZ; no echo above as −32 dBZ)'),
  vertical: z.boolean().default(true).describe('use the next higher sweep (vertical continuity)'),
  vertical_drop: z.number().positive().default(20).describe('dB drop to the sweep above that marks clutter'),
  combine: z.enum(['and', 'or']).default('and').describe('texture AND vertical cue (or no sweep above), or either'),
}).strict();
type Params = z.infer<typeof params>;

/** TDBZ of every cell of a sweep (NaN where too few valid pairs). */
export function tdbzField(s: Sweep, p: Pick<Params, 'range_bins' | 'rays' | 'min_pairs' | 'floor_dbz'>): Float64Array {
  const { nrays, nbins, stride, values } = s;
  const at = (ray: number, bin: number) => {
    const v = values[ray * stride + bin];
    return Number.isNaN(v) && p.floor_dbz !== undefined ? p.floor_dbz : v;
  };
  // Squared difference of gate `bin` and `bin − 1` on each ray (NaN if either is NaN), then box sums.
  const sq = new Float64Array(nrays * nbins).fill(NaN);
  for (let r = 0; r < nrays; r++) for (let b = 1; b < nbins; b++) { const d = at(r, b) - at(r, b - 1); sq[r * nbins + b] = d * d; }
  const out = new Float64Array(nrays * nbins);
  for (let r = 0; r < nrays; r++) {
    for (let b = 0; b < nbins; b++) {
      let sum = 0, count = 0;
      for (let dr = -p.rays; dr <= p.rays; dr++) {
        const rr = (((r + dr) % nrays) + nrays) % nrays;
        for (let bb = Math.max(1, b - p.range_bins); bb <= Math.min(nbins - 1, b + p.range_bins); bb++) {
          const v = sq[rr * nbins + bb];
          if (!Number.isNaN(v)) { sum += v; count++; }
        }
      }
      out[r * nbins + b] = count >= p.min_pairs ? sum / count : NaN;
    }
  }
  return out;
}

/** The clutter mask of sweep `s` (1, 0, NaN) given the sweep above it, if any. */
export function clutterMask(s: Sweep, above: Sweep | null, p: Params): Float32Array {
  const mask = new Float32Array(s.values.length).fill(NaN);
  const tdbz = tdbzField(s, p);
  const nearestAbove = above && p.vertical ? rayLookup(above.azimuths) : null;
  const floorAbove = p.floor_dbz ?? -32;
  for (let r = 0; r < s.nrays; r++) {
    for (let b = 0; b < s.nbins; b++) {
      const z = s.values[r * s.stride + b];
      if (Number.isNaN(z)) continue;
      const texture = tdbz[r * s.nbins + b] >= p.tdbz;
      let vertical = false;
      let haveAbove = false;
      if (above && nearestAbove) {
        const ground = groundRange(s.rstart + (b + 0.5) * s.rscale, s.elevation);
        const ru = slantRange(ground, above.elevation);
        const bu = Math.floor((ru - above.rstart) / above.rscale);
        if (bu >= 0 && bu < above.nbins) {
          haveAbove = true;
          const zu = above.values[nearestAbove(s.azimuths[r]) * above.stride + bu];
          vertical = z - (Number.isNaN(zu) ? floorAbove : zu) >= p.vertical_drop;
        }
      }
      const flagged = p.combine === 'or' ? texture || vertical : texture && (vertical || !haveAbove);
      mask[r * s.stride + b] = flagged ? 1 : 0;
    }
  }
  return mask;
}

export const clutterFilter = defineReduce({
  name: 'radar.clutter-filter',
  kind: 'reduce',
  version: '1',
  description: 'Ground-clutter filter for reflectivity sweeps: TDBZ texture and vertical continuity with the sweep above; outputs the filtered moment and a clutter mask.',
  params,
  outputSchema({ inputs: [input] }) {
    const { rays, bins } = sweepShape(input);
    requireColumn(input, 'quantity');
    return new Schema([
      ...input.fields.filter((f) => f.name !== 'clutter' && f.name !== 'clutter_fraction'),
      tensorField('clutter', { shape: [rays, bins], dimNames: ['azimuth', 'range'], kind: 'float32' }),
      new Field('clutter_fraction', new Float64(), true),
    ], input.metadata);
  },
  scope: () => 'partition',
  create(p, { inputSchemas: [input], outputSchema }) {
    const shape: SweepShape = sweepShape(input);
    let held: RecordBatch[] = [];
    return {
      push(batch) {
        held.push(batch);
      },
      endPartition() {
        const batches = held;
        held = [];
        // Every reflectivity sweep of the volume, to find the one above each.
        const rows = batches.flatMap((batch) => Array.from({ length: batch.numRows }, (_, row) => ({ batch, row })))
          .map(({ batch, row }) => ({ batch, row, quantity: String(batch.getChild('quantity')!.get(row)), sweep: sweepOf(batch, row, shape) }));
        const aboveOf = (q: string, elevation: number) => rows
          .filter((r) => r.quantity === q && r.sweep.elevation > elevation + 1e-6)
          .sort((a, b) => a.sweep.elevation - b.sweep.elevation)[0]?.sweep ?? null;
        const size = shape.rays * shape.bins;
        return batches.map((batch) => {
          const n = batch.numRows;
          const data = tensorValues(batch, 'data').slice();
          const mask = new Float32Array(n * size).fill(NaN);
          const fraction: (number | null)[] = [];
          for (let row = 0; row < n; row++) {
            const me = rows.find((r) => r.batch === batch && r.row === row)!;
            if (!p.quantities.includes(me.quantity)) { fraction.push(null); continue; }
            const m = clutterMask(me.sweep, aboveOf(me.quantity, me.sweep.elevation), p);
            mask.set(m, row * size);
            let flagged = 0, valid = 0;
            for (let k = 0; k < size; k++) {
              if (Number.isNaN(m[k])) continue;
              valid++;
              if (m[k] === 1) { flagged++; data[row * size + k] = NaN; }
            }
            fraction.push(valid ? flagged / valid : null);
          }
          const children = outputSchema.fields.map((f) => {
            if (f.name === 'data') return tensorData(f, data, n);
            if (f.name === 'clutter') return tensorData(f, mask, n);
            if (f.name === 'clutter_fraction') {
              return makeData({ type: new Float64(), length: n, nullCount: 0, data: Float64Array.from(fraction, (x) => x ?? NaN) });
            }
            return batch.getChild(f.name)!.data[0];
          });
          return makeBatch(outputSchema, children, n);
        });
      },
    };
  },
});
