// Image and volume previews: a tensor row as a PNG under a stretch (zscale + asinh, an HU window,
// diverging about 0, linear), a mask over it in colour, and an RA/Dec grid where a FITS header has
// a celestial WCS. FITS images are drawn first row at the bottom; volumes with an affine (RAS
// after medical.orient) as radiologists read them: anterior up, the patient's right on the left.
import type { RecordBatch, Schema } from 'apache-arrow';
import type { ResultShow } from '../../workflow/results.ts';
import { escapeHtml as esc } from './html.ts';
import { displayScale, pictureSvg } from './picture.ts';
import { openOutput } from './read-output.ts';
import { overlayMask, stretchImage, type Stretch } from './stretch.ts';
import { batchWithRow, flip, orthogonalPlanes, planeOf, shrink, tensorAt, type Plane, type Tensor } from './tensor.ts';
import { previewLimits } from './types.ts';
import { wcsGridSvg, wcsOf } from './wcs-grid.ts';
import { zscale } from './zscale.ts';

type ImageShow = Extract<ResultShow, { kind: 'image' }>;
type VolumeShow = Extract<ResultShow, { kind: 'volume' }>;

interface Loaded { tensor: Tensor; mask?: Tensor; header?: Record<string, unknown>; radiological: boolean; fits: boolean }

async function load(file: string, show: ImageShow | VolumeShow, resolve: (output: string) => string): Promise<Loaded> {
  const { batch, index, schema } = await rowOf(file, show.row);
  const tensor = tensorAt(batch, schema, show.column, index);
  let mask: Tensor | undefined;
  if (typeof show.mask === 'string') mask = tensorAt(batch, schema, show.mask, index);
  else if (show.mask) {
    const other = await rowOf(resolve(show.mask.output), show.row);
    mask = tensorAt(other.batch, other.schema, show.mask.column, other.index);
  }
  if (mask && mask.values.length !== tensor.values.length) throw new Error(`the mask has shape [${mask.shape.join(', ')}], the image [${tensor.shape.join(', ')}]`);
  let header: Record<string, unknown> | undefined;
  const text = schema.fields.some((f) => f.name === 'header') ? batch.getChild('header')!.get(index) : undefined;
  if (typeof text === 'string') try { header = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON cards */ }
  const fits = header !== undefined && ('NAXIS' in header || 'SIMPLE' in header || 'XTENSION' in header || 'BITPIX' in header);
  return { tensor, mask, header, fits, radiological: schema.fields.some((f) => f.name === 'affine') };
}

async function rowOf(file: string, row: number): Promise<{ batch: RecordBatch; index: number; schema: Schema }> {
  const open = await openOutput(file);
  return { ...(await batchWithRow(open, row)), schema: open.schema };
}

function defaultStretch(l: Loaded): Stretch {
  return l.radiological ? 'hu-window' : l.fits ? 'zscale-asinh' : 'linear';
}

/** One plane drawn: shrunk, oriented, stretched, masked; `grid` SVG over it. */
function drawPlane(l: Loaded, plane: Plane, maskPlane: Plane | undefined, show: ImageShow | VolumeShow, withGrid: boolean): { svg: string; label: string } {
  const orient = (p: Plane) => flip(p, l.fits || l.radiological, l.radiological);
  const small = shrink(plane, previewLimits.imagePixels);
  const shown = orient(small);
  const stretch = show.stretch ?? defaultStretch(l);
  const { rgba, label } = stretchImage(shown.values, stretch, show.window, stretch === 'zscale-asinh' ? zscale(plane.values) : undefined);
  let masked = '';
  if (maskPlane) {
    const m = orient(shrink(maskPlane, previewLimits.imagePixels, 'max'));
    masked = `; mask: ${overlayMask(rgba, m.values).toLocaleString('en-US')} pixels coloured`;
  }
  const scale = displayScale(shown);
  const wcs = withGrid && l.header ? wcsOf(l.header) : undefined;
  const grid = wcs ? wcsGridSvg(wcs, plane.width, plane.height, scale / small.factor) : '';
  const size = `${plane.width} × ${plane.height}${small.factor > 1 ? `, shown 1:${small.factor}` : ''}`;
  return { svg: pictureSvg(shown, rgba, scale, grid, label), label: `${size}; ${label}${masked}${wcs ? `; grid: ${wcs.ctype.join(', ')}` : ''}` };
}

function maskSlice(mask: Tensor, planeSize: number): number {
  let best = 0, bestCount = -1;
  for (let s = 0; s * planeSize < mask.values.length; s++) {
    let count = 0;
    for (let i = s * planeSize; i < (s + 1) * planeSize; i++) if (mask.values[i] > 0) count++;
    if (count > bestCount) [best, bestCount] = [s, count];
  }
  return best;
}

export async function imagePreviewHtml(file: string, show: ImageShow, resolve: (output: string) => string): Promise<string> {
  const l = await load(file, show, resolve);
  const dims = l.tensor.shape.filter((d) => d > 1);
  const [h, w] = dims.slice(-2);
  const planes = l.tensor.values.length / (w * h);
  const index = typeof show.slice === 'number' ? show.slice
    : show.slice === 'mask' && l.mask ? maskSlice(l.mask, w * h) : Math.floor(planes / 2);
  const plane = planeOf(l.tensor, index);
  const { svg, label } = drawPlane(l, plane, l.mask && planeOf(l.mask, index), show, show.grid);
  const where = planes > 1 ? `slice ${index} of ${planes}; ` : '';
  return `<figure class="preview-image">${svg}<figcaption class="muted">${esc(where + label)}</figcaption></figure>`;
}

export async function volumePreviewHtml(file: string, show: VolumeShow, resolve: (output: string) => string): Promise<string> {
  const l = await load(file, show, resolve);
  if (l.tensor.shape.length < 3) throw new Error(`a volume needs 3 axes, this has shape [${l.tensor.shape.join(', ')}]`);
  const [nk, nj, ni] = l.tensor.shape.slice(-3);
  // Through the mask's centre where there is one, else the middle.
  let centre: [number, number, number] = [nk >> 1, nj >> 1, ni >> 1];
  if (l.mask) {
    let [sk, sj, si, n] = [0, 0, 0, 0];
    for (let p = 0; p < l.mask.values.length; p++) {
      if (!(l.mask.values[p] > 0)) continue;
      sk += Math.floor(p / (nj * ni)); sj += Math.floor(p / ni) % nj; si += p % ni; n++;
    }
    if (n > 0) centre = [Math.round(sk / n), Math.round(sj / n), Math.round(si / n)];
  }
  const planes = orthogonalPlanes(l.tensor, centre);
  const masks = l.mask ? orthogonalPlanes(l.mask, centre) : [];
  const names = ['axial', 'coronal', 'sagittal'];
  const figures = planes.map((p, k) => {
    const { svg, label } = drawPlane(l, p, masks[k], show, false);
    return `<figure class="preview-image">${svg}<figcaption class="muted">${esc(`${names[k]} (through ${centre.join(', ')}): ${label}`)}</figcaption></figure>`;
  });
  return `<div class="preview-row">${figures.join('')}</div>`;
}
