// A workflow's results, as its author names them: the outputs people look at. `quiver run` and
// `npm start` print each headline after the run; the report's Results section and `quiver serve`
// draw each as `show` says. Outputs not named here are still listed (and previewed as tables).
import { z } from 'zod';

export const resultShowKinds = ['table', 'metrics', 'series', 'image', 'volume', 'range-doppler'] as const;

export const resultSpecSchema = z.object({
  /** A file a sink of this workflow writes, relative to the run's output folder (as the sink names it). */
  output: z.string().min(1),
  title: z.string().optional(),
  /** Columns printed after the run, from the first `rows` rows (default 3). */
  headline: z.array(z.string().min(1)).min(1).optional(),
  rows: z.number().int().min(1).max(20).optional(),
  /** How the report and the web view draw it; the kind's own fields say which columns to use. */
  show: z.object({ kind: z.enum(resultShowKinds) }).passthrough().optional(),
}).strict();

export type ResultSpec = z.infer<typeof resultSpecSchema>;
