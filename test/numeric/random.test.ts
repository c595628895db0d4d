// The seeded generator: the same seed gives the same stream, and the distributions have the
// moments theory gives (mean, variance; for the gamma, shape k: mean k, variance k).
import { describe, expect, test } from 'vitest';
import { Random } from '../../src/numeric/random.ts';

function moments(draw: () => number, n: number) {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    sum += x;
    squares += x * x;
  }
  const mean = sum / n;
  return { mean, variance: squares / n - mean * mean };
}

describe('Random', () => {
  test('the same seed repeats the stream; another seed does not', () => {
    const a = new Random(7);
    const b = new Random(7);
    const c = new Random(8);
    const first = Array.from({ length: 5 }, () => a.uint32());
    expect(Array.from({ length: 5 }, () => b.uint32())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c.uint32())).not.toEqual(first);
  });

  test('uniform, normal, exponential and gamma have their theoretical mean and variance (n = 200k, 5σ)', () => {
    const n = 200_000;
    const random = new Random(1);
    const cases: [string, () => number, number, number][] = [
      ['uniform', () => random.uniform(), 0.5, 1 / 12],
      ['normal', () => random.normal(), 0, 1],
      ['exponential', () => random.exponential(), 1, 1],
      ['gamma 0.5', () => random.gamma(0.5), 0.5, 0.5],
      ['gamma 3', () => random.gamma(3), 3, 3],
    ];
    for (const [name, draw, mean, variance] of cases) {
      const m = moments(draw, n);
      expect(Math.abs(m.mean - mean), name).toBeLessThan(5 * Math.sqrt(variance / n));
      expect(Math.abs(m.variance / variance - 1), name).toBeLessThan(0.03);
    }
  });
});
