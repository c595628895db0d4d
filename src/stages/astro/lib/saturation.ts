// Over-exposure of a CCD image and the mask of what it spoiled (row-major images, rows × columns).
// A CCD pixel holds charge up to its full well (the saturation `level`); what a saturated pixel
// collects beyond that spills into its neighbours along the readout column (blooming), filling them
// up to the level in turn: the bright streaks up and down from a saturated core in EUV images.
import type { Grid } from './inpainting.ts';

export interface MaskOptions {
  /** Values at or above this are saturated. */
  level: number;
  /** Pixels at or above this, in a column run that holds a saturated pixel, are bleeding too. */
  bleedLevel?: number;
  /** Pixels added around the mask (a square of side 2 × dilate + 1). */
  dilate: number;
}

/**
 * 1 where the image is saturated (≥ level), where it bleeds (a run along a column of values ≥
 * bleedLevel that holds a saturated pixel), and within `dilate` pixels of either; 0 elsewhere.
 */
export function saturationMask(image: ArrayLike<number>, { height, width }: Grid, { level, bleedLevel = level, dilate }: MaskOptions): Uint8Array {
  const core = new Uint8Array(height * width);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height;) {
      if (!(image[y * width + x] >= bleedLevel)) {
        y++;
        continue;
      }
      let end = y;
      let saturated = false;
      for (; end < height && image[end * width + x] >= bleedLevel; end++) saturated ||= image[end * width + x] >= level;
      if (saturated) for (let k = y; k < end; k++) core[k * width + x] = 1;
      y = end;
    }
  }
  return dilateSquare(core, { height, width }, dilate);
}

/** A 0/1 image grown by `radius` pixels in every direction (a square structuring element). */
export function dilateSquare(mask: Uint8Array, { height, width }: Grid, radius: number): Uint8Array {
  if (radius === 0) return mask;
  const rows = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (!mask[y * width + x]) continue;
    for (let c = Math.max(0, x - radius); c <= Math.min(width - 1, x + radius); c++) rows[y * width + c] = 1;
  }
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (!rows[y * width + x]) continue;
    for (let r = Math.max(0, y - radius); r <= Math.min(height - 1, y + radius); r++) out[r * width + x] = 1;
  }
  return out;
}

/**
 * What a CCD with full well `level` records of `truth`: each run of pixels above the level along a
 * column is clipped to it, and `bleed` of its excess charge spills half up, half down the column,
 * filling each pixel beyond the run up to the level before going on (charge leaving the image is
 * lost; 1 − bleed of it is drained, as anti-blooming gates would).
 */
export function overexpose(truth: ArrayLike<number>, { height, width }: Grid, level: number, bleed: number): Float64Array {
  const observed = Float64Array.from(truth);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height;) {
      if (!(truth[y * width + x] > level)) {
        y++;
        continue;
      }
      let end = y;
      let excess = 0;
      for (; end < height && truth[end * width + x] > level; end++) {
        excess += truth[end * width + x] - level;
        observed[end * width + x] = level;
      }
      spill(observed, width, x, y - 1, -1, (bleed * excess) / 2, level, height);
      spill(observed, width, x, end, 1, (bleed * excess) / 2, level, height);
      y = end;
    }
  }
  return observed;
}

/** Charge `amount` poured into column x from row `from` on, in direction `step`, each pixel filled to `level`. */
function spill(image: Float64Array, width: number, x: number, from: number, step: 1 | -1, amount: number, level: number, height: number) {
  for (let y = from; amount > 0 && y >= 0 && y < height; y += step) {
    const room = Math.max(0, level - image[y * width + x]);
    const taken = Math.min(room, amount);
    image[y * width + x] += taken;
    amount -= taken;
  }
}
