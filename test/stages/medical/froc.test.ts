// Matching and FROC on a case worked by hand: two volumes, three nodules, seven detections.
import { describe, expect, test } from 'vitest';
import { byVolume, froc, matchDetection, type Detection, type TruthNodule } from '../../../src/stages/medical/lib/froc.ts';

const truth: TruthNodule[] = [
  { volume: 'A', nodule: 1, x: 0, y: 0, z: 0, radius: 5 },
  { volume: 'A', nodule: 2, x: 20, y: 0, z: 0, radius: 2 },
  { volume: 'B', nodule: 1, x: 0, y: 0, z: 0, radius: 4 },
];
const at = (volume: string, x: number, y: number, score: number): Detection => ({ volume, x, y, z: 0, score });
const detections = [
  at('A', 1, 0, 0.9), // hits A1: found 1
  at('B', 30, 0, 0.8), // false positive 1
  at('A', 2, 1, 0.7), // A1 again: neither
  at('B', 0, 3, 0.6), // hits B1: found 2
  at('A', 50, 0, 0.5), // false positive 2
  at('A', 50, 50, 0.4), // false positive 3
  at('A', 22.5, 0, 0.3), // 2.5 mm from A2 (radius 2): false positive 4, or with min_radius 3 a hit: found 3
];

describe('nodule matching and FROC', () => {
  test('a detection hits the nearest nodule whose radius (or the minimum) reaches it, only in its own volume', () => {
    const nodules = byVolume(truth);
    expect(matchDetection(at('A', 1, 0, 0), nodules, 0)?.nodule).toBe(1);
    expect(matchDetection(at('B', 1, 0, 0), nodules, 0)).toMatchObject({ volume: 'B', nodule: 1 });
    expect(matchDetection(at('A', 22.5, 0, 0), nodules, 0)).toBeUndefined();
    expect(matchDetection(at('A', 22.5, 0, 0), nodules, 3)?.nodule).toBe(2);
    expect(matchDetection(at('C', 0, 0, 0), nodules, 3)).toBeUndefined();
    // Between two overlapping reaches, the nearer centre.
    const close = byVolume([{ ...truth[0], radius: 15 }, { ...truth[1], radius: 15 }]);
    expect(matchDetection(at('A', 11, 0, 0), close, 0)?.nodule).toBe(2);
  });

  test('sensitivity at 0.5, 1, 2 false positives per volume (2 volumes: at most 1, 2, 4 of them)', () => {
    // Points (false positives, found): (0,1) (1,1) (1,1) (1,2) (2,2) (3,2) (4,2).
    expect(froc(detections, truth, 2, [0.5, 1, 2], 0)).toEqual([
      { fp_per_volume: 0.5, sensitivity: 2 / 3, detected: 2, false_positives: 1 },
      { fp_per_volume: 1, sensitivity: 2 / 3, detected: 2, false_positives: 1 },
      { fp_per_volume: 2, sensitivity: 2 / 3, detected: 2, false_positives: 1 },
    ]);
    // With min_radius 3 the last detection finds A2: (3, 3).
    expect(froc(detections, truth, 2, [0.25, 1, 2], 3).map((p) => [p.detected, p.false_positives])).toEqual([[1, 0], [2, 1], [3, 3]]);
  });

  test('detections of equal score enter together; no detections, no sensitivity', () => {
    const tied = [at('A', 0, 0, 0.5), at('A', 90, 0, 0.5), at('B', 90, 0, 0.5)];
    // One group: 1 found with 2 false positives; at 0.5 per volume (≤ 1) nothing is reached yet.
    expect(froc(tied, truth, 2, [0.5, 1], 0).map((p) => p.detected)).toEqual([0, 1]);
    expect(froc([], truth, 2, [1], 0)[0]).toEqual({ fp_per_volume: 1, sensitivity: 0, detected: 0, false_positives: 0 });
  });
});
