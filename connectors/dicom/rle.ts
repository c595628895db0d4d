// DICOM RLE Lossless (PS3.5 Annex G): a frame is a 64-byte header (the segment count and up to 15
// segment offsets, little-endian uint32) and segments, each one byte plane run-length coded as
// PackBits: n in 0..127 copies the next n + 1 bytes, n in −127..−1 repeats the next byte 1 − n
// times, −128 does nothing. Planes come most significant byte first, sample by sample.

/** Decodes one RLE frame to `pixels` samples of `bytesPerSample` bytes, interleaved, little-endian. */
export function decodeRle(frame: Uint8Array, pixels: number, bytesPerSample: number, samplesPerPixel: number): Uint8Array {
  if (frame.length < 64) throw new Error(`RLE frame of ${frame.length} bytes is shorter than its 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expected = bytesPerSample * samplesPerPixel;
  if (segments !== expected) throw new Error(`RLE frame has ${segments} segments; ${bytesPerSample}-byte samples × ${samplesPerPixel} need ${expected}`);
  const offsets = Array.from({ length: segments }, (_, i) => view.getUint32(4 + 4 * i, true));
  const out = new Uint8Array(pixels * expected);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s];
    const end = s + 1 < segments ? offsets[s + 1] : frame.length;
    if (start < 64 || end > frame.length || start > end) throw new Error(`RLE segment ${s + 1} has offsets ${start}..${end} outside the frame's ${frame.length} bytes`);
    const sample = Math.floor(s / bytesPerSample);
    const significance = bytesPerSample - 1 - (s % bytesPerSample); // segment 0 of a sample: its most significant byte
    const stride = expected;
    let target = sample * bytesPerSample + significance;
    let written = 0;
    const put = (byte: number) => {
      if (written < pixels) out[target] = byte;
      target += stride;
      written++;
    };
    for (let i = start; i < end && written < pixels;) {
      const n = (frame[i] << 24) >> 24;
      i++;
      if (n >= 0) {
        for (let k = 0; k <= n; k++) put(frame[i + k]);
        i += n + 1;
      } else if (n !== -128) {
        for (let k = 0; k < 1 - n; k++) put(frame[i]);
        i++;
      }
    }
    if (written < pixels) throw new Error(`RLE segment ${s + 1} decodes to ${written} bytes; the frame has ${pixels} pixels`);
  }
  return out;
}
