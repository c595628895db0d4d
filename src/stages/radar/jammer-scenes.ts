// `source.jammer-scenes`: simulated jamming scenes for training and testing an adaptive
// beamformer (lib/jammer-scene.ts): per scene, the sample covariance of its snapshots beside its
// true interference-plus-noise covariance and what was drawn (look direction, jammer directions
// and JNRs — the jammers first, then any weak interferers —, snapshot count). Geometry defaults to the Mountaintop RSTER-90 array: 14 elements
// 0.3448 m apart at 435 MHz (half a wavelength). Each scene draws from its own stream of the seed,
// so two seeds never share a scene; whole scenes go to one split, in scene order.
import { Field, Float64, Int32, makeData, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField } from '../../arrow/tensor.ts';
import { defineSource, type Chunk } from '../../workflow/stage.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { steeringVector } from './beamform.ts';
import { speedOfLight } from './lib/chirp.ts';
import { sampleCovariance } from './lib/covariance.ts';
import { drawScene, interferenceCovariance, simulateSnapshots, type SceneRanges } from './lib/jammer-scene.ts';
import { cpiRandom } from './lib/simulate.ts';

const range = (low: number, high?: number) => z.tuple([z.number().min(low), z.number().min(low).max(high ?? Infinity)])
  .refine(([a, b]) => a <= b, { message: 'is [low, high] with low ≤ high' });

const params = z.object({
  scenes: z.number().int().min(1),
  seed: z.number().int().default(0),
  channels: z.number().int().min(2).default(14),
  element_spacing_m: z.number().positive().default(0.3448),
  center_frequency_hz: z.number().positive().default(435e6),
  jammers: range(0).default([1, 3]).describe('jammers per scene, [fewest, most]'),
  jnr_db: range(-Infinity).default([20, 50]).describe('jammer-to-noise ratio per channel, uniform in dB'),
  weak_jammers: range(0).default([0, 0]).describe('weaker interferers besides, [fewest, most]'),
  weak_jnr_db: range(-Infinity).default([0, 20]).describe('their JNR, uniform in dB'),
  look_deg: range(-90, 90).default([-30, 30]).describe('look direction from broadside, uniform'),
  max_angle_deg: z.number().gt(0).max(90).default(70).describe('jammers arrive within ± this angle (uniform in sine, outside the look main lobe)'),
  snapshots: range(1).default([28, 6464]).describe('snapshots per scene, log-uniform'),
  split: z.object({ train: z.number().min(0), validation: z.number().min(0), test: z.number().min(0) }).strict()
    .default({ train: 0.7, validation: 0.15, test: 0.15 }).describe('fractions of the scenes, in scene order'),
  per_partition: z.number().int().min(1).default(500),
}).strict();

type Params = z.output<typeof params>;

const spacingOf = (p: Params) => (p.element_spacing_m * p.center_frequency_hz) / speedOfLight;

export function sceneRanges(p: Params): SceneRanges {
  return {
    channels: p.channels, spacing: spacingOf(p), jammers: p.jammers, jnrDb: p.jnr_db, lookDeg: p.look_deg, maxAngleDeg: p.max_angle_deg, snapshots: p.snapshots,
    ...(p.weak_jammers[1] > 0 ? { weakJammers: p.weak_jammers, weakJnrDb: p.weak_jnr_db } : {}),
  };
}

function splitOf(p: Params, scene: number): string {
  const total = p.split.train + p.split.validation + p.split.test;
  const at = ((scene + 0.5) / p.scenes) * total;
  return at < p.split.train ? 'train' : at < p.split.train + p.split.validation ? 'validation' : 'test';
}

export const jammerScenesSource = defineSource({
  name: 'source.jammer-scenes',
  kind: 'source',
  version: '1',
  description: 'Simulated jamming scenes for an adaptive array: sample covariance of the snapshots, true interference-plus-noise covariance, look direction, jammers.',
  params,
  async discover(p) {
    if (p.snapshots[0] < p.channels) throw new SchemaError(`snapshots from ${p.snapshots[0]}: a sample covariance of ${p.channels} channels needs at least ${p.channels}`);
    const mainLobe = 1 / (p.channels * spacingOf(p));
    if (2 * Math.sin((p.max_angle_deg * Math.PI) / 180) <= 2 * mainLobe) throw new SchemaError(`max_angle_deg ${p.max_angle_deg} leaves no room for jammers outside the main lobe`);
    const m = p.channels;
    const most = Math.max(1, p.jammers[1] + p.weak_jammers[1]);
    const schema = new Schema([
      new Field('scene', new Int32(), false), new Field('split', new Utf8(), false),
      new Field('look_deg', new Float64(), false), new Field('snapshots', new Int32(), false), new Field('jammers', new Int32(), false),
      tensorField('jammer_deg', { shape: [most], kind: 'float64' }), tensorField('jnr_db', { shape: [most], kind: 'float64' }),
      new Field('element_spacing_m', new Float64(), false), new Field('center_frequency_hz', new Float64(), false),
      tensorField('covariance', { shape: [m, m, 2], dimNames: ['row', 'column', 'iq'], kind: 'float64' }),
      tensorField('interference', { shape: [m, m, 2], dimNames: ['row', 'column', 'iq'], kind: 'float64' }),
    ]);
    const partitions = Array.from({ length: Math.ceil(p.scenes / p.per_partition) }, (_, i) => ({
      key: `jammer-scenes#${i}`,
      chunks: (): Chunk[] => [{ first: i * p.per_partition, count: Math.min(p.per_partition, p.scenes - i * p.per_partition) }],
    }));
    return { schema, partitions };
  },
  *read(chunk, p, { schema }) {
    const { first, count } = chunk as { first: number; count: number };
    const m = p.channels;
    const most = Math.max(1, p.jammers[1] + p.weak_jammers[1]);
    const spacing = spacingOf(p);
    const channels = Array.from({ length: m }, (_, i) => i);
    const steer = (deg: number) => steeringVector(channels, spacing, deg);
    const covariance = new Float64Array(count * m * m * 2);
    const interference = new Float64Array(count * m * m * 2);
    const jammerDeg = new Float64Array(count * most).fill(NaN);
    const jnrDb = new Float64Array(count * most).fill(NaN);
    const look = new Float64Array(count);
    const snapshots = new Int32Array(count);
    const jammers = new Int32Array(count);
    const interleave = (r: { re: Float64Array; im: Float64Array }, out: Float64Array, at: number) => {
      for (let i = 0; i < m * m; i++) {
        out[at + 2 * i] = r.re[i];
        out[at + 2 * i + 1] = r.im[i];
      }
    };
    for (let i = 0; i < count; i++) {
      const random = cpiRandom(p.seed, first + i);
      const scene = drawScene(random, sceneRanges(p));
      const x = simulateSnapshots(scene, m, spacing, random);
      interleave(sampleCovariance(x, m, scene.snapshots), covariance, i * m * m * 2);
      interleave(interferenceCovariance(scene, steer, m), interference, i * m * m * 2);
      scene.jammers.forEach((j, k) => {
        jammerDeg[i * most + k] = j.angleDeg;
        jnrDb[i * most + k] = j.jnrDb;
      });
      look[i] = scene.lookDeg;
      snapshots[i] = scene.snapshots;
      jammers[i] = scene.jammers.length;
    }
    const float = (values: Float64Array) => makeData({ type: new Float64(), length: count, nullCount: 0, data: values });
    const int = (values: Int32Array) => makeData({ type: new Int32(), length: count, nullCount: 0, data: values });
    yield makeBatch(schema, [
      int(Int32Array.from({ length: count }, (_, i) => first + i)),
      vectorFromArray(Array.from({ length: count }, (_, i) => splitOf(p, first + i)), new Utf8()).data[0],
      float(look), int(snapshots), int(jammers),
      tensorData(schema.fields[5], jammerDeg, count), tensorData(schema.fields[6], jnrDb, count),
      float(new Float64Array(count).fill(p.element_spacing_m)), float(new Float64Array(count).fill(p.center_frequency_hz)),
      tensorData(schema.fields[9], covariance, count), tensorData(schema.fields[10], interference, count),
    ], count);
  },
});
