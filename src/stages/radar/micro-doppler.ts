// `source.micro-doppler`: labelled slow-time returns of targets with micro-motion (rotor blades,
// flapping wings, walking and running people) and without (a rigid vehicle), simulated from
// physical models (src/stages/radar/lib/micro-doppler.ts), for training and testing micro-Doppler
// classifiers. A row is one target seen for `seconds` at `prf`: `data` is a [pulses, 1, 2] complex
// tensor (one range cell, interleaved I/Q, as source.radar-sim and source.sigmf give CPIs), with
// `pri_s` and `center_frequency_hz`, the class (`class`, its index `label`, a one-hot `target`
// for model.train), the SNR per pulse, the split, and what was drawn (speed, aspect, blades, rpm, ...).
// Sample i is class i mod C and SNR number ⌊i/C⌋ mod S; every sample draws its parameters from its
// own stream of `seed`, so two seeds give disjoint data and a sample is the same in any partition.
import { Field, Float64, Int32, makeData, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField } from '../../arrow/tensor.ts';
import { defineSource, type Chunk } from '../../workflow/stage.ts';
import { cpiRandom } from './lib/simulate.ts';
import { microDopplerClasses, simulateMicroDoppler, type MicroDopplerTruth } from './lib/micro-doppler.ts';
import { splitFractions, splitOf } from './lib/split.ts';

const params = z.object({
  classes: z.array(z.enum(microDopplerClasses)).min(1).default([...microDopplerClasses]),
  per_class: z.number().int().min(1),
  seconds: z.number().positive().default(1),
  prf: z.number().positive().default(4000),
  carrier_hz: z.number().positive().default(10e9),
  snr_db: z.array(z.number()).min(1).default([20]).describe('SNR per pulse; samples take them in turn'),
  seed: z.number().int().default(0),
  split: splitFractions({ train: 0.7, validation: 0.15, test: 0.15 }, "each class's samples"),
  per_partition: z.number().int().min(1).default(60),
}).strict();

type Params = z.output<typeof params>;

const truthColumns: (keyof MicroDopplerTruth)[] = ['speed_mps', 'radial_speed_mps', 'aspect_deg', 'blades', 'blade_length_m', 'rpm', 'flap_hz', 'gait_hz'];

const pulsesOf = (p: Params) => Math.round(p.seconds * p.prf);


export const microDopplerSource = defineSource({
  name: 'source.micro-doppler',
  kind: 'source',
  version: '1',
  description: 'Simulated micro-Doppler returns (rotors, birds, walking/running people, rigid targets) with class labels, for classifiers.',
  params,
  async discover(p) {
    const pulses = pulsesOf(p);
    if (pulses < 2) throw new Error(`seconds × prf gives ${pulses} pulses: at least 2 are needed`);
    const schema = new Schema([
      new Field('sample', new Int32(), false), new Field('class', new Utf8(), false), new Field('label', new Int32(), false),
      tensorField('target', { shape: [p.classes.length], dimNames: ['class'], kind: 'float32' }),
      new Field('split', new Utf8(), false), new Field('snr_db', new Float64(), false),
      ...truthColumns.map((c) => new Field(c, new Float64(), true)),
      new Field('pri_s', new Float64(), false), new Field('center_frequency_hz', new Float64(), false),
      tensorField('data', { shape: [pulses, 1, 2], dimNames: ['pulse', 'sample', 'iq'], kind: 'float32' }),
    ]);
    const total = p.per_class * p.classes.length;
    const partitions = Array.from({ length: Math.ceil(total / p.per_partition) }, (_, k) => ({
      key: `micro-doppler#${k}`,
      chunks: (): Chunk[] => [{ from: k * p.per_partition, to: Math.min(total, (k + 1) * p.per_partition) }],
    }));
    return { schema, partitions };
  },
  *read(chunk, p, { schema }) {
    const { from, to } = chunk as { from: number; to: number };
    const rows = to - from;
    const pulses = pulsesOf(p);
    const C = p.classes.length;
    const data = new Float32Array(rows * pulses * 2);
    const onehot = new Float32Array(rows * C);
    const truths: MicroDopplerTruth[] = [];
    const samples = Array.from({ length: rows }, (_, i) => from + i);
    const snrs = samples.map((i) => p.snr_db[Math.floor(i / C) % p.snr_db.length]);
    samples.forEach((sample, i) => {
      const { iq, truth } = simulateMicroDoppler(p.classes[sample % C], { prf: p.prf, carrierHz: p.carrier_hz, pulses }, snrs[i], cpiRandom(p.seed, sample));
      data.set(iq, i * pulses * 2);
      onehot[i * C + (sample % C)] = 1;
      truths.push(truth);
    });
    const f64 = (values: (number | null)[]) => vectorFromArray(values, new Float64()).data[0];
    yield makeBatch(schema, [
      makeData({ type: new Int32(), length: rows, nullCount: 0, data: Int32Array.from(samples) }),
      vectorFromArray(samples.map((i) => p.classes[i % C]), new Utf8()).data[0],
      makeData({ type: new Int32(), length: rows, nullCount: 0, data: Int32Array.from(samples, (i) => i % C) }),
      tensorData(schema.fields[3], onehot, rows),
      vectorFromArray(samples.map((i) => splitOf(p.split, Math.floor(i / p.classes.length), p.per_class)), new Utf8()).data[0],
      f64(snrs),
      ...truthColumns.map((c) => f64(truths.map((t) => t[c]))),
      f64(samples.map(() => 1 / p.prf)),
      f64(samples.map(() => p.carrier_hz)),
      tensorData(schema.fields[schema.fields.length - 1], data, rows),
    ], rows);
  },
});
