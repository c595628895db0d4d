// What the repair network sees of an over-exposed image, the same in training and in use: two
// channels (last), the image in units of the saturation level with every masked pixel set to 1
// (the level: what a saturated pixel reads), and the mask itself, so the network knows which
// pixels to rebuild. Its output is in the same units.

export function repairInput(image: ArrayLike<number>, mask: ArrayLike<number>, level: number): Float32Array {
  const out = new Float32Array(2 * mask.length);
  for (let i = 0; i < mask.length; i++) {
    const masked = mask[i] > 0;
    out[2 * i] = masked ? 1 : image[i] / level;
    out[2 * i + 1] = masked ? 1 : 0;
  }
  return out;
}
