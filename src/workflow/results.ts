// A workflow's results, as its author names them: the outputs people look at. `quiver run` and
// `npm start` print each headline after the run; the report's Results section and `quiver serve`
// draw each as `show` says (src/observe/results/). Outputs not named here are still listed (and
// previewed as tables).
import { z } from 'zod';

export const resultShowKinds = ['table', 'metrics', 'series', 'image', 'volume', 'range-doppler'] as const;

const column = z.string().min(1);
/** Another output of the same run, relative to the output folder; `dir/` means its first file. */
const output = z.string().min(1);

/** Grey levels: zscale + asinh (astronomy), an HU window (CT), symmetric about 0 (magnetograms, residuals), or min–max. */
export const stretches = ['zscale-asinh', 'hu-window', 'diverging', 'linear'] as const;
/** Named CT windows (width / level): lung 1500 / -600, soft tissue 400 / 40, bone 1800 / 400. */
export const huWindows = { lung: [-1350, 150], 'soft-tissue': [-160, 240], bone: [-500, 1300] } as const;

const windowSpec = z.union([
  z.tuple([z.number(), z.number()]).refine(([lo, hi]) => hi > lo, 'window: [lo, hi] needs hi > lo'),
  z.enum(Object.keys(huWindows) as [keyof typeof huWindows, ...(keyof typeof huWindows)[]]),
]);
/** A mask drawn in colour over the image: a column of the same rows, or a column (default `data`) of another output. */
const maskSpec = z.union([column, z.object({ output, column: column.default('data') }).strict()]);

const picture = {
  /** The tensor column (fixed- or variable-shape) holding the image or volume. */
  column: column.default('data'),
  stretch: z.enum(stretches).optional(),
  /** hu-window and linear: the values mapped to black and white (a CT window by name, or [lo, hi]). */
  window: windowSpec.optional(),
  mask: maskSpec.optional(),
  /** Which row of the output (default the first). */
  row: z.number().int().min(0).default(0),
};

export const resultShowSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('table'), columns: z.array(column).min(1).optional() }).strict(),
  /** One row per metric set: `label` names each row, `columns` the numbers shown (default every numeric column). */
  z.object({ kind: z.literal('metrics'), label: column.optional(), columns: z.array(column).min(1).optional() }).strict(),
  z.object({
    kind: z.literal('series'),
    x: column,
    y: z.array(column).min(1),
    /** A logarithmic y axis (GOES fluxes). */
    log: z.boolean().default(false),
    /** Only rows where this column equals `where.equals` (a test period, one channel). */
    where: z.object({ column, equals: z.union([z.string(), z.number(), z.boolean()]) }).strict().optional(),
    /** Events from another output drawn over the series: a line at `x` (a span to `to`), labelled by `label`. */
    marks: z.object({ output, x: column, to: column.optional(), label: column.optional() }).strict().optional(),
  }).strict(),
  z.object({
    kind: z.literal('image'),
    ...picture,
    /** A 3-D tensor: which slice along its first axis — the middle one, the one with most mask, or an index. */
    slice: z.union([z.enum(['middle', 'mask']), z.number().int().min(0)]).default('middle'),
    /** RA/Dec grid lines where the row's `header` (FITS cards) has a celestial WCS. */
    grid: z.boolean().default(true),
  }).strict(),
  /** Three orthogonal slices through the middle of a volume (or the centre of its mask). */
  z.object({ kind: z.literal('volume'), ...picture }).strict(),
  z.object({
    kind: z.literal('range-doppler'),
    /** The power map column ([doppler, range]), drawn in dB. */
    map: column.default('data'),
    row: z.number().int().min(0).default(0),
    /** Detections (another output) drawn as circles at `range_bin`, `doppler_bin`, those of the map's `cpi` where both have one. */
    detections: output.optional(),
  }).strict(),
]);

export const resultSpecSchema = z.object({
  /** A file a sink of this workflow writes, relative to the run's output folder (as the sink names it); `dir/`: its first file. */
  output: z.string().min(1),
  title: z.string().optional(),
  /** Columns printed after the run, from the first `rows` rows (default 3). */
  headline: z.array(z.string().min(1)).min(1).optional(),
  rows: z.number().int().min(1).max(20).optional(),
  /** How the report and the web view draw it; the kind's own fields say which columns to use. */
  show: resultShowSchema.optional(),
}).strict();

export type ResultSpec = z.infer<typeof resultSpecSchema>;
export type ResultShow = z.infer<typeof resultShowSchema>;
export type ResultShowKind = (typeof resultShowKinds)[number];
