// CHECKSUM and DATASUM (FITS 4.0 §J, the checksum convention): the 32-bit ones' complement sum of
// an HDU's big-endian words. DATASUM is the sum of the data blocks, as an unsigned decimal string;
// CHECKSUM is chosen so that the whole HDU (header and data, padded) sums to −0, i.e. 0xFFFFFFFF.

/** Ones' complement sum of the 32-bit words of `bytes` (a multiple of 4 long), added to `sum`. */
export function onesComplementSum(bytes: Uint8Array, sum = 0): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words = bytes.length >> 2;
  for (let start = 0; start < words; start += 1 << 20) {
    // 2^20 words of < 2^32 each stay below 2^53 before the carries are folded back in.
    const end = Math.min(words, start + (1 << 20));
    for (let i = start; i < end; i++) sum += view.getUint32(4 * i);
    while (sum > 0xffffffff) sum = (sum % 0x100000000) + Math.floor(sum / 0x100000000);
  }
  return sum;
}

/** What is wrong with an HDU's CHECKSUM / DATASUM, given its padded header bytes and its padded data's sum; undefined if nothing (or no keywords). */
export function checksumProblem(header: Uint8Array, dataSum: number, checksum: unknown, datasum: unknown): string | undefined {
  if (typeof datasum === 'string' && datasum.trim() !== '' && Number(datasum) !== dataSum) {
    return `its data fails DATASUM: the data sums to ${dataSum}, the header says ${datasum.trim()} (the data was altered or damaged)`;
  }
  if (typeof checksum === 'string' && checksum.trim() !== '' && onesComplementSum(header, dataSum) !== 0xffffffff) {
    return 'it fails CHECKSUM: the header and data do not sum to -0 (the header or data was altered or damaged)';
  }
  return undefined;
}
