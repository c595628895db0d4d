// A plane of values drawn as a PNG inside an SVG, so lines (WCS grid, detections) can go over it.
import { encodePng, pngDataUrl } from './png.ts';
import type { Plane } from './tensor.ts';

/** `rgba` for `plane`'s pixels, shown at `scale` display pixels each (or [across, down]); `over` is SVG drawn on top. */
export function pictureSvg(plane: Plane, rgba: Uint8Array, scale: number | [number, number], over = '', label = ''): string {
  const png = encodePng(plane.width, plane.height, rgba, 4);
  const [sx, sy] = typeof scale === 'number' ? [scale, scale] : scale;
  const [w, h] = [plane.width * sx, plane.height * sy];
  return `<svg class="picture" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img"${label ? ` aria-label="${label.replace(/"/g, '&quot;')}"` : ''}>`
    + `<image href="${pngDataUrl(png)}" x="0" y="0" width="${w}" height="${h}" preserveAspectRatio="none" style="image-rendering:pixelated"/>${over}</svg>`;
}

/** Display pixels per image pixel: small images enlarged to about 256 px, large ones as shrunk. */
export const displayScale = (plane: Plane): number => Math.max(1, Math.floor(256 / Math.max(plane.width, plane.height)));
