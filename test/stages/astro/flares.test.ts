// The NOAA SWPC flare definition, by hand-built light curves: where an event starts, peaks and
// ends, what does not start one, and the GOES class of a peak flux.
import { describe, expect, test } from 'vitest';
import { findFlares, goesClass } from '../../../src/stages/astro/flares.ts';

const minutes = (n: number) => Array.from({ length: n }, (_, i) => i * 60_000);

describe('astro.flares', () => {
  test('GOES classes: letter by decade, one decimal, never rounded up', () => {
    expect(goesClass(2.5449e-5)).toBe('M2.5');
    expect(goesClass(9.99e-6)).toBe('C9.9');
    expect(goesClass(1e-4)).toBe('X1.0');
    expect(goesClass(2.2e-4)).toBe('X2.2');
    expect(goesClass(3e-8)).toBe('A3.0');
    expect(goesClass(1.3e-7)).toBe('B1.3');
  });

  test('start at the first of four rising minutes reaching 1.4x, peak at the maximum, end halfway back down', () => {
    //          0    1    2    3    4    5    6    7    8    9   10   11   12
    const f = [1.0, 1.0, 1.1, 1.2, 1.3, 1.6, 3.0, 5.0, 4.0, 3.5, 2.9, 2.0, 1.0].map((x) => x * 1e-6);
    const [event, ...more] = findFlares(minutes(f.length), f, 1.4);
    expect(more).toEqual([]);
    // Minute 1: 1.0 → 1.3 is only 1.3x; minute 2: 1.1, 1.2, 1.3, 1.6 reaches 1.45x.
    expect(event.start).toBe(2 * 60_000);
    expect(event.peak).toBe(7 * 60_000);
    // Halfway between 5.0 and 1.1 is 3.05: minute 10 (2.9) is the first at or below it.
    expect(event.end).toBe(10 * 60_000);
  });

  test('a slow rise is no event; a missing minute breaks a rise; an event still going at the end has no end', () => {
    const slow = Array.from({ length: 30 }, (_, i) => 1e-6 * (1 + 0.05 * i));
    expect(findFlares(minutes(30), slow, 1.4)).toEqual([]);
    const gap = [1, 1.5, NaN, 2.5, 3, 3.5].map((x) => x * 1e-6);
    expect(findFlares(minutes(6), gap, 1.4)).toEqual([]);
    const open = [1e-6, 1.5e-6, 2e-6, 3e-6, 4e-6, 5e-6];
    expect(findFlares(minutes(6), open, 1.4)).toEqual([{ start: 0, peak: 5 * 60_000, end: null, peakFlux: 5e-6, startFlux: 1e-6 }]);
  });
});
