// Scoring a nodule detector: a detection hits a nodule when it lies within the nodule's radius of
// its centre (or within `minRadiusMm`, for nodules smaller than the voxels the detections fall on);
// of several nodules, the nearest. FROC (free-response ROC, as LUNA16 scores): detections of all
// volumes in falling score order; the first hit on each nodule is a true positive, later hits on it
// count as neither, a detection that hits nothing is a false positive. The sensitivity at a rate of
// f false positives per volume is the highest reached while false positives ≤ f × volumes
// (detections of equal score enter together).

export interface Detection {
  volume: string;
  x: number;
  y: number;
  z: number;
  score: number;
}

export interface TruthNodule {
  volume: string;
  nodule: number;
  x: number;
  y: number;
  z: number;
  radius: number;
}

/** The nodules of each volume. */
export function byVolume(truth: TruthNodule[]): Map<string, TruthNodule[]> {
  const map = new Map<string, TruthNodule[]>();
  for (const t of truth) map.set(t.volume, [...(map.get(t.volume) ?? []), t]);
  return map;
}

/** The nodule `d` hits (the nearest of those whose reach covers it), or undefined. */
export function matchDetection(d: Omit<Detection, 'score'>, nodules: Map<string, TruthNodule[]>, minRadiusMm: number): TruthNodule | undefined {
  let best: TruthNodule | undefined;
  let bestDistance = Infinity;
  for (const t of nodules.get(d.volume) ?? []) {
    const distance = Math.hypot(d.x - t.x, d.y - t.y, d.z - t.z);
    if (distance <= Math.max(t.radius, minRadiusMm) && distance < bestDistance) {
      best = t;
      bestDistance = distance;
    }
  }
  return best;
}

export interface FrocPoint {
  fp_per_volume: number;
  sensitivity: number;
  detected: number;
  false_positives: number;
}

/** Sensitivity at each of `rates` false positives per volume, over `volumes` volumes. */
export function froc(detections: Detection[], truth: TruthNodule[], volumes: number, rates: number[], minRadiusMm: number): FrocPoint[] {
  const nodules = byVolume(truth);
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const found = new Set<TruthNodule>();
  // Operating points after each group of equal scores: [false positives, nodules found].
  const points: [number, number][] = [[0, 0]];
  let falsePositives = 0;
  sorted.forEach((d, n) => {
    const hit = matchDetection(d, nodules, minRadiusMm);
    if (!hit) falsePositives++;
    else found.add(hit);
    if (n === sorted.length - 1 || sorted[n + 1].score !== d.score) points.push([falsePositives, found.size]);
  });
  return rates.map((rate) => {
    const allowed = points.filter(([fp]) => fp <= rate * volumes);
    const [fp, detected] = allowed.reduce((best, point) => (point[1] > best[1] ? point : best), [0, 0]);
    return { fp_per_volume: rate, sensitivity: truth.length ? detected / truth.length : NaN, detected, false_positives: fp };
  });
}
