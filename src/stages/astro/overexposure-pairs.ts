// `astro.overexposure-pairs`: training and test material for repairing over-exposed EUV images,
// made from the parts of a real image that are not over-exposed, so the truth is known. The image
// is cut into `tile`-pixel tiles; a tile with any pixel at or above `unsaturated_below` is left
// out (its truth is not known), and so is one too dark to over-expose without amplifying its noise
// more than `max_gain`. Each kept tile is scaled so that a share `core` of its pixels (drawn per
// copy) lie above the saturation `level`, then exposed as a CCD would (lib/saturation.ts:
// clipped at the level, the excess bleeding along columns), and masked as astro.saturation-mask
// masks a real image. The split is by quadrant of the image, so held-out tiles never overlap a
// training one: `validation` and `test` name quadrants (0: first rows, first columns; 1: first
// rows, last columns; 2: last rows, first columns; 3: last rows, last columns), cut into tiles
// side by side; the others are training tiles, cut every `stride` pixels. Tiles across a quadrant
// edge are left out. Each row: `tile_row`, `tile_column` (its first pixel), `split`, `copy`,
// `gain`, `truth` (the scaled tile), `observed`, `mask`, and for the network `input`
// (lib/repair-input.ts) and `target`: the correction the recorded tile needs, truth − observed,
// in units of the level (0 where nothing was spoiled; a network predicting 0 is the trivial fill).
import { Field, Float64, Int32, Schema, Utf8, makeData, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../arrow/tensor.ts';
import { Random } from '../../numeric/random.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { imageGrid } from './lib/image-grid.ts';
import { repairInput } from './lib/repair-input.ts';
import { overexpose, saturationMask } from './lib/saturation.ts';

const quadrant = z.number().int().min(0).max(3);
const params = z.object({
  column: z.string().min(1).default('data'),
  tile: z.number().int().min(8).default(64),
  stride: z.number().int().min(1).default(32).describe('training tiles start every stride pixels (held-out tiles lie side by side)'),
  validation: quadrant.default(1),
  test: quadrant.default(2),
  level: z.number().positive().default(255).describe('the saturation level of the exposure made, and of the mask'),
  unsaturated_below: z.number().positive().default(250).describe('tiles with a pixel at or above this are left out'),
  core: z.tuple([z.number().gt(0).lt(1), z.number().gt(0).lt(1)]).default([0.005, 0.03]).describe('share of a tile pushed above the level, drawn uniformly per copy'),
  max_gain: z.number().min(1).default(6).describe('tiles needing a larger scaling to saturate are left out'),
  bleed: z.number().min(0).max(1).default(1).describe('share of the excess charge that bleeds along the column'),
  bleed_level: z.number().optional().describe("the mask's bleed level (astro.saturation-mask's), default: the level (bleeding fills pixels to it)"),
  dilate: z.number().int().min(0).default(1),
  copies: z.number().int().min(1).default(1).describe('over-exposures made of each training tile (held-out tiles: one)'),
  seed: z.number().int().default(0),
}).strict().refine((p) => p.validation !== p.test, { message: 'validation and test must be different quadrants' })
  .refine((p) => p.core[0] <= p.core[1], { message: 'core is [least, most]' });

type Params = z.output<typeof params>;
const splits = ['train', 'validation', 'test'] as const;

/** The tiles of a height × width image: first pixel and split, by quadrant. */
export function tilesOf(height: number, width: number, p: Pick<Params, 'tile' | 'stride' | 'validation' | 'test'>) {
  const tiles: { row: number; column: number; split: (typeof splits)[number] }[] = [];
  const [midRow, midColumn] = [Math.floor(height / 2), Math.floor(width / 2)];
  for (let q = 0; q < 4; q++) {
    const split = q === p.validation ? 'validation' : q === p.test ? 'test' : 'train';
    const step = split === 'train' ? p.stride : p.tile;
    const [rows, columns] = [q < 2 ? [0, midRow] : [midRow, height], q % 2 === 0 ? [0, midColumn] : [midColumn, width]];
    for (let row = rows[0]; row + p.tile <= rows[1]; row += step) {
      for (let column = columns[0]; column + p.tile <= columns[1]; column += step) tiles.push({ row, column, split });
    }
  }
  return tiles;
}

/** The value below which a share `1 − core` of the tile's pixels lie. */
function quantileAbove(values: Float64Array, core: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((1 - core) * sorted.length))];
}

/** One over-exposure of a tile, or undefined when the tile cannot make one. */
export function overexposeTile(tile: Float64Array, side: number, core: number, p: Pick<Params, 'level' | 'max_gain' | 'bleed' | 'bleed_level' | 'dilate'>) {
  const clip = quantileAbove(tile, core);
  const gain = p.level / clip;
  if (!(clip > 0) || gain > p.max_gain) return undefined;
  const grid = { height: side, width: side };
  // Scaled so the chosen share lies above the level; a hair more, so the quantile pixel is over it.
  const truth = tile.map((v) => v * gain * (1 + 1e-9));
  const observed = overexpose(truth, grid, p.level, p.bleed);
  const mask = saturationMask(observed, grid, { level: p.level, bleedLevel: p.bleed_level, dilate: p.dilate });
  return { gain, truth, observed, mask };
}

function outputSchema(tile: number) {
  const image = (name: string) => tensorField(name, { shape: [tile, tile], dimNames: ['y', 'x'], kind: 'float32' });
  return new Schema([new Field('tile_row', new Int32(), false), new Field('tile_column', new Int32(), false), new Field('split', new Utf8(), false),
    new Field('copy', new Int32(), false), new Field('gain', new Float64(), false), image('truth'), image('observed'), image('mask'),
    tensorField('input', { shape: [tile, tile, 2], dimNames: ['y', 'x', 'channel'], kind: 'float32' }), image('target')]);
}

export const overexposurePairs = defineMap({
  name: 'astro.overexposure-pairs',
  kind: 'map',
  version: '1',
  description: 'Tiles of the unsaturated parts of an image, over-exposed as a CCD would (clipped, bleeding along columns) and masked; split by quadrant.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const { height, width } = imageGrid(input, p.column);
    if (height < 2 * p.tile || width < 2 * p.tile) throw new SchemaError(`'${p.column}' (${height} × ${width}) has no room for a ${p.tile}-pixel tile in each quadrant`);
    return outputSchema(p.tile);
  },
  create(p, { inputSchema, outputSchema: schema }) {
    const grid = imageGrid(inputSchema, p.column);
    return (batch: RecordBatch) => {
      const images = tensorValues(batch, p.column);
      const rows: { row: number; column: number; split: string; copy: number; made: NonNullable<ReturnType<typeof overexposeTile>> }[] = [];
      for (let r = 0; r < batch.numRows; r++) {
        const image = images.subarray(r * grid.height * grid.width, (r + 1) * grid.height * grid.width);
        for (const t of tilesOf(grid.height, grid.width, p)) {
          const tile = new Float64Array(p.tile * p.tile);
          for (let y = 0; y < p.tile; y++) for (let x = 0; x < p.tile; x++) tile[y * p.tile + x] = image[(t.row + y) * grid.width + t.column + x];
          if (tile.some((v) => v >= p.unsaturated_below)) continue;
          // Each tile's draws its own: the same tile gets the same over-exposure however the image is cut.
          const random = new Random(p.seed * 1_000_003 + t.row * 65_537 + t.column);
          for (let copy = 0; copy < (t.split === 'train' ? p.copies : 1); copy++) {
            const made = overexposeTile(tile, p.tile, p.core[0] + random.uniform() * (p.core[1] - p.core[0]), p);
            if (made) rows.push({ ...t, copy, made });
          }
        }
      }
      return pairsBatch(schema, rows, p.tile, p.level);
    };
  },
});

function pairsBatch(schema: Schema, rows: { row: number; column: number; split: string; copy: number; made: NonNullable<ReturnType<typeof overexposeTile>> }[], tile: number, level: number) {
  const size = tile * tile;
  const image = (pick: (m: (typeof rows)[number]['made']) => ArrayLike<number>, scale = 1) => {
    const out = new Float32Array(rows.length * size);
    rows.forEach((r, i) => out.set(Float32Array.from(pick(r.made), (v) => v / scale), i * size));
    return out;
  };
  const inputs = new Float32Array(rows.length * size * 2);
  rows.forEach((r, i) => inputs.set(repairInput(r.made.observed, r.made.mask, level), i * size * 2));
  const ints = (pick: (r: (typeof rows)[number]) => number) => makeData({ type: new Int32(), length: rows.length, nullCount: 0, data: Int32Array.from(rows, pick) });
  const field = (name: string) => schema.fields.find((f) => f.name === name)!;
  return makeBatch(schema, [ints((r) => r.row), ints((r) => r.column), vectorFromArray(rows.map((r) => r.split), new Utf8()).data[0], ints((r) => r.copy),
    makeData({ type: new Float64(), length: rows.length, nullCount: 0, data: Float64Array.from(rows, (r) => r.made.gain) }),
    tensorData(field('truth'), image((m) => m.truth), rows.length), tensorData(field('observed'), image((m) => m.observed), rows.length),
    tensorData(field('mask'), image((m) => m.mask), rows.length), tensorData(field('input'), inputs, rows.length),
    tensorData(field('target'), image((m) => m.truth.map((v, i) => v - m.observed[i]), level), rows.length)], rows.length);
}
