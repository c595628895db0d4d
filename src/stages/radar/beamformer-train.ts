// `radar.beamformer-train`: trains the learned beamformer (lib/spectral-beamformer.ts) on the rows
// of source.jammer-scenes (one input, or two: e.g. training scenes and test scenes drawn otherwise), with the SINR loss against the optimum as the training loss
// (lib/beamformer-training.ts): `train` scenes fit it, `validation` scenes stop it early, `test`
// scenes are measured into the card (SINR loss and null depths of the learned weights beside
// sample-matrix MVDR, loaded MVDR and the conventional beam). Emits the model as one artifact row
// for sink.model; radar.beamform-learned applies it.
import { createHash } from 'node:crypto';
import { Type, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { requireColumn } from '../../arrow/columns.ts';
import { tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { modelToBytes, type ModelCard } from '../../models/artifact.ts';
import { artifactBatch, artifactSchema } from '../../models/artifact-row.ts';
import { modelRuntime } from '../../models/runtime.ts';
import { layerSpec } from '../../models/spec.ts';
import { ColumnTypeError, SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { steeringVector } from './beamform.ts';
import { beamformerWeights, methodSummaries, sceneMetrics } from './lib/beamformer-metrics.ts';
import { meanLossDb, trainBeamformer, type SceneTensors } from './lib/beamformer-training.ts';
import { speedOfLight } from './lib/chirp.ts';
import type { ComplexMatrix } from './lib/covariance.ts';
import { optimumSinr } from './lib/jammer-scene.ts';
import { featureCount, sinrTerms, spectralFeatures, spectrum, type Spectrum } from './lib/spectral-beamformer.ts';

const params = z.object({
  layers: z.array(layerSpec).default([{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 64, activation: 'relu' }]),
  epochs: z.number().int().min(1).default(30),
  batch_size: z.number().int().min(1).default(128),
  learning_rate: z.number().positive().default(2e-3),
  patience: z.number().int().min(0).default(5),
  seed: z.number().int().default(0),
}).strict();

const columns = ['split', 'look_deg', 'snapshots', 'jammer_deg', 'element_spacing_m', 'center_frequency_hz', 'covariance', 'interference'];

/** One scene as training and testing need it. */
interface Row {
  split: string;
  snapshots: number;
  steer: ReturnType<typeof steeringVector>;
  jammers: ReturnType<typeof steeringVector>[];
  covariance: ComplexMatrix;
  interference: ComplexMatrix;
  spectrum: Spectrum;
}

function matrixAt(values: ArrayLike<number>, row: number, m: number): ComplexMatrix {
  const re = new Float64Array(m * m);
  const im = new Float64Array(m * m);
  for (let i = 0; i < m * m; i++) {
    re[i] = values[(row * m * m + i) * 2];
    im[i] = values[(row * m * m + i) * 2 + 1];
  }
  return { re, im };
}

function channelCount(schema: import('apache-arrow').Schema): number {
  for (const c of columns) requireColumn(schema, c);
  const shape = tensorInfo(schema, 'covariance').shape;
  if (shape.length !== 3 || shape[0] !== shape[1] || shape[2] !== 2) throw new ColumnTypeError('covariance', 'a complex [M, M, 2] tensor (as source.jammer-scenes makes)', `shape ${JSON.stringify(shape)}`);
  if (JSON.stringify(tensorInfo(schema, 'interference').shape) !== JSON.stringify(shape)) throw new ColumnTypeError('interference', `shape ${JSON.stringify(shape)} (as covariance)`, JSON.stringify(tensorInfo(schema, 'interference').shape));
  if (requireColumn(schema, 'jammer_deg').type.typeId !== Type.FixedSizeList) throw new ColumnTypeError('jammer_deg', 'a tensor of jammer directions', 'a scalar');
  return shape[0];
}

/** The scenes of one split as the loss needs them. */
function tensorsOf(rows: Row[], m: number): SceneTensors {
  const n = rows.length;
  const f = featureCount(m);
  const t: SceneTensors = { count: n, channels: m, features: new Float32Array(n * f), p: new Float32Array(n * m), k: new Float32Array(n * m * m), optimum: new Float32Array(n) };
  rows.forEach((r, i) => {
    spectralFeatures(r.spectrum, r.snapshots, t.features.subarray(i * f, (i + 1) * f));
    sinrTerms(r.spectrum, r.interference, t.p.subarray(i * m, (i + 1) * m), t.k.subarray(i * m * m, (i + 1) * m * m));
    t.optimum[i] = optimumSinr(r.steer, r.interference);
  });
  return t;
}

export const beamformerTrain = defineReduce({
  name: 'radar.beamformer-train',
  kind: 'reduce',
  version: '1',
  description: 'Trains the learned beamformer (a network shaping the sample covariance\'s eigenvalues) on source.jammer-scenes rows with the SINR loss; emits the artifact row.',
  params,
  inputs: { min: 1, max: 2 },
  outputSchema({ inputs }) {
    const channels = inputs.map(channelCount);
    if (channels.some((m) => m !== channels[0])) throw new SchemaError(`the inputs' scenes are for ${channels.join(' and ')} channels: train and test on one array`);
    return artifactSchema;
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input], progress }) {
    const m = channelCount(input);
    const rows: Row[] = [];
    // What the model was trained on: the scenes' covariances and splits.
    const hash = createHash('sha256');
    return {
      push(batch: RecordBatch) {
        const covariance = tensorValues(batch, 'covariance');
        const interference = tensorValues(batch, 'interference');
        hash.update(new Uint8Array(covariance.buffer, covariance.byteOffset, covariance.byteLength));
        hash.update(new Uint8Array(interference.buffer, interference.byteOffset, interference.byteLength));
        const jammerDeg = tensorValues(batch, 'jammer_deg');
        const most = jammerDeg.length / Math.max(1, batch.numRows);
        for (let i = 0; i < batch.numRows; i++) {
          const get = (c: string) => Number(batch.getChild(c)!.get(i));
          const spacing = (get('element_spacing_m') * get('center_frequency_hz')) / speedOfLight;
          const channels = Array.from({ length: m }, (_, c) => c);
          const steer = steeringVector(channels, spacing, get('look_deg'));
          const r = matrixAt(covariance, i, m);
          const split = String(batch.getChild('split')!.get(i));
          hash.update(split);
          rows.push({
            split, snapshots: get('snapshots'), steer, covariance: r,
            jammers: Array.from(jammerDeg.subarray(i * most, (i + 1) * most)).filter(Number.isFinite).map((deg) => steeringVector(channels, spacing, deg)),
            interference: matrixAt(interference, i, m), spectrum: spectrum(r, m, steer),
          });
        }
      },
      async end() {
        const { tf, backend, version } = await modelRuntime();
        const of = (split: string) => rows.filter((r) => r.split === split);
        const [train, validation, test] = [of('train'), of('validation'), of('test')];
        if (train.length === 0 || validation.length === 0) throw new Error(`training needs 'train' and 'validation' scenes (there are ${train.length} and ${validation.length})`);
        const { model, history, bestEpoch } = await trainBeamformer(tf, tensorsOf(train, m), tensorsOf(validation, m), {
          layers: p.layers, epochs: p.epochs, batchSize: p.batch_size, learningRate: p.learning_rate, patience: p.patience, seed: p.seed,
          onEpoch: (epoch, loss, validationLoss) => progress?.(`epoch ${epoch + 1}/${p.epochs}: SINR loss ${loss.toFixed(3)} dB, validation ${validationLoss.toFixed(3)} dB`),
        });
        try {
          const metrics: Record<string, unknown> = { epochs: history.length, bestEpoch, history };
          if (test.length > 0) {
            const t = tensorsOf(test, m);
            const y = tf.tidy(() => (model.predict(tf.tensor2d(t.features, [test.length, featureCount(m)])) as import('@tensorflow/tfjs').Tensor).dataSync());
            metrics.test = {
              scenes: test.length, lossInGraphDb: meanLossDb(tf, model, t),
              ...methodSummaries(test.map((r, i) => sceneMetrics(beamformerWeights(r.covariance, r.spectrum, y.subarray(i * m, (i + 1) * m), r.steer), r.steer, r.interference, r.jammers))),
            };
          }
          const card: ModelCard = {
            format: 'quiver-model/1', task: 'regression',
            input: { column: 'spectral_features', shape: [featureCount(m)] }, output: { column: 'log_gains', shape: [m] },
            normalisation: { mean: 0, std: 1 },
            trainingData: { sha256: hash.digest('hex'), rows: rows.length },
            params: { ...p, channels: m, loss: 'SINR loss against the optimum, dB', frame: 'spectral: w ∝ U diag(exp(y)/λ̃) Uᴴ a (src/stages/radar/lib/spectral-beamformer.ts)' },
            seed: p.seed, metrics, versions: { tfjs: version, backend, node: process.version },
          };
          return artifactBatch(await modelToBytes(tf, model, card));
        } finally {
          model.dispose();
        }
      },
    };
  },
});
