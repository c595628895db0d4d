// `astro.crossmatch`: for each source of the first catalog, the nearest source of the second within
// `radius_arcsec` on the sky, `from: [left, right]`. The right catalog is held in an index: its
// positions as unit vectors binned in a 3-D grid of cells one radius wide, so a search looks at the
// 27 cells around a point instead of every source (no trouble at RA 0/360 or at the poles).
// Output: the left columns, the right ones prefixed `match_`, and `separation_arcsec`; left rows
// without a match are kept with nulls (`keep: all`) or dropped (`keep: matched`).
import { Field, Float64, RecordBatch, Schema } from 'apache-arrow';
import { z } from 'zod';
import { concatBatches, concatData } from '../../arrow/concat.ts';
import { nullData } from '../../arrow/nulls.ts';
import { takeData } from '../../arrow/take.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { floatData, numbers, requireNumbers } from '../../arrow/added-columns.ts';
import { makeBatch } from '../../arrow/batch.ts';

const params = z.object({
  radius_arcsec: z.number().positive(),
  ra: z.string().min(1).default('ra'),
  dec: z.string().min(1).default('dec'),
  keep: z.enum(['all', 'matched']).default('all'),
}).strict();

const unit = (ra: number, dec: number): [number, number, number] => {
  const a = (ra * Math.PI) / 180;
  const d = (dec * Math.PI) / 180;
  return [Math.cos(d) * Math.cos(a), Math.cos(d) * Math.sin(a), Math.sin(d)];
};

/** Angular separation in arcseconds of two unit vectors (atan2 form: exact at small angles too). */
export function separationArcsec(a: number[], b: number[]): number {
  const cross = Math.hypot(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]);
  const dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  return (Math.atan2(cross, dot) * 180 * 3600) / Math.PI;
}

/** The nearest-neighbour index of a catalog. */
export class SkyIndex {
  private readonly cells = new Map<string, number[]>();
  private readonly vectors: [number, number, number][];
  private readonly width: number;

  constructor(ra: Float64Array, dec: Float64Array, readonly radiusArcsec: number) {
    // Chord length of the radius: cells this wide hold every neighbour within one cell's reach.
    this.width = 2 * Math.sin((radiusArcsec / 3600 / 2) * (Math.PI / 180));
    this.vectors = Array.from(ra, (r, i) => unit(r, dec[i]));
    this.vectors.forEach((v, i) => {
      if (!v.every(Number.isFinite)) return;
      const key = this.cell(v).join(',');
      if (!this.cells.has(key)) this.cells.set(key, []);
      this.cells.get(key)!.push(i);
    });
  }

  private cell(v: number[]): number[] {
    return v.map((c) => Math.floor(c / this.width));
  }

  /** The nearest indexed source within the radius: its index and separation, or undefined. */
  nearest(ra: number, dec: number): { index: number; arcsec: number } | undefined {
    const v = unit(ra, dec);
    if (!v.every(Number.isFinite)) return undefined;
    const [cx, cy, cz] = this.cell(v);
    let best: { index: number; arcsec: number } | undefined;
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) {
      for (const i of this.cells.get(`${cx + dx},${cy + dy},${cz + dz}`) ?? []) {
        const arcsec = separationArcsec(v, this.vectors[i]);
        if (arcsec <= this.radiusArcsec && (!best || arcsec < best.arcsec || (arcsec === best.arcsec && i < best.index))) best = { index: i, arcsec };
      }
    }
    return best;
  }
}

export const crossmatch = defineReduce({
  name: 'astro.crossmatch',
  kind: 'reduce',
  version: '1',
  description: 'Nearest-neighbour sky match of two catalogs within a radius (a 3-D cell index); adds the match\'s columns (match_*) and separation_arcsec.',
  params,
  inputs: { min: 2, max: 2 },
  outputSchema({ params: p, inputs: [left, right] }) {
    requireNumbers(left, [p.ra, p.dec]);
    requireNumbers(right, [p.ra, p.dec]);
    return new Schema([...left.fields, ...right.fields.map((f) => new Field(`match_${f.name}`, f.type, true, f.metadata)),
      new Field('separation_arcsec', new Float64(), true)], left.metadata);
  },
  scope: () => 'partition',
  buildInputs: () => [1],
  create(p, { inputSchemas: [, rightSchema], outputSchema }) {
    const held: RecordBatch[] = [];
    let right: RecordBatch | undefined;
    let index: SkyIndex | undefined;
    return {
      push(batch, at) {
        if (at.input === 1) {
          held.push(batch);
          return null;
        }
        if (!index) {
          right = concatBatches(rightSchema, held);
          index = new SkyIndex(numbers(right, p.ra), numbers(right, p.dec), p.radius_arcsec);
        }
        const ra = numbers(batch, p.ra);
        const dec = numbers(batch, p.dec);
        const rows: number[] = [];
        const picks: number[] = [];
        const separation: number[] = [];
        for (let i = 0; i < batch.numRows; i++) {
          const m = index.nearest(ra[i], dec[i]);
          if (!m && p.keep === 'matched') continue;
          rows.push(i);
          picks.push(m ? m.index : -1);
          separation.push(m ? m.arcsec : NaN);
        }
        const take = Int32Array.from(rows);
        // Rows without a match take the null row added after the right catalog's last.
        const matched = Int32Array.from(picks, (k) => (k >= 0 ? k : right!.numRows));
        const rightColumns = right!.data.children.map((column, c) => takeData(concatData([column, nullData(rightSchema.fields[c].type, 1)]), matched));
        return makeBatch(outputSchema, [...batch.data.children.map((d) => takeData(d, take)), ...rightColumns, floatData(Float64Array.from(separation))], rows.length);
      },
    };
  },
});
