// Naive Bayes and k-means against brute force on small inputs: the posterior computed directly
// from class counts, means and variances; and the clustering whose within-cluster sum of squares
// is the least over every possible assignment.
import { Field, Schema, tableFromArrays, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { Random } from '../../../src/numeric/random.ts';
import { kmeans, kmeansStage } from '../../../src/stages/model/kmeans.ts';
import { naiveBayes } from '../../../src/stages/model/naive-bayes.ts';

async function reduceOnce(stage: typeof naiveBayes | typeof kmeansStage, raw: unknown, batch: RecordBatch) {
  const params = stage.params.parse(raw);
  const outputSchema = stage.outputSchema({ params, inputs: [batch.schema], baseDir: '.' } as never);
  const reducer = stage.create(params as never, { inputSchemas: [batch.schema], outputSchema, baseDir: '.' });
  reducer.push(batch, { input: 0, partition: { index: 0, key: '0' } });
  return (await reducer.end!()) as RecordBatch;
}

describe('model.naive-bayes', () => {
  test('the predicted class and its posterior equal a direct computation', async () => {
    const random = new Random(1);
    const n = 60;
    const label = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'up' : 'down'));
    const a = Float64Array.from(label, (l) => random.normal() + (l === 'up' ? 1 : -0.5));
    const b = Float64Array.from(label, (l) => 2 * random.normal() + (l === 'up' ? 0.5 : 0));
    const split = label.map((_, i) => (i < 40 ? 'train' : 'test'));
    const base = tableFromArrays({ a, b }).batches[0] as unknown as RecordBatch;
    const schema = new Schema([...base.schema.fields, new Field('label', new Utf8()), new Field('split', new Utf8())]);
    const batch = makeBatch(schema, [...base.data.children, vectorFromArray(label, new Utf8()).data[0], vectorFromArray(split, new Utf8()).data[0]], n);
    const out = await reduceOnce(naiveBayes, { features: ['a', 'b'], label: 'label' }, batch);
    // Direct: class priors, means and variances over the training rows.
    const stats = ['down', 'up'].map((c) => {
      const rows = [...Array(40).keys()].filter((i) => label[i] === c);
      const m = [a, b].map((x) => rows.reduce((s, i) => s + x[i], 0) / rows.length);
      const allVar = [a, b].map((x) => {
        const mu = [...Array(40).keys()].reduce((s, i) => s + x[i], 0) / 40;
        return [...Array(40).keys()].reduce((s, i) => s + (x[i] - mu) ** 2, 0) / 40;
      });
      const v = [a, b].map((x, f) => rows.reduce((s, i) => s + (x[i] - m[f]) ** 2, 0) / rows.length + 1e-9 * Math.max(...allVar));
      return { c, prior: rows.length / 40, m, v };
    });
    for (let i = 0; i < n; i++) {
      const density = stats.map((s) => s.prior * [a[i], b[i]].reduce((p, x, f) => p * Math.exp(-((x - s.m[f]) ** 2) / (2 * s.v[f])) / Math.sqrt(2 * Math.PI * s.v[f]), 1));
      const best = density[0] > density[1] ? 0 : 1;
      expect(out.getChild('predicted')!.get(i)).toBe(stats[best].c);
      expect(out.getChild('probability')!.get(i)).toBeCloseTo(density[best] / (density[0] + density[1]), 10);
    }
  });
});

describe('model.kmeans', () => {
  test('finds the least within-cluster sum of squares of every assignment of 12 points to 3 clusters', () => {
    const random = new Random(2);
    const centres = [[0, 0], [4, 1], [1, 5]];
    const points = Array.from({ length: 12 }, (_, i) => centres[i % 3].map((c) => c + random.normal() * 0.8));
    let best = Infinity;
    const assignment = new Array(12).fill(0);
    for (let code = 0; code < 3 ** 12; code++) {
      for (let i = 0, c = code; i < 12; i++, c = Math.floor(c / 3)) assignment[i] = c % 3;
      let inertia = 0;
      for (let k = 0; k < 3; k++) {
        const members = points.filter((_, i) => assignment[i] === k);
        if (members.length === 0) continue;
        const mean = [0, 1].map((f) => members.reduce((s, m) => s + m[f], 0) / members.length);
        inertia += members.reduce((s, m) => s + (m[0] - mean[0]) ** 2 + (m[1] - mean[1]) ** 2, 0);
      }
      best = Math.min(best, inertia);
    }
    expect(kmeans(points, 3, 10, 300, 7).inertia).toBeCloseTo(best, 10);
  });

  test('as a stage: a cluster per row, numbered by first appearance, with its distance; the same seed, the same result', async () => {
    const x = Float64Array.of(0, 0.1, 10, 10.2, 0.2, 9.9);
    const batch = tableFromArrays({ x }).batches[0] as unknown as RecordBatch;
    const out = await reduceOnce(kmeansStage, { features: ['x'], k: 2, seed: 3 }, batch);
    expect([...out.getChild('cluster')!]).toEqual([0, 0, 1, 1, 0, 1]);
    expect(out.getChild('distance')!.get(0)).toBeCloseTo(0.1, 12);
  });
});
