// Micro-Doppler: the simulator against closed forms (a rigid target's line at 2v/λ, a rotor's
// blade-flash period 1/(N·rps) for even N and 1/(2N·rps) for odd N, its tip Doppler 2ΩL cosβ/λ, a
// walking person's torso line near 2v/λ), radar.stft against SciPy's scipy.signal.stft (live when
// python3 has SciPy, else the committed fixture SciPy computed), and model.confusion by hand.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Float64, Schema, tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../../src/arrow/tensor.ts';
import { confusion } from '../../../src/stages/model/confusion.ts';
import { speedOfLight } from '../../../src/stages/radar/lib/chirp.ts';
import { addRotor, newSignal } from '../../../src/stages/radar/lib/micro-doppler.ts';
import { microDopplerSource } from '../../../src/stages/radar/micro-doppler.ts';
import { microDopplerFeatureNames, microDopplerFeaturesStage } from '../../../src/stages/radar/micro-doppler-features.ts';
import { stft } from '../../../src/stages/radar/stft.ts';
import { repoRoot } from '../../helpers.ts';
import { column, runSteps } from './pipeline.ts';

const fixtures = join(repoRoot, 'test', 'fixtures', 'stft');

async function simulate(raw: Record<string, unknown>) {
  const params = microDopplerSource.params.parse(raw);
  const { schema, partitions } = await microDopplerSource.discover(params, { baseDir: '.' });
  const batches: RecordBatch[] = [];
  for (const [index, partition] of partitions.entries()) {
    for await (const chunk of partition.chunks()) for await (const b of microDopplerSource.read(chunk, params, { schema, partition: { index, key: partition.key } })) batches.push(b);
  }
  return { schema, batches };
}

/** Each row's time-averaged power spectrum (linear), and the Doppler axis. */
function meanSpectra(batches: RecordBatch[], nfft: number) {
  const out: { spectrum: Float64Array; hz: Float64Array }[] = [];
  for (const b of batches) {
    const values = tensorValues(b, 'data');
    const frames = values.length / b.numRows / nfft;
    for (let r = 0; r < b.numRows; r++) {
      const spectrum = new Float64Array(nfft);
      for (let d = 0; d < nfft; d++) for (let k = 0; k < frames; k++) spectrum[d] += 10 ** (values[(r * nfft + d) * frames + k] / 10) / frames;
      out.push({ spectrum, hz: b.getChild('doppler_hz')!.get(r)!.toArray() as Float64Array });
    }
  }
  return out;
}

const argmax = (x: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
};

describe('source.micro-doppler', () => {
  test('a rigid target is one line at 2·v_r/λ', async () => {
    const { schema, batches } = await simulate({ classes: ['rigid'], per_class: 12, snr_db: [10], seed: 5 });
    const spectra = meanSpectra(await runSteps(schema, batches, [[stft, { nfft: 128 }]]), 128);
    const lambda = speedOfLight / 10e9;
    column(batches, 'radial_speed_mps').forEach((v, i) => {
      const { spectrum, hz } = spectra[i];
      expect(Math.abs(hz[argmax(spectrum)] - (2 * v) / lambda), `sample ${i}`).toBeLessThanOrEqual(4000 / 128 / 2 + 1e-9);
    });
  });

  test('a walking person\'s strongest line is the torso, near 2·v_r/λ', async () => {
    const { schema, batches } = await simulate({ classes: ['walk'], per_class: 20, snr_db: [20], seed: 6 });
    const spectra = meanSpectra(await runSteps(schema, batches, [[stft, { nfft: 128 }]]), 128);
    const lambda = speedOfLight / 10e9;
    const errors = column(batches, 'radial_speed_mps').map((v, i) => Math.abs(spectra[i].hz[argmax(spectra[i].spectrum)] - (2 * v) / lambda));
    // The torso bobs and surges (a few cm/s), so its line wanders by a bin or two around 2v/λ.
    expect(errors.filter((e) => e <= 3 * 4000 / 128).length).toBeGreaterThanOrEqual(18);
  });

  test('the same seed gives the same samples, another seed others', async () => {
    const a = await simulate({ per_class: 2, snr_db: [0, 20], seed: 1, seconds: 0.1 });
    const b = await simulate({ per_class: 2, snr_db: [0, 20], seed: 1, seconds: 0.1 });
    const c = await simulate({ per_class: 2, snr_db: [0, 20], seed: 2, seconds: 0.1 });
    expect(tensorValues(a.batches[0], 'data')).toEqual(tensorValues(b.batches[0], 'data'));
    expect(tensorValues(a.batches[0], 'data')).not.toEqual(tensorValues(c.batches[0], 'data'));
    expect(column(a.batches, 'label')).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(column(a.batches, 'snr_db')).toEqual([0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20]);
  });

  test('rotor blades flash every 1/(N·rps) for even N and 1/(2N·rps) for odd N', () => {
    const prf = 20_000;
    const rpm = 300; // 5 turns a second
    for (const blades of [2, 3, 4, 5]) {
      const s = newSignal({ prf, carrierHz: 10e9, pulses: prf });
      addRotor(s, { blades, length: 6, rpm, beta: 0.1, phase0: 0.3, g: 1, hub: () => 0 });
      // The flashes are the envelope's peaks: its autocorrelation's first peak is their period.
      const env = Float64Array.from(s.re, (re, p) => Math.hypot(re, s.im[p]));
      const mean = env.reduce((a, b) => a + b, 0) / env.length;
      const lagOf = (lag: number) => env.reduce((a, v, p) => (p + lag < env.length ? a + (v - mean) * (env[p + lag] - mean) : a), 0);
      const expected = blades % 2 === 0 ? 1 / (blades * 5) : 1 / (2 * blades * 5);
      const lags = Array.from({ length: Math.round(1.5 * expected * prf) }, (_, i) => i + Math.round(0.5 * expected * prf));
      const best = lags[argmax(lags.map(lagOf))];
      expect(best / prf, `${blades} blades`).toBeCloseTo(expected, 3);
    }
  });

  test("a rotor's Doppler reaches the tip's 2ΩL·cosβ/λ and no further", async () => {
    const prf = 20_000;
    const [length, rpm, beta] = [1, 600, 0.2];
    const s = newSignal({ prf, carrierHz: 10e9, pulses: prf / 2 });
    addRotor(s, { blades: 2, length, rpm, beta, phase0: 0, g: 1, hub: () => 0 });
    const data = new Float32Array(2 * s.re.length);
    s.re.forEach((re, p) => ((data[2 * p] = re), (data[2 * p + 1] = s.im[p])));
    const schema = new Schema([new Field('pri_s', new Float64(), false), tensorField('data', { shape: [s.re.length, 1, 2], kind: 'float32' })]);
    const batch = makeBatch(schema, [tableFromArrays({ pri_s: Float64Array.of(1 / prf) }).batches[0].data.children[0], tensorData(schema.fields[1], data, 1)], 1);
    const [{ spectrum, hz }] = meanSpectra(await runSteps(schema, [batch], [[stft, { nfft: 256, length: 128, hop: 16 }]]), 256);
    const tip = (2 * ((2 * Math.PI * rpm) / 60) * length * Math.cos(beta)) / (speedOfLight / 10e9); // 4.1 kHz
    const peak = Math.max(...spectrum);
    const reach = Math.max(...[...hz].filter((_, d) => spectrum[d] > peak * 1e-3).map(Math.abs));
    // Within the Hann window's main-lobe half width (2 · PRF / length = 312.5 Hz).
    expect(Math.abs(reach - tip)).toBeLessThan((2 * prf) / 128);
  });
});

describe('radar.stft', () => {
  const input = JSON.parse(readFileSync(join(fixtures, 'stft-input.json'), 'utf8')) as { re: number[]; im: number[]; length: number; hop: number; nfft: number; window: string };

  async function ours() {
    const n = input.re.length;
    const data = new Float32Array(2 * n);
    input.re.forEach((re, p) => ((data[2 * p] = re), (data[2 * p + 1] = input.im[p])));
    const schema = new Schema([new Field('pri_s', new Float64(), false), tensorField('data', { shape: [n, 1, 2], kind: 'float32' })]);
    const batch = makeBatch(schema, [tableFromArrays({ pri_s: Float64Array.of(1) }).batches[0].data.children[0], tensorData(schema.fields[1], data, 1)], 1);
    const [out] = await runSteps(schema, [batch], [[stft, { window: input.window, nfft: input.nfft, length: input.length, hop: input.hop }]]);
    return { db: tensorValues(out, 'data'), t: out.getChild('time_s')!.get(0)!.toArray() as Float64Array, f: out.getChild('doppler_hz')!.get(0)!.toArray() as Float64Array };
  }

  function compare(got: Awaited<ReturnType<typeof ours>>, want: { db: number[]; t: number[]; f: number[] }) {
    expect(got.db.length).toBe(want.db.length);
    expect([...got.t]).toEqual(want.t);
    got.f.forEach((f, d) => expect(f).toBeCloseTo(want.f[d], 12));
    // Float32 I/Q and output: equal to 1e-3 dB where the power is above −60 dB.
    want.db.forEach((w, i) => expect(Math.abs(got.db[i] - w) < 1e-3 || (w < -60 && got.db[i] < -50), `cell ${i}: ${got.db[i]} vs ${w}`).toBe(true));
  }

  test('equals the committed SciPy fixture', async () => {
    compare(await ours(), JSON.parse(readFileSync(join(fixtures, 'stft-expected.json'), 'utf8')));
  });

  let scipy = true;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import scipy.signal'], { stdio: 'ignore' });
  } catch {
    scipy = false;
  }
  test.skipIf(!scipy)('equals scipy.signal.stft run now', async () => {
    const live = execFileSync('/usr/bin/python3', [join(fixtures, 'scipy-stft.py')], { input: JSON.stringify(input) }).toString();
    compare(await ours(), JSON.parse(live));
  });
});

describe('radar.micro-doppler-features', () => {
  test('give a rigid target one line and a rotor its blade-flash period in the cepstrum', async () => {
    const { schema, batches } = await simulate({ classes: ['rigid', 'multirotor'], per_class: 4, snr_db: [20], seed: 3 });
    const [out] = await runSteps(schema, batches, [[stft, { nfft: 128 }], [microDopplerFeaturesStage, {}]]);
    for (const name of microDopplerFeatureNames) expect(out.getChild(name)).toBeTruthy();
    const spread = column([out], 'spread_hz');
    const bandwidth = column([out], 'bandwidth_hz');
    const period = column([out], 'cepstral_period_s');
    const rpm = column([out], 'rpm');
    for (let i = 0; i < 8; i += 2) {
      expect(spread[i]).toBeLessThan(100); // rigid: one line (± window leakage)
      expect(spread[i + 1]).toBeGreaterThan(3 * spread[i]); // rotor blades spread over the band
      expect(bandwidth[i + 1]).toBeGreaterThan(bandwidth[i]);
      // Two-bladed rotors flash every 1/(2·rps): lines 2·rps apart, a cepstral peak at 1/(2·rps).
      expect(period[i + 1] / (60 / (2 * rpm[i + 1])), `sample ${i + 1}`).toBeCloseTo(1, 0);
    }
  });
});

describe('model.confusion', () => {
  test('counts, recall and accuracy by hand, from names and from per-class scores', async () => {
    const classes = ['a', 'b', 'c'];
    const truth = ['a', 'a', 'b', 'b', 'c', 'c'];
    const scores = Float32Array.of(0.9, 0.1, 0, /**/ 0.2, 0.7, 0.1, /**/ 0, 1, 0, /**/ 0, 0.6, 0.4, /**/ 0, 0, 1, /**/ 0.1, 0.2, 0.3);
    const schema = new Schema([new Field('truth', tableFromArrays({ x: truth }).schema.fields[0].type, false), new Field('snr', new Float64(), false), tensorField('p', { shape: [3], kind: 'float32' })]);
    const base = tableFromArrays({ truth, snr: Float64Array.of(10, 0, 10, 0, 10, 0) }).batches[0];
    const batch = makeBatch(schema, [base.data.children[0], base.data.children[1], tensorData(schema.fields[2], scores, 6)], 6);
    const params = confusion.params.parse({ truth: 'truth', predicted: 'p', classes, by: 'snr' });
    const outputSchema = confusion.outputSchema({ params, inputs: [schema], baseDir: '.' });
    const reducer = confusion.create(params, { inputSchemas: [schema], outputSchema, baseDir: '.' });
    reducer.push(batch, { input: 0, partition: { index: 0, key: '0' } });
    const out = (await reducer.end!()) as RecordBatch;
    const rows = out.toArray().map((r) => r.toJSON());
    expect(rows.map((r) => [r.group, r.truth, Number(r.a), Number(r.b), Number(r.c)])).toEqual([
      ['0', 'a', 0, 1, 0], ['0', 'b', 0, 1, 0], ['0', 'c', 0, 0, 1],
      ['10', 'a', 1, 0, 0], ['10', 'b', 0, 1, 0], ['10', 'c', 0, 0, 1],
      ['all', 'a', 1, 1, 0], ['all', 'b', 0, 2, 0], ['all', 'c', 0, 0, 2],
    ]);
    expect(rows.map((r) => r.accuracy)).toEqual([2 / 3, 2 / 3, 2 / 3, 1, 1, 1, 5 / 6, 5 / 6, 5 / 6]);
    expect(rows.slice(6).map((r) => r.recall)).toEqual([0.5, 1, 1]);
  });
});
