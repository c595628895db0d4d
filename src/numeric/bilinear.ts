// Bilinear sampling of a 2-D image stored row by row (x fastest). Pixel centres sit at integer
// coordinates; a point up to half a pixel beyond the edge takes the edge's value (the pixel it is
// in), one further out takes `outside`, or the nearest edge value when `outside` is 'edge'.

export interface Plane {
  values: ArrayLike<number>;
  width: number;
  height: number;
}

export function bilinear({ values, width, height }: Plane, x: number, y: number, outside: number | 'edge'): number {
  if (outside !== 'edge' && (x < -0.5 || y < -0.5 || x > width - 0.5 || y > height - 0.5)) return outside;
  const cx = Math.min(Math.max(x, 0), width - 1);
  const cy = Math.min(Math.max(y, 0), height - 1);
  const x0 = Math.min(Math.floor(cx), Math.max(width - 2, 0));
  const y0 = Math.min(Math.floor(cy), Math.max(height - 2, 0));
  const x1 = Math.min(x0 + 1, width - 1);
  const y1 = Math.min(y0 + 1, height - 1);
  const wx = cx - x0;
  const wy = cy - y0;
  const top = values[y0 * width + x0] * (1 - wx) + values[y0 * width + x1] * wx;
  const bottom = values[y1 * width + x0] * (1 - wx) + values[y1 * width + x1] * wx;
  return top * (1 - wy) + bottom * wy;
}
