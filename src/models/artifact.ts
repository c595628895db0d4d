// Model artifacts: a folder holding the TensorFlow.js layers model (`model.json` + `weights.bin`)
// and `quiver-model.json`, the card: which Arrow columns go in and come out with which shapes,
// normalisation constants, the decision threshold, the training data's hash, params, seed, metrics
// and library versions. Inside a workflow an artifact travels as one row (`model`, `weights`,
// `card`); `sink.model` writes that row as the folder, `model.predict` reads the folder.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { io, LayersModel } from '@tensorflow/tfjs';
import type { Tfjs } from './runtime.ts';

export interface ModelCard {
  format: 'quiver-model/1';
  task: 'binary-classification' | 'regression';
  /** The input column and the shape of one row's value (a tensor's shape, or [] for a number). */
  input: { column: string; shape: number[] };
  /** `score` (one number a row), or a tensor column of `shape` (an image or vector target). */
  output: { column: string; shape?: number[] };
  /** Inputs are standardised as (x - mean) / std before the model sees them; outputs are multiplied by labelScale (1 when absent). */
  normalisation: { mean: number; std: number; labelScale?: number };
  /** For classifiers: score ≥ threshold means positive; set for a false-alarm rate on validation negatives. */
  threshold?: { value: number; pfa: number; validationNegatives: number };
  /** For classifiers trained with `calibrate`: thresholds for other false-alarm rates, set the same way. */
  calibration?: { value: number; pfa: number; validationNegatives: number }[];
  trainingData: { sha256: string; rows: number };
  params: Record<string, unknown>;
  seed: number;
  metrics: Record<string, unknown>;
  versions: { tfjs: string; backend: string; node: string };
}

/** A model as bytes: the parts of model.json, the weights, and the card. */
export interface ModelBytes {
  model: string;
  weights: Uint8Array;
  card: ModelCard;
}

export async function modelToBytes(tf: Tfjs, model: LayersModel, card: ModelCard): Promise<ModelBytes> {
  let saved: io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  }));
  const { modelTopology, weightSpecs, weightData } = saved!;
  const weights = new Uint8Array(weightData as ArrayBuffer);
  const json = { format: 'layers-model', generatedBy: `TensorFlow.js ${card.versions.tfjs}`, convertedBy: null, modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs }] };
  return { model: JSON.stringify(json), weights, card };
}

export function readArtifactBytes(dir: string): ModelBytes {
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name));
    } catch {
      throw new Error(`${dir} is not a model artifact: it has no ${name}`);
    }
  };
  const card = JSON.parse(read('quiver-model.json').toString('utf8')) as ModelCard;
  if (card.format !== 'quiver-model/1') throw new Error(`${join(dir, 'quiver-model.json')}: format ${JSON.stringify(card.format)} is not quiver-model/1`);
  return { model: read('model.json').toString('utf8'), weights: new Uint8Array(read('weights.bin')), card };
}

/** What identifies an artifact: the sha256 of its three files. Part of the cache key of every stage using it. */
export function artifactHash(dir: string): string {
  const hash = createHash('sha256');
  for (const name of ['model.json', 'weights.bin', 'quiver-model.json']) hash.update(name).update(readFileSync(join(dir, name)));
  return hash.digest('hex');
}

export async function loadModel(tf: Tfjs, bytes: ModelBytes): Promise<LayersModel> {
  const json = JSON.parse(bytes.model) as { modelTopology: object; weightsManifest: { weights: io.WeightsManifestEntry[] }[] };
  const weightData = bytes.weights.buffer.slice(bytes.weights.byteOffset, bytes.weights.byteOffset + bytes.weights.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }));
}
