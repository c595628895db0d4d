// `model.kmeans`: k-means clustering of rows by feature columns (e.g. return patterns). Lloyd's
// iterations from k-means++ starts, `restarts` times from seeded random starts, keeping the
// clustering with the least within-cluster sum of squares. Adds `cluster` (0..k-1, numbered by
// first appearance) and `distance` (to the cluster's centre).
import { Field, Float64, Int32, makeData } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { Random } from '../../numeric/random.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { numbers, requireNumbers, withColumns } from '../../arrow/added-columns.ts';
import { holdRows } from '../../arrow/hold-rows.ts';

const params = z.object({
  features: z.array(z.string().min(1)).min(1),
  k: z.number().int().min(1),
  restarts: z.number().int().min(1).default(10),
  iterations: z.number().int().min(1).default(300),
  seed: z.number().int().default(0),
}).strict();

export interface Clustering { assignment: Int32Array; centres: number[][]; inertia: number }

const distance2 = (a: number[], b: number[]) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);

export function kmeans(points: number[][], k: number, restarts: number, iterations: number, seed: number): Clustering {
  if (points.length < k) throw new Error(`${points.length} rows cannot form ${k} clusters`);
  const random = new Random(seed);
  let best: Clustering | undefined;
  for (let run = 0; run < restarts; run++) {
    // k-means++: each next centre drawn with probability proportional to its squared distance.
    const centres = [points[Math.floor(random.uniform() * points.length)].slice()];
    while (centres.length < k) {
      const d = points.map((p) => Math.min(...centres.map((c) => distance2(p, c))));
      let pick = random.uniform() * d.reduce((a, b) => a + b, 0);
      let i = 0;
      while (i < points.length - 1 && (pick -= d[i]) > 0) i++;
      centres.push(points[i].slice());
    }
    const assignment = new Int32Array(points.length).fill(-1);
    for (let step = 0; step < iterations; step++) {
      let moved = false;
      points.forEach((p, i) => {
        const ds = centres.map((c) => distance2(p, c));
        const nearest = ds.indexOf(Math.min(...ds));
        if (nearest !== assignment[i]) {
          assignment[i] = nearest;
          moved = true;
        }
      });
      if (!moved) break;
      centres.forEach((c, j) => {
        const members = points.filter((_, i) => assignment[i] === j);
        if (members.length > 0) c.forEach((_, f) => (c[f] = members.reduce((a, m) => a + m[f], 0) / members.length));
      });
    }
    const inertia = points.reduce((a, p, i) => a + distance2(p, centres[assignment[i]]), 0);
    if (!best || inertia < best.inertia) best = { assignment, centres, inertia };
  }
  // Number clusters by first appearance, so equal clusterings read the same.
  const order = new Map<number, number>();
  for (const a of best!.assignment) if (!order.has(a)) order.set(a, order.size);
  return {
    assignment: best!.assignment.map((a) => order.get(a)!),
    centres: [...order.keys()].map((a) => best!.centres[a]),
    inertia: best!.inertia,
  };
}

export const kmeansStage = defineReduce({
  name: 'model.kmeans',
  kind: 'reduce',
  version: '1',
  description: "k-means clustering (k-means++, seeded restarts) of rows by feature columns; adds 'cluster' and 'distance'.",
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireNumbers(input, p.features);
    return withColumns(input, [new Field('cluster', new Int32(), false), new Field('distance', new Float64(), false)]);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input], outputSchema }) {
    return holdRows(input, 'all', (all) => {
      const columns = p.features.map((c) => numbers(all, c));
      const points = Array.from({ length: all.numRows }, (_, i) => columns.map((c) => c[i]));
      const missing = points.findIndex((row) => row.some(Number.isNaN));
      if (missing >= 0) throw new Error(`row ${missing} has a missing feature: filter or fill it before clustering`);
      const result = kmeans(points, p.k, p.restarts, p.iterations, p.seed);
      const distance = Float64Array.from(points, (pt, i) => Math.sqrt(distance2(pt, result.centres[result.assignment[i]])));
      return makeBatch(outputSchema, [...all.data.children,
        makeData({ type: new Int32(), length: all.numRows, nullCount: 0, data: result.assignment }),
        makeData({ type: new Float64(), length: all.numRows, nullCount: 0, data: distance })], all.numRows);
    });
  },
});
