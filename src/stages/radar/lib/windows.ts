// Tapers for Doppler processing and pulse compression: symmetric windows, as numpy's hanning,
// hamming and blackman, scaled to unit energy (Σw² = 1) so white noise keeps its power.
import { z } from 'zod';

const shapes = {
  none: () => 1,
  hann: (n: number, m: number) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (m - 1)),
  hamming: (n: number, m: number) => 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / (m - 1)),
  blackman: (n: number, m: number) => 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (m - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (m - 1)),
};

export const windowName = z.enum(['none', 'hann', 'hamming', 'blackman']);
export type WindowName = z.infer<typeof windowName>;

/** The window's `length` values, scaled so Σw² = 1. */
export function unitEnergyWindow(name: WindowName, length: number): Float64Array {
  const w = Float64Array.from({ length }, (_, n) => (length === 1 ? 1 : shapes[name](n, length)));
  const norm = Math.sqrt(w.reduce((a, x) => a + x * x, 0));
  return w.map((x) => x / norm);
}
