// The Clopper–Pearson interval against SciPy: lower = beta.ppf(α/2, k, n-k+1), upper =
// beta.ppf(1-α/2, k+1, n-k) (scipy 1.x, run offline), and the binomial CDF against binom.cdf.
import { describe, expect, test } from 'vitest';
import { binomialCdf, clopperPearson } from '../../src/numeric/binomial-interval.ts';

describe('binomial interval', () => {
  test('95 % Clopper–Pearson matches SciPy from k = 0 to k = n, n up to millions', () => {
    const scipy: [number, number, number, number][] = [
      [0, 50, 0, 0.07112173646419764],
      [3, 50, 0.01254858783533406, 0.16548194660377288],
      [204, 204800, 0.0008641416649968471, 0.0011424809325288976],
      [50, 400, 0.09421851468658607, 0.16145865943060564],
      [400, 400, 0.9908201954163347, 1],
      [1, 1000000, 2.5317807663794178e-08, 5.571630655166939e-06],
      [2048, 2048000, 0.0009571750979360005, 0.0010442458343587994],
      [137, 277, 0.4342356435706703, 0.5550511002776013],
    ];
    for (const [k, n, low, high] of scipy) {
      const got = clopperPearson(k, n);
      expect(Math.abs(got.low - low)).toBeLessThanOrEqual(1e-12 * Math.max(low, 1e-300) + 1e-300);
      expect(Math.abs(got.high - high)).toBeLessThanOrEqual(1e-12 * high);
    }
  });

  test('binomial CDF on both tails matches SciPy; bad counts are refused', () => {
    expect(binomialCdf(10, 100, 0.08)).toBeCloseTo(0.8243330044654478, 12);
    expect(binomialCdf(900, 1000, 0.91)).toBeCloseTo(0.14717649377842765, 12);
    expect(() => clopperPearson(5, 4)).toThrow(/0 ≤ k ≤ n/);
  });
});
