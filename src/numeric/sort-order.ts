// The order that sorts an array of floats, by LSD radix sort on the IEEE bits (byte by byte, 4
// passes for float32, 8 for float64): O(n), and stable, so equal values keep index order. Bits map
// to an unsigned key that sorts like the numbers: negatives have every bit flipped, others the sign
// bit set. NaNs sort last.
type FloatArray = Float32Array | Float64Array;

/** Indices of `values` in ascending order of value. */
export function sortOrder(values: FloatArray): Uint32Array {
  const n = values.length;
  const words = values instanceof Float64Array ? 2 : 1;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n * words);
  // Keys as 32-bit words, most significant last: key[i * words + w].
  const keys = new Uint32Array(n * words);
  for (let i = 0; i < n; i++) {
    const high = bits[i * words + words - 1];
    const negative = high >>> 31 === 1;
    for (let w = 0; w < words; w++) keys[i * words + w] = negative ? ~bits[i * words + w] >>> 0 : bits[i * words + w];
    if (!negative) keys[i * words + words - 1] = (high | 0x80000000) >>> 0;
  }
  let order = new Uint32Array(n);
  let next = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const counts = new Uint32Array(256);
  for (let pass = 0; pass < 4 * words; pass++) {
    const word = pass >> 2;
    const shift = (pass & 3) * 8;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i * words + word] >>> shift) & 255]++;
    if (counts.some((c) => c === n)) continue; // every key has the same byte here: nothing moves
    for (let b = 0, sum = 0; b < 256; b++) {
      const c = counts[b];
      counts[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const index = order[i];
      next[counts[(keys[index * words + word] >>> shift) & 255]++] = index;
    }
    [order, next] = [next, order];
  }
  return order;
}
