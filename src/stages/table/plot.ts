// `sink.plot`: a line chart of columns against one x column, as a self-contained SVG (for reports
// and READMEs): one line per `y` column, axes with their ranges, a legend. Timestamps on the x axis
// are labelled as dates. Rows with a missing x or y leave a gap.
import { Type, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { isNumeric } from '../../arrow/types.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { defineSink } from '../../workflow/stage.ts';
import { outputPath, sinkFile } from '../../io/file-sink.ts';
import { OutputFile } from '../../io/output-file.ts';

const params = z.object({
  path: outputPath.refine((p) => p.endsWith('.svg'), { message: 'must end in .svg' }),
  x: z.string().min(1),
  y: z.array(z.string().min(1)).min(1),
  title: z.string().default(''),
}).strict();

const colours = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const width = 900;
const height = 420;
const margin = { left: 70, right: 20, top: 40, bottom: 50 };
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const plotSink = defineSink({
  name: 'sink.plot',
  kind: 'sink',
  version: '1',
  description: 'A line chart (SVG) of y columns against an x column.',
  params,
  check({ params: p, inputs: [input] }) {
    const numberOrTime = (t: import('apache-arrow').DataType) => isNumeric(t) || t.typeId === Type.Timestamp || t.typeId === Type.Date;
    requireColumnOf(input, p.x, numberOrTime, 'a number, date or timestamp');
    for (const y of p.y) requireColumnOf(input, y, isNumeric, 'a number');
  },
  open(p, { outDir, schema }) {
    const xs: number[] = [];
    const ys: number[][] = p.y.map(() => []);
    const isTime = [Type.Timestamp, Type.Date].includes(schema.fields.find((f) => f.name === p.x)!.type.typeId);
    let file: OutputFile | undefined;
    return {
      startPartition() {},
      write(batch: RecordBatch) {
        for (let i = 0; i < batch.numRows; i++) {
          const x = batch.getChild(p.x)!.get(i);
          xs.push(x === null ? NaN : Number(x));
          p.y.forEach((c, k) => {
            const v = batch.getChild(c)!.get(i);
            ys[k].push(v === null ? NaN : Number(v));
          });
        }
      },
      endPartition() {},
      async commit() {
        file = new OutputFile(sinkFile(outDir, p.path));
        await file.write(new TextEncoder().encode(svg(p, xs, ys, isTime)));
        await file.finish();
        return [{ path: file.path, bytes: file.size, sha256: await file.commit() }];
      },
      async abort() {
        await file?.abort();
      },
    };
  },
});

function svg(p: z.output<typeof params>, xs: number[], ys: number[][], isTime: boolean): string {
  const finite = (a: number[]) => a.filter(Number.isFinite);
  const all = ys.flatMap(finite);
  const [x0, x1] = [Math.min(...finite(xs)), Math.max(...finite(xs))];
  const [y0, y1] = [Math.min(...all), Math.max(...all)];
  const sx = (x: number) => margin.left + ((x - x0) / (x1 - x0 || 1)) * (width - margin.left - margin.right);
  const sy = (y: number) => height - margin.bottom - ((y - y0) / (y1 - y0 || 1)) * (height - margin.top - margin.bottom);
  const label = (x: number) => (isTime ? new Date(x).toISOString().slice(0, 10) : x.toPrecision(6));
  const lines = ys.map((values, k) => {
    let d = '';
    let pen = false;
    values.forEach((v, i) => {
      if (!Number.isFinite(v) || !Number.isFinite(xs[i])) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${sx(xs[i]).toFixed(1)},${sy(v).toFixed(1)}`;
      pen = true;
    });
    return `<path d="${d}" fill="none" stroke="${colours[k % colours.length]}" stroke-width="1.2"/>`;
  });
  const legend = p.y.map((name, k) => `<text x="${margin.left + 10 + k * 160}" y="${margin.top - 10}" fill="${colours[k % colours.length]}">${escape(name)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escape(p.title)}</text>
<line x1="${margin.left}" y1="${height - margin.bottom}" x2="${width - margin.right}" y2="${height - margin.bottom}" stroke="black"/>
<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${height - margin.bottom}" stroke="black"/>
<text x="${margin.left}" y="${height - margin.bottom + 18}">${label(x0)}</text>
<text x="${width - margin.right}" y="${height - margin.bottom + 18}" text-anchor="end">${label(x1)}</text>
<text x="${width / 2}" y="${height - 12}" text-anchor="middle">${escape(p.x)}</text>
<text x="${margin.left - 6}" y="${height - margin.bottom}" text-anchor="end">${y0.toPrecision(5)}</text>
<text x="${margin.left - 6}" y="${margin.top + 4}" text-anchor="end">${y1.toPrecision(5)}</text>
${legend.join('\n')}
${lines.join('\n')}
</svg>
`;
}
