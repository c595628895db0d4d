// Range–Doppler previews: a row's [doppler, range] power map in dB as a heat image (positive
// Doppler up, range to the right), detections of the same CPI circled, with their axes' extents.
import type { ResultShow } from '../../workflow/results.ts';
import { readColumns, toNumber } from './columns.ts';
import { escapeHtml as esc } from './html.ts';
import { displayScale, pictureSvg } from './picture.ts';
import { openOutput } from './read-output.ts';
import { batchWithRow, flip, planeOf, shrink, tensorAt } from './tensor.ts';
import { previewLimits } from './types.ts';

type RangeDopplerShow = Extract<ResultShow, { kind: 'range-doppler' }>;

// A perceptual dark-to-bright map (viridis' ends and middle): low power dark blue, high yellow.
const heat = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function heatColour(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, t)) * (heat.length - 1);
  const i = Math.min(heat.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(heat[i][c] + f * (heat[i + 1][c] - heat[i][c]))) as [number, number, number];
}

export async function rangeDopplerPreviewHtml(file: string, show: RangeDopplerShow, resolve: (output: string) => string): Promise<string> {
  const open = await openOutput(file);
  const { batch, index } = await batchWithRow(open, show.row);
  const tensor = tensorAt(batch, open.schema, show.map, index);
  if (tensor.shape.length !== 2) throw new Error(`the map '${show.map}' has shape [${tensor.shape.join(', ')}], not [doppler, range]`);
  const [dopplers, ranges] = tensor.shape;
  const cpiColumn = batch.getChild('cpi');
  const cpi = cpiColumn ? toNumber(cpiColumn.get(index)) : undefined;
  const axis = (name: string) => {
    const v = batch.getChild(name)?.get(index) as { toArray?: () => ArrayLike<number> } | null | undefined;
    return v && typeof v.toArray === 'function' ? Array.from(v.toArray()) : undefined;
  };
  const [dopplerHz, rangeM] = [axis('doppler_hz'), axis('range_m')];
  // Power to dB; the colour scale from the median (the noise floor) to the peak.
  const plane = planeOf(tensor, 0);
  const db = plane.values.map((v) => (v > 0 ? 10 * Math.log10(v) : NaN));
  const small = shrink({ ...plane, values: db }, previewLimits.imagePixels, 'max');
  const shown = flip(small, true);
  const finite = Array.from(shown.values).filter(Number.isFinite).sort((a, b) => a - b);
  const [lo, hi] = [finite[Math.floor(finite.length / 2)] ?? 0, finite[finite.length - 1] ?? 1];
  const rgba = new Uint8Array(shown.values.length * 4);
  shown.values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    rgba.set([...heatColour((v - lo) / (hi - lo || 1)), 255], i * 4);
  });
  // Cells are stretched to a readable picture: range across, Doppler rows at least 4 px tall.
  const scale = Math.max(1, displayScale(shown));
  const yScale = Math.max(scale, Math.floor(256 / shown.height));
  let circles = '';
  let found = '';
  if (show.detections) {
    const dOpen = await openOutput(resolve(show.detections));
    const has = (n: string) => dOpen.schema.fields.some((f) => f.name === n);
    if (!has('range_bin') || !has('doppler_bin')) throw new Error(`${show.detections} has no range_bin and doppler_bin columns`);
    const cols = ['range_bin', 'doppler_bin', ...(has('cpi') ? ['cpi'] : [])];
    const d = await readColumns(dOpen, cols, previewLimits.seriesRows, cpi !== undefined && has('cpi') ? { column: 'cpi', equals: cpi } : undefined);
    const rb = d.numbers.get('range_bin')!, db2 = d.numbers.get('doppler_bin')!;
    const parts: string[] = [];
    for (let k = 0; k < rb.length; k++) {
      const x = ((rb[k] + 0.5) / small.factor) * scale;
      const y = ((dopplers - 1 - db2[k] + 0.5) / small.factor) * yScale;
      parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="7"><title>${esc(`range bin ${rb[k]}, Doppler bin ${db2[k]}`)}</title></circle>`);
    }
    circles = `<g class="detections"><style>.detections circle{fill:none;stroke:#fff;stroke-width:1.8}</style>${parts.join('')}</g>`;
    found = `; ${rb.length} detection(s) circled`;
  }
  const picture = pictureSvg(shown, rgba, [scale, yScale], circles, 'range-Doppler map');
  const extent = (v: number[] | undefined, unit: string, digits: number) => (v ? `${v[0].toFixed(digits)} … ${v[v.length - 1].toFixed(digits)} ${unit}` : '');
  const caption = `${cpi !== undefined ? `CPI ${cpi}: ` : ''}${dopplers} Doppler × ${ranges} range cells${small.factor > 1 ? ` (shown 1:${small.factor})` : ''}; `
    + `range ${extent(rangeM, 'm', 0) || `bins 0 … ${ranges - 1}`} left to right, Doppler ${extent(dopplerHz, 'Hz', 1) || `bins 0 … ${dopplers - 1}`} bottom to top; `
    + `colour ${lo.toFixed(1)} … ${hi.toFixed(1)} dB${found}`;
  return `<figure class="preview-image">${picture}<figcaption class="muted">${esc(caption)}</figcaption></figure>`;
}
