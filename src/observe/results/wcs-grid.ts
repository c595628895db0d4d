// Celestial grid lines over an image preview: lines of constant longitude and latitude, traced
// through the header's WCS (src/numeric/wcs.ts, checked against astropy), in display pixels.
import { Wcs } from '../../numeric/wcs.ts';
import { escapeHtml as esc } from './html.ts';

/** The header's celestial WCS, or undefined (none, or one the WCS code does not handle). */
export function wcsOf(header: Record<string, unknown>): Wcs | undefined {
  try {
    return Wcs.fromHeaderIfAny((k) => header[k] as never);
  } catch {
    return undefined;
  }
}

const steps = [1 / 3600, 2 / 3600, 5 / 3600, 10 / 3600, 15 / 3600, 30 / 3600, 1 / 60, 2 / 60, 5 / 60, 10 / 60, 15 / 60, 30 / 60, 1, 2, 5, 10, 15, 30, 45];
const stepFor = (span: number) => steps.find((s) => span / s <= 6) ?? 90;

function angleLabel(deg: number, step: number): string {
  if (step >= 1) return `${+deg.toFixed(0)}°`;
  if (step >= 1 / 60) return `${+deg.toFixed(2)}°`;
  return `${+deg.toFixed(4)}°`;
}

/**
 * SVG for the grid over an image of `width` × `height` pixels shown `scale` display pixels per
 * image pixel, its first row at the bottom (FITS). Empty where the WCS gives no finite coordinates.
 */
export function wcsGridSvg(wcs: Wcs, width: number, height: number, scale: number): string {
  // Sample the image on a 21 × 21 grid for the ranges; longitudes unwrapped about the centre's.
  const [lon0] = wcs.pixelToWorld((width - 1) / 2, (height - 1) / 2);
  if (!Number.isFinite(lon0)) return '';
  const unwrap = (lon: number) => lon0 + ((((lon - lon0) % 360) + 540) % 360) - 180;
  let [lonMin, lonMax, latMin, latMax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let a = 0; a <= 20; a++) {
    for (let b = 0; b <= 20; b++) {
      const [lon, lat] = wcs.pixelToWorld((a / 20) * (width - 1), (b / 20) * (height - 1));
      if (!Number.isFinite(lon) || !Number.isFinite(lat)) continue;
      const u = unwrap(lon);
      lonMin = Math.min(lonMin, u); lonMax = Math.max(lonMax, u); latMin = Math.min(latMin, lat); latMax = Math.max(latMax, lat);
    }
  }
  if (!Number.isFinite(lonMin) || !(latMax > latMin)) return '';
  const lonStep = stepFor(lonMax - lonMin);
  const latStep = stepFor(latMax - latMin);
  const toDisplay = ([x, y]: [number, number]): [number, number] => [(x + 0.5) * scale, (height - 0.5 - y) * scale];
  const inside = ([x, y]: [number, number]) => x >= -0.5 && x <= width - 0.5 && y >= -0.5 && y <= height - 0.5;
  const trace = (points: [number, number][]) => {
    let d = '';
    let pen = false;
    let labelAt: [number, number] | undefined;
    for (const p of points) {
      if (!Number.isFinite(p[0]) || !Number.isFinite(p[1]) || !inside(p)) { pen = false; continue; }
      const [x, y] = toDisplay(p);
      d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
      pen = true;
      labelAt ??= [x, y];
    }
    return { d, labelAt };
  };
  const lines: string[] = [];
  const [lonName, latName] = wcs.ctype.map((c) => c.replace(/-.*$/, '').replace(/^(RA|DEC)$/, (m) => (m === 'RA' ? 'RA' : 'Dec')));
  const n = 60;
  for (let lon = Math.ceil(lonMin / lonStep) * lonStep; lon <= lonMax; lon += lonStep) {
    const { d, labelAt } = trace(Array.from({ length: n + 1 }, (_, i) => wcs.worldToPixel(((lon % 360) + 360) % 360, latMin + ((latMax - latMin) * i) / n)));
    if (!d) continue;
    lines.push(`<path class="wcs" d="${d}"/>`);
    if (labelAt) lines.push(`<text class="wcs" x="${(labelAt[0] + 3).toFixed(1)}" y="${(labelAt[1] - 4).toFixed(1)}">${esc(`${lonName} ${angleLabel(((lon % 360) + 360) % 360, lonStep)}`)}</text>`);
  }
  for (let lat = Math.ceil(latMin / latStep) * latStep; lat <= latMax; lat += latStep) {
    const { d, labelAt } = trace(Array.from({ length: n + 1 }, (_, i) => wcs.worldToPixel(((lonMin + ((lonMax - lonMin) * i) / n) % 360 + 360) % 360, lat)));
    if (!d) continue;
    lines.push(`<path class="wcs" d="${d}"/>`);
    if (labelAt) lines.push(`<text class="wcs" x="${(labelAt[0] + 3).toFixed(1)}" y="${(labelAt[1] - 4).toFixed(1)}">${esc(`${latName} ${angleLabel(lat, latStep)}`)}</text>`);
  }
  return `<g class="wcs-grid"><style>.wcs-grid path{fill:none;stroke:#7ee787;stroke-opacity:.75;stroke-width:1}.wcs-grid text{font:10px system-ui,sans-serif;fill:#7ee787}</style>${lines.join('')}</g>`;
}
