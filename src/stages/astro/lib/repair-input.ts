// What the repair network sees of an over-exposed image, the same in training and in use: two
// channels (last), the image in units of the saturation level as recorded (a saturated pixel
// reads 1; the dilated edge of the mask keeps its mostly sound values) and the mask itself, so the
// network knows which pixels to rebuild. Its output, the correction each pixel needs, is in the
// same units.

export function repairInput(image: ArrayLike<number>, mask: ArrayLike<number>, level: number): Float32Array {
  const out = new Float32Array(2 * mask.length);
  for (let i = 0; i < mask.length; i++) {
    out[2 * i] = image[i] / level;
    out[2 * i + 1] = mask[i] > 0 ? 1 : 0;
  }
  return out;
}
