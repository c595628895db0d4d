// What a result preview is: a self-contained HTML fragment (inline SVG, PNG as data: URLs, HTML
// tables; no scripts, no external URLs), shared by the run report and `quiver serve`.
import type { ResultShowKind } from '../../workflow/results.ts';

export type PreviewKind = ResultShowKind;

export interface Preview {
  /** The output's path relative to the run's output folder, as the manifest records it. */
  output: string;
  title: string;
  kind: PreviewKind;
  html: string;
}

/** Limits on what a preview reads and draws: every preview stays small whatever the output's size. */
export const previewLimits = {
  /** Rows of a table preview. */
  tableRows: 10,
  /** Points of a series (more are thinned, min/max per bucket kept). */
  seriesPoints: 4000,
  /** Rows read for a series or a mark list. */
  seriesRows: 200_000,
  /** Pixels on an image's long side. */
  imagePixels: 512,
  /** Files larger than this are not opened for an image (a volume or image is read whole). */
  imageFileBytes: 512 * 1024 * 1024,
} as const;
