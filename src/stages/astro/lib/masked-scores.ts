// Scores of a repair where it repaired: over the masked pixels only, since outside the mask every
// method gives the image back unchanged and would only dilute the differences.

export interface MaskedSums {
  /** Masked pixels counted. */
  pixels: number;
  /** Σ (image − reference)² over them. */
  squaredError: number;
  /** Σ image and Σ reference over them. */
  flux: number;
  referenceFlux: number;
}

/** The sums over the pixels where `mask` > 0. */
export function maskedSums(image: ArrayLike<number>, reference: ArrayLike<number>, mask: ArrayLike<number>): MaskedSums {
  const sums: MaskedSums = { pixels: 0, squaredError: 0, flux: 0, referenceFlux: 0 };
  for (let i = 0; i < mask.length; i++) {
    if (!(mask[i] > 0)) continue;
    sums.pixels++;
    sums.squaredError += (image[i] - reference[i]) ** 2;
    sums.flux += image[i];
    sums.referenceFlux += reference[i];
  }
  return sums;
}

/** PSNR (dB) for a peak value: 10 log10(peak² / mean squared error). */
export const maskedPsnr = (s: MaskedSums, peak: number) => 10 * Math.log10((peak * peak) / (s.squaredError / s.pixels));

/** Relative error of the flux inside the mask: (Σ image − Σ reference) / Σ reference. */
export const maskedFluxError = (s: MaskedSums) => (s.flux - s.referenceFlux) / s.referenceFlux;
