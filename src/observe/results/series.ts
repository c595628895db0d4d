// Series previews: y columns against x (a time or a number) as a line chart, optionally on a log
// axis (GOES fluxes), with events from another output marked (flares: start line, span to end).
import type { ResultShow } from '../../workflow/results.ts';
import { lineChart, type ChartMark } from './chart.ts';
import { isTimeColumn, readColumns, requireColumns } from './columns.ts';
import { cellText, escapeHtml as esc } from './html.ts';
import { openOutput } from './read-output.ts';
import { previewLimits } from './types.ts';

type SeriesShow = Extract<ResultShow, { kind: 'series' }>;

export async function seriesPreviewHtml(file: string, show: SeriesShow, resolve: (output: string) => string): Promise<string> {
  const open = await openOutput(file);
  requireColumns(open.schema, [show.x, ...show.y, ...(show.where ? [show.where.column] : [])], file.split('/').pop()!);
  const data = await readColumns(open, [show.x, ...show.y], previewLimits.seriesRows, show.where);
  const x = data.numbers.get(show.x)!;
  const series = show.y.map((name) => ({ name, x, y: data.numbers.get(name)! }));
  let marks: ChartMark[] = [];
  let markNote = '';
  if (show.marks) {
    const m = show.marks;
    const mOpen = await openOutput(resolve(m.output));
    requireColumns(mOpen.schema, [m.x, ...(m.to ? [m.to] : []), ...(m.label ? [m.label] : [])], m.output);
    const md = await readColumns(mOpen, [m.x, ...(m.to ? [m.to] : [])], previewLimits.seriesRows, undefined, m.label ? [m.label] : []);
    const at = md.numbers.get(m.x)!;
    marks = Array.from(at, (v, i) => ({ x: v, to: m.to ? md.numbers.get(m.to)![i] : undefined, label: m.label ? cellText(md.texts.get(m.label)![i]) : undefined }));
    markNote = `; ${marks.length} mark(s) from ${m.output}`;
  }
  const svg = lineChart(series, { time: isTimeColumn(open.schema, show.x), logY: show.log, marks, maxPoints: previewLimits.seriesPoints });
  const note = `${data.rows.toLocaleString('en-US')} rows${data.truncated ? ' (the first only)' : ''}${show.where ? ` where ${show.where.column} = ${show.where.equals}` : ''}${show.log ? '; log axis' : ''}${markNote}`;
  return `<figure class="preview-chart">${svg}<figcaption class="muted">${esc(note)}</figcaption></figure>`;
}
