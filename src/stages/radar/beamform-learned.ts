// `radar.beamform-learned`: adaptive beamforming with the learned beamformer that
// radar.beamformer-train made (data/models/mountaintop-beamformer): per CPI, the sample covariance
// of all its snapshots (every pulse and range sample), its eigendecomposition, and for each
// steering angle the network's gains on the eigenvalues (lib/spectral-beamformer.ts); the weights
// are scaled to unit gain at the steering angle, and the beams come out as radar.beamform's do.
// The artifact is loaded once per worker; its hash is part of the cache key.
import type { RecordBatch } from 'apache-arrow';
import type { Tensor } from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { artifactHash, loadModel, readArtifactBytes } from '../../models/artifact.ts';
import { modelRuntime } from '../../models/runtime.ts';
import { defineMap } from '../../workflow/stage.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { beamBatch, beamSchema, cpiChannels, steeringVector } from './beamform.ts';
import { sampleCovariance } from './lib/covariance.ts';
import { cubeShape } from './lib/cube.ts';
import { featureCount, spectralFeatures, spectralWeights, spectrum } from './lib/spectral-beamformer.ts';

const params = z.object({
  model: z.string().min(1).describe('the learned beamformer\'s folder (radar.beamformer-train + sink.model), relative to the workflow folder'),
  angle_deg: z.union([z.number(), z.array(z.number()).min(1)]).default(0).describe('steering angle(s) from broadside, degrees; one beam each'),
}).strict();

/** The channel count the artifact was trained for; an error if it is not a learned beamformer. */
function modelChannels(dir: string): number {
  const { card } = readArtifactBytes(dir);
  const channels = card.params.channels;
  if (card.input.column !== 'spectral_features' || typeof channels !== 'number' || card.input.shape[0] !== featureCount(channels)) {
    throw new SchemaError(`${dir} is not a learned beamformer (radar.beamformer-train makes them): its model takes '${card.input.column}'`);
  }
  return channels;
}

export const beamformLearned = defineMap({
  name: 'radar.beamform-learned',
  kind: 'model',
  version: '1',
  description: 'Adaptive beamforming by a trained network that shapes the eigenvalues of each CPI\'s sample covariance; unit gain at each steering angle.',
  params,
  reads: (p) => [p.model],
  fingerprint: (p, { baseDir }) => artifactHash(resolve(baseDir, p.model)),
  outputSchema({ params: p, inputs: [input], baseDir }) {
    modelChannels(resolve(baseDir, p.model));
    return beamSchema(input);
  },
  async create(p, { inputSchema, outputSchema, baseDir }) {
    const dir = resolve(baseDir, p.model);
    const m = modelChannels(dir);
    const { tf } = await modelRuntime();
    const model = await loadModel(tf, readArtifactBytes(dir));
    const { pulses, samples } = cubeShape(inputSchema);
    const snapshots = pulses * samples;
    const angles = Array.isArray(p.angle_deg) ? p.angle_deg : [p.angle_deg];
    const f = featureCount(m);
    return async (batch: RecordBatch) => {
      const cpis = cpiChannels(batch, snapshots);
      const weights = [];
      for (const cpi of cpis) {
        if (cpi.channels.length !== m) throw new Error(`radar.beamform-learned: a CPI has ${cpi.channels.length} channels, and the model ${p.model} was trained for ${m}`);
        const r = sampleCovariance(cpi.x, m, snapshots);
        const steers = angles.map((angle) => steeringVector(cpi.channels, cpi.spacing, angle));
        const spectra = steers.map((steer) => spectrum(r, m, steer));
        const features = new Float32Array(angles.length * f);
        spectra.forEach((s, i) => spectralFeatures(s, snapshots, features.subarray(i * f, (i + 1) * f)));
        const output = tf.tidy(() => model.predict(tf.tensor2d(features, [angles.length, f])) as Tensor);
        const y = (await output.data()) as Float32Array;
        output.dispose();
        weights.push(spectra.map((s, i) => spectralWeights(s, y.subarray(i * m, (i + 1) * m), steers[i])));
      }
      return beamBatch(batch, outputSchema, cpis, angles, weights);
    };
  },
});
