// Running an image-to-image network on an image of any size, a tile at a time. Tiles overlap by
// twice `margin`; each keeps its output only `margin` or more pixels away from the sides it shares
// with another tile (at the image's own sides it keeps everything). When `margin` is at least the
// network's receptive radius, every kept pixel saw exactly what it would have seen in one run over
// the whole image, so the stitched output equals the untiled one.

/** Where tiles of `tile` start along an axis of `length`: every `tile − 2·margin`, the last flush with the end. */
export function tileStarts(length: number, tile: number, margin: number): number[] {
  if (tile >= length) return [0];
  if (tile <= 2 * margin) throw new Error(`tiles of ${tile} pixels cannot keep anything with ${margin} cropped from each side`);
  const starts = [0];
  while (starts[starts.length - 1] + tile < length) starts.push(Math.min(starts[starts.length - 1] + tile - 2 * margin, length - tile));
  return starts;
}

/** The range [from, to) of the axis that the tile starting at `start` keeps. */
export function keptRange(start: number, tile: number, length: number, margin: number): [number, number] {
  return [start === 0 ? 0 : start + margin, start + tile >= length ? length : start + tile - margin];
}

/**
 * `run` applied to the `height` × `width` image in tiles of at most `tile` × `tile` (row after row of
 * values), stitched. `run` gets the tiles stacked (count × th × tw) and returns as many outputs.
 */
export async function runTiled(image: Float32Array, height: number, width: number, tile: number, margin: number,
  run: (tiles: Float32Array, count: number, th: number, tw: number) => Promise<Float32Array>): Promise<Float32Array> {
  const [th, tw] = [Math.min(tile, height), Math.min(tile, width)];
  const ys = tileStarts(height, th, margin);
  const xs = tileStarts(width, tw, margin);
  const tiles = new Float32Array(ys.length * xs.length * th * tw);
  let k = 0;
  for (const y0 of ys) for (const x0 of xs) {
    for (let y = 0; y < th; y++) tiles.set(image.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + tw), (k * th + y) * tw);
    k++;
  }
  const outputs = await run(tiles, k, th, tw);
  const out = new Float32Array(height * width);
  k = 0;
  for (const y0 of ys) for (const x0 of xs) {
    const [top, bottom] = keptRange(y0, th, height, margin);
    const [left, right] = keptRange(x0, tw, width, margin);
    for (let y = top; y < bottom; y++) {
      const from = (k * th + y - y0) * tw;
      out.set(outputs.subarray(from + left - x0, from + right - x0), y * width + left);
    }
    k++;
  }
  return out;
}
