// The learned beamformer and what it is measured with: the optimum SINR and the SINR of MVDR and
// the conventional beam against closed forms (Sherman–Morrison for one jammer), the simulated
// scenes against their closed-form covariance, the in-graph SINR loss against the SINR of the
// weights it stands for, the committed model (data/models/mountaintop-beamformer) on scenes of a
// seed it never saw (SINR loss against MVDR with the true covariance, null depths), the stage on a
// simulated CPI against the closed-form optimum, and the training workflow's stages on a short run.
import { join } from 'node:path';
import type { Tensor } from '@tensorflow/tfjs';
import { describe, expect, test } from 'vitest';
import { loadModel, readArtifactBytes } from '../../../src/models/artifact.ts';
import { modelRuntime } from '../../../src/models/runtime.ts';
import { solveHermitian } from '../../../src/numeric/hermitian.ts';
import { Random } from '../../../src/numeric/random.ts';
import type { RecordBatch } from 'apache-arrow';
import { beamform, steeringVector } from '../../../src/stages/radar/beamform.ts';
import { beamformLearned } from '../../../src/stages/radar/beamform-learned.ts';
import { sinrLossDb } from '../../../src/stages/radar/lib/beamformer-training.ts';
import { beamformerWeights, methodSummaries, sceneMetrics } from '../../../src/stages/radar/lib/beamformer-metrics.ts';
import { distortionless, innerProduct, sampleCovariance } from '../../../src/stages/radar/lib/covariance.ts';
import { drawScene, interferenceCovariance, optimumSinr, simulateSnapshots, sinr } from '../../../src/stages/radar/lib/jammer-scene.ts';
import { cpiRandom } from '../../../src/stages/radar/lib/simulate.ts';
import { featureCount, sinrTerms, spectralFeatures, spectralWeights, spectrum } from '../../../src/stages/radar/lib/spectral-beamformer.ts';
import { power } from '../../../src/stages/radar/power.ts';
import { artifactFromRow } from '../../../src/models/artifact-row.ts';
import { beamformerTrain } from '../../../src/stages/radar/beamformer-train.ts';
import { jammerScenesSource } from '../../../src/stages/radar/jammer-scenes.ts';
import { tensorValues } from '../../../src/arrow/tensor.ts';
import { readSource } from '../../connectors/stage-harness.ts';
import { repoRoot } from '../../helpers.ts';
import { runSteps, simulatedCpis, type Step } from './pipeline.ts';

const M = 14;
const spacing = 0.3448 * 435e6 / 299_792_458; // Mountaintop: half a wavelength
const elements = [...Array(M).keys()];
const steer = (deg: number) => steeringVector(elements, spacing, deg);
const modelDir = join(repoRoot, 'data', 'models', 'mountaintop-beamformer');
// As mountaintop-beamformer-train.yaml draws its scenes.
const ranges = { channels: M, spacing, jammers: [1, 3] as [number, number], jnrDb: [20, 50] as [number, number], lookDeg: [-30, 30] as [number, number], maxAngleDeg: 70, snapshots: [28, 6464] as [number, number] };

function scene(seed: number, index: number) {
  const random = cpiRandom(seed, index);
  const s = drawScene(random, ranges);
  const x = simulateSnapshots(s, M, spacing, random);
  const a = steer(s.lookDeg);
  const r = sampleCovariance(x, M, s.snapshots);
  return { scene: s, a, r, rIn: interferenceCovariance(s, steer, M), spectrum: spectrum(r, M, a) };
}

describe('SINR and MVDR in closed form', () => {
  test('one jammer: aᴴR⁻¹a = M − J|aᴴb|²/(1 + J M) (Sherman–Morrison); true-covariance MVDR reaches it; the conventional beam gets M²/(M + J|aᴴb|²)', () => {
    for (const [look, jam, jnrDb] of [[0, 12, 40], [10, -35, 25], [-20, 50, 50]]) {
      const s = { lookDeg: look, jammers: [{ angleDeg: jam, jnrDb }], snapshots: 100 };
      const a = steer(look);
      const b = steer(jam);
      const j = 10 ** (jnrDb / 10);
      const ab = innerProduct(a, b);
      const c2 = ab.re ** 2 + ab.im ** 2;
      const rIn = interferenceCovariance(s, steer, M);
      const optimum = M - (j * c2) / (1 + j * M);
      expect(optimumSinr(a, rIn) / optimum).toBeCloseTo(1, 10);
      const mvdr = distortionless(solveHermitian(M, rIn.re, rIn.im, a), a);
      expect(innerProduct(mvdr, a).re).toBeCloseTo(1, 12);
      expect(sinr(mvdr, a, rIn) / optimum).toBeCloseTo(1, 10);
      const conventional = { re: a.re.map((v) => v / M), im: a.im.map((v) => v / M) };
      expect(sinr(conventional, a, rIn) / ((M * M) / (M + j * c2))).toBeCloseTo(1, 10);
    }
  });

  test('simulated scenes match their closed-form covariance: tr(R_in⁻¹ R̂)/M is Gamma(K·M)/(K·M), mean 1, sd 1/√(K·M)', () => {
    // R_in^(-1/2) x is white, so K·tr(R_in⁻¹ R̂) sums K·M unit exponentials. 60 scenes: the z-scores'
    // mean has sd 1/√60 and each lies within ±4.5.
    const z: number[] = [];
    for (let i = 0; i < 60; i++) {
      const { scene: s, r, rIn } = scene(7, i);
      let t = 0;
      for (let c = 0; c < M; c++) {
        const e = { re: new Float64Array(M), im: new Float64Array(M) };
        e.re[c] = 1;
        const column = { re: Float64Array.from({ length: M }, (_, k) => r.re[k * M + c]), im: Float64Array.from({ length: M }, (_, k) => r.im[k * M + c]) };
        t += solveHermitian(M, rIn.re, rIn.im, column).re[c];
      }
      z.push((t / M - 1) * Math.sqrt(s.snapshots * M));
    }
    for (const v of z) expect(Math.abs(v)).toBeLessThan(4.5);
    expect(Math.abs(z.reduce((s, v) => s + v, 0) / z.length)).toBeLessThan(4 / Math.sqrt(60));
  });
});

describe('the spectral frame of the learned beamformer', () => {
  test('y = 0 gives sample-matrix MVDR (R̂⁻¹a), scaled to unit gain at the look direction', () => {
    const { a, r, spectrum: s } = scene(3, 0);
    const w = spectralWeights(s, new Float64Array(M), a);
    const smi = distortionless(solveHermitian(M, r.re, r.im, a), a);
    expect(innerProduct(w, a).re).toBeCloseTo(1, 12);
    expect(innerProduct(w, a).im).toBeCloseTo(0, 12);
    for (let i = 0; i < M; i++) {
      expect(w.re[i]).toBeCloseTo(smi.re[i], 9);
      expect(w.im[i]).toBeCloseTo(smi.im[i], 9);
    }
  });

  test('the in-graph loss (g·p)²/(gᵀKg) equals the SINR of the weights it stands for, computed from R_in directly', async () => {
    const { tf } = await modelRuntime();
    const random = new Random(5);
    for (let i = 0; i < 8; i++) {
      const { a, rIn, spectrum: s } = scene(4, i);
      const p = new Float32Array(M);
      const k = new Float32Array(M * M);
      sinrTerms(s, rIn, p, k);
      const y = Float32Array.from({ length: M }, () => random.normal());
      const expected = 10 * Math.log10(optimumSinr(a, rIn) / sinr(spectralWeights(s, y, a), a, rIn));
      const loss = tf.tidy(() => sinrLossDb(tf, tf.tensor2d(y, [1, M]), tf.tensor2d(p, [1, M]), tf.tensor3d(k, [1, M, M]), tf.tensor1d([optimumSinr(a, rIn)])));
      expect(Math.abs(loss.dataSync()[0] - expected)).toBeLessThan(2e-3 + 1e-4 * expected);
      loss.dispose();
    }
  });
});

describe('the committed learned beamformer (data/models/mountaintop-beamformer)', () => {
  test('on 200 scenes of a seed it never saw: SINR loss against MVDR with the true covariance ≤ 1 dB, every null ≤ −30 dB, better than sample-matrix MVDR', async () => {
    const { tf } = await modelRuntime();
    const model = await loadModel(tf, readArtifactBytes(modelDir));
    const scenes = Array.from({ length: 200 }, (_, i) => scene(4, i));
    const f = featureCount(M);
    const features = new Float32Array(scenes.length * f);
    scenes.forEach((s, i) => spectralFeatures(s.spectrum, s.scene.snapshots, features.subarray(i * f, (i + 1) * f)));
    const out = tf.tidy(() => model.predict(tf.tensor2d(features, [scenes.length, f])) as Tensor);
    const y = out.dataSync();
    out.dispose();
    model.dispose();
    const metrics = scenes.map((s, i) => sceneMetrics(beamformerWeights(s.r, s.spectrum, y.subarray(i * M, (i + 1) * M), s.a), s.a, s.rIn,
      s.scene.jammers.map((j) => steer(j.angleDeg))));
    const summary = methodSummaries(metrics);
    expect(summary.learned.sinrLossDb.mean).toBeLessThan(0.5);
    expect(summary.learned.sinrLossDb.p90).toBeLessThan(1);
    expect(summary.learned.sinrLossDb.max).toBeLessThan(1);
    expect(summary.learned.nullDb.max).toBeLessThan(-30);
    // Sample-matrix MVDR without loading loses more (its noise eigenvalues scatter); the conventional beam loses tens of dB.
    expect(summary.learned.sinrLossDb.mean).toBeLessThan(summary.mvdr_sample.sinrLossDb.mean);
    expect(summary.conventional.sinrLossDb.mean).toBeGreaterThan(10);
  });

  test('radar.beamform-learned refuses a model that is not a learned beamformer, and CPIs of another channel count, naming them', async () => {
    const { schema, batches } = await simulatedCpis({ sample_rate_hz: 1e6, pri_s: 1e-3, center_frequency_hz: 435e6, channels: 8, pulses: 4, samples: 32 }, 1, 1);
    const cnn = join(repoRoot, 'data', 'models', 'radar-cnn');
    expect(() => beamformLearned.outputSchema({ params: beamformLearned.params.parse({ model: cnn }), inputs: [schema], baseDir: '.' }))
      .toThrow(/radar-cnn is not a learned beamformer/);
    await expect(runSteps(schema, batches, [[beamformLearned, { model: modelDir }]])).rejects.toThrow(/has 8 channels, and the model .*mountaintop-beamformer was trained for 14/);
  });

  test('radar.beamform-learned on a simulated Mountaintop CPI (40 dB jammer at 30°): output power at the optimum 1/(aᴴR_in⁻¹a) and MVDR\'s, 25 dB below the conventional beam', async () => {
    const base = { sample_rate_hz: 1e6, pri_s: 1.6e-3, center_frequency_hz: 435e6, element_spacing_m: 0.3448, channels: M, pulses: 16, samples: 404 };
    const jammers = [{ angle_deg: 30, jnr_db: 40 }];
    const { schema, batches } = await simulatedCpis({ ...base, jammers }, 1, 9);
    const angles = [0, -10];
    const powerOf = async (step: Step) => {
      const [out] = await runSteps(schema, batches, [step, [power, {}]]);
      expect([...out.getChild('angle_deg')!.toArray()]).toEqual(angles);
      expect([...out.getChild('beam')!.toArray()]).toEqual([0, 1]);
      return [...out.getChild('power_db')!.toArray()] as number[];
    };
    const learned = await powerOf([beamformLearned, { model: modelDir, angle_deg: angles }]);
    const mvdr = await powerOf([beamform, { method: 'mvdr', loading: 0, angle_deg: angles }]);
    const conventional = await powerOf([beamform, { method: 'conventional', angle_deg: angles }]);
    const rIn = interferenceCovariance({ lookDeg: 0, jammers: [{ angleDeg: 30, jnrDb: 40 }], snapshots: 0 }, steer, M);
    for (const [b, angle] of angles.entries()) {
      // Unit-gain weights pass wᴴR_in w of interference and noise, at best 1/(aᴴR_in⁻¹a); 6464
      // snapshots estimate it to ±√(1/6464) (0.05 dB).
      const optimum = -10 * Math.log10(optimumSinr(steer(angle), rIn));
      expect(Math.abs(learned[b] - optimum)).toBeLessThan(0.25);
      expect(Math.abs(learned[b] - mvdr[b])).toBeLessThan(0.1);
      expect(conventional[b] - learned[b]).toBeGreaterThan(25);
    }
  });
});

describe('the training workflow\'s stages', () => {
  test('source.jammer-scenes: splits in scene order, jammers outside the look main lobe, R_in in closed form, weak interferers added after the rest; radar.beamformer-train measures its test scenes as lib/beamformer-metrics does', async () => {
    const { schema, partitions } = await readSource(jammerScenesSource, { scenes: 240, seed: 5, snapshots: [28, 200], per_partition: 100 }, '.');
    expect(partitions.map((p) => p.batches.reduce((n, b) => n + b.numRows, 0))).toEqual([100, 100, 40]);
    const batches = partitions.flatMap((p) => p.batches);
    const splits = batches.flatMap((b) => [...b.getChild('split')!.toArray()]);
    expect([splits.filter((x) => x === 'train').length, splits.filter((x) => x === 'validation').length, splits.filter((x) => x === 'test').length]).toEqual([168, 36, 36]);
    expect(splits.indexOf('validation')).toBe(168);
    const mainLobe = 1 / (M * spacing);
    for (const b of batches) {
      const jammerDeg = tensorValues(b, 'jammer_deg');
      const jnrDb = tensorValues(b, 'jnr_db');
      const interference = tensorValues(b, 'interference');
      for (let i = 0; i < b.numRows; i++) {
        const look = Number(b.getChild('look_deg')!.get(i));
        const count = Number(b.getChild('jammers')!.get(i));
        expect(count).toBeGreaterThanOrEqual(1);
        expect(count).toBeLessThanOrEqual(3);
        const jammers = [0, 1, 2].slice(0, count).map((k) => ({ angleDeg: jammerDeg[i * 3 + k], jnrDb: jnrDb[i * 3 + k] }));
        for (const j of jammers) {
          expect(Math.abs(Math.sin((j.angleDeg * Math.PI) / 180) - Math.sin((look * Math.PI) / 180))).toBeGreaterThanOrEqual(mainLobe);
          expect(j.jnrDb).toBeGreaterThanOrEqual(20);
          expect(j.jnrDb).toBeLessThanOrEqual(50);
        }
        const rIn = interferenceCovariance({ lookDeg: look, jammers, snapshots: 0 }, steer, M);
        for (let e = 0; e < M * M; e++) {
          expect(interference[(i * M * M + e) * 2]).toBeCloseTo(rIn.re[e], 6);
          expect(interference[(i * M * M + e) * 2 + 1]).toBeCloseTo(rIn.im[e], 6);
        }
      }
    }
    // With weak interferers the same seed gives the same scenes plus interferers after the jammers.
    const weak = await readSource(jammerScenesSource, { scenes: 20, seed: 5, snapshots: [28, 200], weak_jammers: [1, 2], weak_jnr_db: [0, 20] }, '.');
    const [plain, more] = [batches[0], weak.partitions[0].batches[0]];
    expect(tensorValues(more, 'jammer_deg').length).toBe(20 * 5);
    for (let i = 0; i < 20; i++) {
      const [n, extra] = [Number(plain.getChild('jammers')!.get(i)), Number(more.getChild('jammers')!.get(i)) - Number(plain.getChild('jammers')!.get(i))];
      expect(extra).toBeGreaterThanOrEqual(1);
      expect(extra).toBeLessThanOrEqual(2);
      expect(more.getChild('look_deg')!.get(i)).toBe(plain.getChild('look_deg')!.get(i));
      expect(more.getChild('snapshots')!.get(i)).toBe(plain.getChild('snapshots')!.get(i));
      expect([...tensorValues(more, 'jammer_deg').subarray(i * 5, i * 5 + n)]).toEqual([...tensorValues(plain, 'jammer_deg').subarray(i * 3, i * 3 + n)]);
      for (const db of tensorValues(more, 'jnr_db').subarray(i * 5 + n, i * 5 + n + extra)) {
        expect(db).toBeGreaterThanOrEqual(0);
        expect(db).toBeLessThanOrEqual(20);
      }
    }
    const params = beamformerTrain.params.parse({ epochs: 3, seed: 1 });
    const reducer = beamformerTrain.create(params, { inputSchemas: [schema], outputSchema: beamformerTrain.outputSchema({ params, inputs: [schema], baseDir: '.' }), baseDir: '.' });
    for (const b of batches) await reducer.push(b, { input: 0, partition: { index: 0, key: 'scenes' } });
    const [artifact] = [await reducer.end!()].flat() as RecordBatch[];
    const { card } = artifactFromRow(artifact, 0);
    expect(card.input).toEqual({ column: 'spectral_features', shape: [featureCount(M)] });
    expect(card.metrics.epochs).toBe(3);
    const test = card.metrics.test as { scenes: number; lossInGraphDb: number; learned: { sinrLossDb: { mean: number; count: number } } };
    expect(test.scenes).toBe(36);
    // The loss the network trained on (float32, in the graph) and the SINR of the weights the stage
    // would apply (float64, from R_in directly) are the same number.
    expect(test.learned.sinrLossDb.count).toBe(36);
    expect(Math.abs(test.lossInGraphDb - test.learned.sinrLossDb.mean)).toBeLessThan(0.01);
  });
});
